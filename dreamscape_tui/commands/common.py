"""Steps every command shares: resolve the project path, load its config, open its store,
take the project's lock."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dreamscape_tui.core.config import Config, load_config
from dreamscape_tui.core.errors import UsageError
from dreamscape_tui.core.events import EventSink
from dreamscape_tui.core.store import Store, StoreError

if TYPE_CHECKING:
    from dreamscape_tui.core.lock import ProjectLock
    from dreamscape_tui.core.pool import SessionPool


def project_root(path: str) -> Path:
    """The project directory named on the command line, or a UsageError naming it."""
    root = Path(path).expanduser()
    if not root.exists():
        raise UsageError(f"{path}: no such directory")
    if not root.is_dir():
        raise UsageError(f"{path}: not a directory")
    return root.resolve()


def config_for(args: argparse.Namespace, root: Path | None) -> Config:
    """The layered config for ``root``, with ``--config`` on top."""
    explicit = Path(args.config).expanduser() if getattr(args, "config", None) else None
    return load_config(root, explicit)


def lock_project(root: Path, *words: str) -> ProjectLock:
    """Hold ``root``'s lock until exit, or raise ProjectLocked (exit 2) naming its holder.

    Taken by every command that writes the project's files or state, before it opens the
    store: two such processes on one project would undo each other's work
    (docs/architecture.md#project-lock).
    ``words`` name the command in the record a second process reads (``heal --headless``).
    """
    from dreamscape_tui.core.lock import ProjectLock, command_line

    return ProjectLock.acquire(root, command_line([*words, str(root)]))


def open_store(root: Path) -> Store | None:
    """The project's store, or None (with a warning) where it cannot be opened.

    A read-only project can still be scanned; it just gets no cache.
    """
    try:
        store = Store.for_project(root)
    except (StoreError, OSError) as exc:
        warn(f"no cache: {exc}")
        return None
    if store.recovered_to is not None:
        warn(f"{store.path} was corrupt; moved to {store.recovered_to} and rebuilt")
    return store


def pool_factory(config: Config, sink: EventSink) -> SessionPool:
    """The browser pool for webchat models, with the saved login cookies.

    It starts its browsers on first use, so commands that only use openai-api models
    never start one.
    """
    from dreamscape_tui.core.config import webchat_urls
    from dreamscape_tui.core.cookies import default_cookies_path, load_cookies
    from dreamscape_tui.core.pool import SessionPool

    path = default_cookies_path(config.sessions)
    cookies = load_cookies(path) if path.exists() else None
    return SessionPool(config.sessions, config.webchat, sink, cookies=cookies,
                       sites=webchat_urls(config))


def warn(message: str) -> None:
    print(f"dreamscape: warning: {message}", file=sys.stderr)
