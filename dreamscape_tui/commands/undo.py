"""``dreamscape undo``: restore the backup of the latest (or a given) heal."""

from __future__ import annotations

import argparse

from dreamscape_tui.commands.common import project_root
from dreamscape_tui.core.apply import undo
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.store import Store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="project directory")
    parser.add_argument("--heal", metavar="ID", help="the heal to undo (default: the latest)")


def run(args: argparse.Namespace) -> int:
    root = project_root(args.path)
    with Store.for_project(root) as store:
        heal_id, path = undo(root, HealStore(store), args.heal)
    print(f"restored {path} as it was before heal {heal_id}")
    return 0
