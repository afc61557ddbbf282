"""``dreamscape [PATH]``: open the TUI on a project (the engine starts on its own)."""

from __future__ import annotations

import argparse

from dreamscape_tui.commands.common import config_for, pool_factory, project_root


def run_tui(args: argparse.Namespace) -> int:
    root = project_root(args.path)
    config = config_for(args, root)
    from dreamscape_tui.app import create_app  # textual is imported only for the TUI

    app = create_app(root, config, session_factory=pool_factory)
    try:
        app.run()
    finally:
        app.engine.close()  # idempotent: q already closed it; a crash has not
    return app.return_code or 0  # 128 + signal number after SIGTERM/SIGHUP
