"""``dreamscape undo``: restore the backup of the latest (or a given) heal."""

from __future__ import annotations

import argparse

from dreamscape_tui.commands.common import lock_project, project_root
from dreamscape_tui.core.apply import undo
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.healtypes import parse_heal_id


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="project directory")
    parser.add_argument("--heal", metavar="ID", help="the heal to undo (default: the latest)")


def run(args: argparse.Namespace) -> int:
    root = project_root(args.path)
    heal_id = None if args.heal is None else parse_heal_id(args.heal)
    with lock_project(root, "undo"):
        heals = HealStore.for_project(root)
        try:
            item = undo(root, heals, heal_id)
        finally:
            heals.close()
    print(f"restored {item.path} as it was before heal {item.label}")
    return 0
