"""``dreamscape [PATH]``: open the TUI on a project (the engine starts on its own).

The TUI heals, so it holds the project's lock (core/lock.py) and a second one exits 2
naming the holder. ``--read-only`` takes no lock: it shows the state and the scan beside
whichever process heals, and says so in its status.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dreamscape_tui.commands.common import config_for, lock_project, pool_factory, project_root
from dreamscape_tui.core.config import Config
from dreamscape_tui.core.lock import ProjectLock

READ_ONLY_ALONE = "opened with --read-only"


def run_tui(args: argparse.Namespace) -> int:
    root = project_root(args.path)
    config = config_for(args, root)
    read_only: str | None = None
    lock: ProjectLock | None = None
    if args.read_only:
        busy = ProjectLock.held_by(root)
        read_only = f"{busy.describe()} holds this project" if busy else READ_ONLY_ALONE
    else:
        lock = lock_project(root)  # before the engine opens the store
    try:
        return _run_app(root, config, read_only)
    finally:
        if lock is not None:
            lock.release()


def _run_app(root: Path, config: Config, read_only: str | None) -> int:
    from dreamscape_tui.app import create_app  # textual is imported only for the TUI

    app = create_app(root, config, session_factory=pool_factory, read_only=read_only)
    try:
        app.run()
    finally:
        app.engine.close()  # idempotent: q already closed it; a crash has not
    return app.return_code or 0  # 128 + signal number after SIGTERM/SIGHUP
