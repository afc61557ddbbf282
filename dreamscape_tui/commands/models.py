"""``dreamscape models``: the registry's models and the escalation ladder."""

from __future__ import annotations

import argparse
import json
import sys

from dreamscape_tui.commands.common import config_for
from dreamscape_tui.core.registry import ModelRegistry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
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
