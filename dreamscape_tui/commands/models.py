"""``dreamscape models``: the registry's models and the escalation ladder; with
``--stats``, what the learning loop recorded in a project's heal journal."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dreamscape_tui.commands.common import config_for, project_root
from dreamscape_tui.core.errors import UsageError
from dreamscape_tui.core.registry import ModelRegistry

STATS_COLUMNS = (("model", "<16"), ("kind", "<8"), ("format", "<15"), ("tries", ">5"),
                 ("validated", ">9"), ("kept", ">5"), ("rate", ">5"), ("secs", ">7"),
                 ("tokens", ">8"), ("cost", ">9"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=None,
                        help="project directory (only with --stats; default: .)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--stats", action="store_true",
                        help="per model x failure kind x edit format: tries, validated, "
                             "kept, rate, mean seconds, tokens, cost (read-only)")


def run(args: argparse.Namespace) -> int:
    if args.stats:
        return stats(args)
    if args.path is not None:
        raise UsageError("dreamscape models: a PATH is read only with --stats "
                         "(see dreamscape models --help)")
    registry = ModelRegistry(config_for(args, None))
    rows = registry.describe()
    if args.json:
        json.dump({"models": rows, "ladder": [m.name for m in registry.ladder]}, sys.stdout)
        sys.stdout.write("\n")
        return 0
    for row in rows:
        rung = f"#{row['ladder_position']}" if row["ladder_position"] else "-"
        limits = []
        if row["max_lines"]:
            limits.append(f"<= {row['max_lines']} lines")
        if row["max_complexity"]:
            limits.append(f"cc <= {row['max_complexity']}")
        print(f"{rung:>3}  {row['name']:<16} {row['kind']:<11} {row['url']}"
              + (f"  ({', '.join(limits)})" if limits else ""))
    print("ladder: " + " -> ".join(m.name for m in registry.ladder))
    return 0


def stats(args: argparse.Namespace) -> int:
    """The learning statistics of the project at ``args.path``. The journal is opened
    read-only: no lock is taken, nothing is written (it works beside a running TUI)."""
    from dreamscape_tui.core import learning
    from dreamscape_tui.core.healstore import HealStore

    root = project_root(args.path or ".")
    config = config_for(args, root)
    ladder = [m.name for m in ModelRegistry(config).ladder]
    heals = HealStore.for_project(root, read_only=True)
    try:
        table = heals.stats()
    finally:
        heals.close()
    rows = learning.rows(table, ladder)
    models = learning.summary(table, ladder, config.learning.min_tries)
    if args.json:
        json.dump({"stats": rows, "models": models, "ladder": ladder}, sys.stdout)
        sys.stdout.write("\n")
        return 0
    if not rows:
        print(f"no heal attempts recorded in {_journal(root)}")
        return 0
    print(" ".join(f"{name:{spec}}" for name, spec in STATS_COLUMNS).rstrip())
    for row in rows:
        cells = {**row, "format": row["format"] or "-", "rate": _percent(row["rate"]),
                 "secs": _number(row["mean_seconds"], "{:.1f}"),
                 "cost": _number(row["cost"], "{:.4f}")}
        print(" ".join(f"{cells[name]!s:{spec}}" for name, spec in STATS_COLUMNS).rstrip())
    print()
    for model in models:
        best = f"; asked for {model['best_format']}" if model["best_format"] else ""
        mean = model["mean_seconds"]
        latency = f", {mean:.1f} s per answer" if isinstance(mean, float | int) else ""
        print(f"{model['model']}: {model['tries']} tries, {model['kept']} kept "
              f"({_percent(model['rate'])}){latency}, {model['tokens']} tokens, "
              f"cost {model['cost']:.4f}{best}")
    print("ladder: " + " -> ".join(ladder))
    return 0


def _journal(root: Path) -> str:
    from dreamscape_tui.core.healstore import JOURNAL_FILE, STATE_DIR

    return str(root / STATE_DIR / JOURNAL_FILE)


def _percent(rate: object) -> str:
    return f"{rate:.0%}" if isinstance(rate, float | int) else "-"


def _number(value: object, spec: str) -> str:
    return spec.format(value) if isinstance(value, float | int) else "-"
