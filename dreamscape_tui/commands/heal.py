"""``dreamscape heal --headless``: check, heal to completion, print what happened.

Exit 0 when nothing is left to review, 3 when escalations are pending
(docs/architecture.md#exit-codes).

``--watch`` keeps going after the first pass (a long-running healer): every batch of
saved files is rechecked and healed (``AutomationEngine.recheck``) until SIGTERM/SIGHUP
(exit 128 + signal) or Ctrl-C (130). With ``--json`` stdout is newline-delimited: the
first pass's summary object, then one object per recheck that did something (the same
keys plus ``watch``: changed, deleted, tests, settled, queued).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dreamscape_tui.commands.common import (
    config_for,
    lock_project,
    pool_factory,
    project_root,
    warn,
)
from dreamscape_tui.core.config import Config
from dreamscape_tui.core.engine import AutomationEngine, HealSummary
from dreamscape_tui.core.errors import UsageError
from dreamscape_tui.core.heal import HealOptions
from dreamscape_tui.core.healtypes import parse_heal_id
from dreamscape_tui.core.recheck import Recheck
from dreamscape_tui.core.registry import ModelRegistry

EXIT_ATTENTION = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="project directory")
    parser.add_argument("--headless", action="store_true",
                        help="run without the TUI, to completion")
    parser.add_argument("--json", action="store_true", help="print the JSON summary")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate fixes but change no file and keep no state")
    parser.add_argument("--max-attempts", type=int, metavar="N",
                        help="attempts per failure before it escalates")
    parser.add_argument("--model", metavar="NAME", help="use only this model")
    parser.add_argument("--watch", action="store_true",
                        help="after the first pass keep watching: recheck and heal files "
                             "as they are saved, until SIGTERM or Ctrl-C")


def run(args: argparse.Namespace) -> int:
    if not args.headless:
        raise UsageError("heal runs in the TUI by default: use `dreamscape PATH`, "
                         "or `dreamscape heal --headless` to run without it")
    if args.max_attempts is not None and args.max_attempts < 1:
        raise UsageError("--max-attempts: expected a number of at least 1")
    root = project_root(args.path)
    config = config_for(args, root)
    if args.model:
        ModelRegistry(config).get(args.model)  # a clear error before any work starts
    # A dry run writes nothing into the project, so it takes no lock and may run beside
    # a process that heals; every other heal holds the lock until this process ends.
    lock = None if args.dry_run else lock_project(root, "heal", "--headless")
    try:
        return _heal(args, root, config)
    finally:
        if lock is not None:
            lock.release()


def _heal(args: argparse.Namespace, root: Path, config: Config) -> int:
    engine = AutomationEngine(root, config, dry_run=args.dry_run, session_factory=pool_factory,
                              sink=None if args.json else _progress)
    from dreamscape_tui.core.signals import EXIT_DEADLINE_S, install_signal_handlers

    # SIGTERM/SIGHUP: quit the browsers and exit 128+signo, and be gone within the
    # deadline even if that hangs (a dropped SSH session leaves nobody to wait for us).
    restore = install_signal_handlers(engine, flush=engine.store.close,
                                      deadline_s=EXIT_DEADLINE_S)
    options = HealOptions(dry_run=args.dry_run, max_attempts=args.max_attempts,
                          model=args.model)
    try:
        if args.watch:
            return _watch(args, root, config, engine, options)
        summary = engine.run_all(options)
    finally:
        restore()
        engine.close()
    if engine.store.recovered_to is not None:
        warn(f"{engine.store.path} was corrupt; moved to {engine.store.recovered_to}")
    if args.json:
        json.dump(summary.to_json(), sys.stdout)
        sys.stdout.write("\n")
    else:
        _print_summary(summary)
    for error in summary.stats["check_errors"]:
        print(f"dreamscape: a check could not run: {error}", file=sys.stderr)
    if summary.escalated:
        return EXIT_ATTENTION
    return 1 if summary.stats["check_errors"] else 0


def _watch(args: argparse.Namespace, root: Path, config: Config, engine: AutomationEngine,
           options: HealOptions) -> int:
    """The first pass, then every batch of saved files until a signal ends the process
    (the engine's cancel stops the watcher; the handlers raise SystemExit)."""
    from dreamscape_tui.core.watch import ProjectWatcher

    watcher = ProjectWatcher(root, config.scanner, config.engine, stop=engine.cancel,
                             sink=engine.sink)
    backend = watcher.start()  # before the first pass: a save during it is not lost
    summary = engine.run_all(options)
    if args.json:
        _json_line(summary.to_json())
    else:
        _print_summary(summary)
    print(f"watching {root} for changes ({backend}); Ctrl-C stops", file=sys.stderr)
    sys.stdout.flush()

    def on_pass(result: Recheck) -> None:
        if args.json:
            _json_line(result.to_json())
            return
        queued = set(result.queued)
        news = HealSummary(
            healed=result.summary.healed if result.summary else [],
            escalated=[e for e in (result.summary.escalated if result.summary else [])
                       if parse_heal_id(e["id"]) in queued])
        for item in result.settled:
            print(f"dropped    {item.label:<5} {item.path}  {item.reason}")
        if news.healed or news.escalated or not result.settled:
            _print_summary(news)
        sys.stdout.flush()

    engine.watch(watcher, options, on_pass)
    return 0  # the watcher stopped without a signal (it never does on its own)


def _json_line(data: dict[str, object]) -> None:
    json.dump(data, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()


def _progress(event: object) -> None:
    from dreamscape_tui.core.events import EngineLog

    if isinstance(event, EngineLog):
        print(event.text, file=sys.stderr)


def _print_summary(summary: HealSummary) -> None:
    for item in summary.healed:
        print(f"healed     {item['id']:<5} {item['path']}  ({item['model']}, "
              f"attempt {item['attempts']}; backup {item['backup']})")
    for item in summary.escalated:
        print(f"escalated  {item['id']:<5} {item['path']}  {item['reason']}")
    if not summary.healed and not summary.escalated:
        print("nothing to heal")
