"""``dreamscape [PATH]``: open the TUI on a project."""

from __future__ import annotations

import argparse

from dreamscape_tui.commands.common import config_for, project_root


def run_tui(args: argparse.Namespace) -> int:
    root = project_root(args.path)
    config = config_for(args, root)
    from dreamscape_tui.app import create_app  # textual is imported only for the TUI

    create_app(root, config).run()
    return 0
