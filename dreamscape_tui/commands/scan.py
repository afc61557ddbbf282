"""``dreamscape scan``: rank a project's files by radon metrics.

It runs beside a TUI or a heal of the same project: it writes the scan cache only while
it holds the project's lock (``core/lock.py``), and otherwise reads the cache and
writes nothing (the lock holder keeps it up to date).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from dreamscape_tui.commands.common import config_for, project_root, warn
from dreamscape_tui.core.config import with_scanner_flags
from dreamscape_tui.core.scanner import ProjectScanner, ScanReport
from dreamscape_tui.core.store import STATE_DIR, Store, StoreError
from dreamscape_tui.core.trendlog import record_scan
from dreamscape_tui.core.trends import HISTORY_FILE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="project directory")
    parser.add_argument("--json", action="store_true", help="print the JSON report")
    parser.add_argument("--ignore", action="append", metavar="PATTERN", default=[],
                        help="gitignore-style pattern, root-relative (repeatable)")
    parser.add_argument("--no-ignore", action="store_true",
                        help="ignore no files but .git and .dreamscape")
    parser.add_argument("--no-cache", action="store_true", help="re-analyse every file")
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="analysis processes (0 = one per core)")
    parser.add_argument("--since", metavar="REF",
                        help="report per-file deltas against a git ref, or 'last' (the "
                             "previous recorded scan)")
    parser.add_argument("--fail-on-worse", action="store_true",
                        help="with --since: exit 3 if a file got worse")


def run(args: argparse.Namespace) -> int:
    root = project_root(args.path)
    config = with_scanner_flags(
        config_for(args, root),
        ignore=args.ignore,
        no_ignore=args.no_ignore,
        no_cache=args.no_cache,
        jobs=args.jobs,
    )
    since = None
    if args.since is not None or args.fail_on_worse:  # git and the history: only then
        from dreamscape_tui.core.baseline import prepare

        since = prepare(root, args.since, args.fail_on_worse, config.scanner, root / STATE_DIR)
    store = open_cache(root) if config.scanner.cache else None
    claim = CacheClaim(root, store)
    try:
        report = ProjectScanner(root, config.scanner, store, claim_store=claim).scan()
        if store is not None:  # the trend history, under the same lock (core/trends.py)
            cache = store
            record_scan(cache.path.parent / HISTORY_FILE, report,
                        config.scanner.history_scans,
                        writable=lambda: not cache.read_only or claim())
    finally:
        if store is not None:
            store.close()  # the scanner wrote the cache already (if it changed)
        claim.release()
    if store is not None and store.recovered_to is not None:
        warn(f"{store.path} was corrupt; moved to {store.recovered_to} and rebuilt")
    elif store is not None and store.corrupt:
        warn(f"{store.path} is corrupt; scanned without it (another process holds the "
             f"project's lock)")
    for line in report.warnings:  # churn could not be counted (core/churn.py), and why
        warn(line)
    comparison = since.compare(report) if since is not None else None
    if args.json:
        # json.dumps uses the C encoder; json.dump to a stream would not (3x slower). The
        # report is a fresh tree: no need to check it for cycles (10 % of the encoding).
        data = report.to_json()
        if comparison is not None:
            data["since"] = comparison.to_json()
        text = json.dumps(data, ensure_ascii=False, check_circular=False)
        sys.stdout.write(text + "\n")
    else:
        print_table(report)
        if comparison is not None:
            sys.stdout.write(comparison.table())
    if comparison is not None and args.fail_on_worse and comparison.worse:
        sys.stdout.flush()
        print(f"dreamscape: {comparison.verdict()}", file=sys.stderr)
        return 3  # needs attention: a file got worse
    return 0


def open_cache(root: Path) -> Store | None:
    """The scan cache, read-only until ``CacheClaim`` makes it writable; None (with a
    warning) where it cannot be opened: the project is scanned without a cache."""
    try:
        return Store.for_project(root, read_only=True)
    except (StoreError, OSError) as exc:
        warn(f"no cache: {exc}")
        return None


class CacheClaim:
    """The project lock, taken only when the scan has a changed cache to write.

    So a scan of an unchanged project takes no lock and writes nothing, and a long scan
    never holds the lock while it analyses. A scan beside a process that holds the lock
    (the TUI, a heal) reads the cache and writes nothing: the holder keeps it current.
    """

    def __init__(self, root: Path, store: Store | None) -> None:
        self.root, self.store = root, store
        self._release: Callable[[], None] | None = None

    def __call__(self) -> bool:
        if self.store is None or self._release is not None:
            return False
        from dreamscape_tui.core.lock import ProjectLock, command_line  # only to write

        lock = ProjectLock.try_acquire(self.root, command_line(["scan", str(self.root)]))
        if lock is None:  # held by another process, or not creatable: write nothing
            return False
        self._release = lock.release
        self.store.make_writable()
        return True

    def release(self) -> None:
        if self._release is not None:
            self._release()


def print_table(report: ScanReport) -> None:
    """The ranked table for people: riskiest first."""
    out = sys.stdout
    width = max((len(f.path) for f in report.files), default=4)
    out.write(f"{'score':>6}  {'rank':<4} {'cc_max':>6} {'MI':>6}  {'lloc':>6}  path\n")
    for f in report.files:
        m = f.metrics
        out.write(f"{f.score:6.3f}  {m.cc_rank:<4} {m.cc_max:6d} {m.mi:6.1f}  {m.lloc:6d}  "
                  f"{f.path:<{width}}\n")
    for s in report.skipped:
        out.write(f"{'-':>6}  {'-':<4} {'-':>6} {'-':>6}  {'-':>6}  {s.path}  ({s.reason})\n")
    st = report.stats
    if st is not None:
        out.write(f"\n{st.files} files: {st.analyzed} analysed ({st.cached} from cache), "
                  f"{st.skipped} skipped, {st.seconds:.2f} s\n")
