"""Continuous healing in the TUI: a watcher in a thread worker feeds recheck passes.

After the first frame, when ``[engine] watch`` is on and the session may write, a
``core.watch.ProjectWatcher`` runs in a daemon thread of its own, started together with
the first engine pass so a file saved while it runs is not lost. (Not a Textual worker:
it never finishes while the app runs, and whoever waits for the app's workers to settle,
the tests' ``settle`` for one, would wait for ever.) Each
debounced batch is posted to the app as ``FilesSaved``; the app keeps one set of pending
paths and runs ``engine.recheck`` on them in an ordinary engine pass as soon as no other
pass runs, so rechecks, heals, rescans (``r``) and decisions never overlap. The status
bar says "watching" while the engine is idle and the watcher waits.

The watcher stops within a tick of the app closing (``q``, a signal, a lost terminal,
an unmount); the engine's cancel is not its stop, because a rescan sets that cancel only
to restart the pass.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.message import Message

from dreamscape_tui.core.events import EngineLog
from dreamscape_tui.core.testrun import TestRunCancelled
from dreamscape_tui.core.watch import ProjectWatcher, WatchError

if TYPE_CHECKING:
    from dreamscape_tui.app import DreamscapeApp

__all__ = ["FilesSaved", "Watching"]

WATCHING = "watching"  # the status bar's word


class FilesSaved(Message):
    """One debounced batch of changed paths (root-relative), from the watch worker."""

    def __init__(self, paths: tuple[str, ...]) -> None:
        super().__init__()
        self.paths = paths


class _Stop:
    """The watcher's stop: the app is closing."""

    def __init__(self, app: DreamscapeApp) -> None:
        self.app = app

    def is_set(self) -> bool:
        return self.app.closing


class Watching:
    """The app's side of continuous healing (see the module docs)."""

    def __init__(self, app: DreamscapeApp) -> None:
        self.app = app
        self.pending: set[str] = set()
        self.backend = ""  # "native" or "poll" once the watcher runs
        self.thread: threading.Thread | None = None
        self._stop = _Stop(app)

    @property
    def enabled(self) -> bool:
        app = self.app
        return app.config.engine.watch and app.read_only is None and app.autostart

    @property
    def active(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self) -> None:
        """Start the watch thread (once), if this session watches."""
        if self.enabled and self.thread is None:
            self.thread = threading.Thread(target=self._watch, name="watch", daemon=True)
            self.thread.start()

    def _watch(self) -> None:
        """In the watch thread: post each batch until the stop is set."""
        app = self.app
        watcher = ProjectWatcher(app.root, app.config.scanner, app.config.engine,
                                 stop=self._stop, sink=app.engine.sink)
        try:
            self.backend = watcher.start()
            app.engine.sink(EngineLog(f"watching for saved files ({self.backend})"))
            for batch in watcher.batches():
                app.post_message(FilesSaved(batch))
        except WatchError as exc:  # watcher = "native" where there are no native events
            app.engine.sink(EngineLog(f"not watching: {exc}", "error"))
        except Exception as exc:  # a bug must not pass silently in a thread
            app.engine.sink(EngineLog(f"watching stopped: {type(exc).__name__}: {exc}",
                                      "error"))
        finally:
            watcher.join(1.0)

    def saved(self, paths: tuple[str, ...]) -> None:
        """On the UI thread: queue ``paths``; recheck now if the engine is free."""
        if self.app.closing:
            return
        self.pending.update(paths)
        if not self.app.engine_busy():
            self.recheck()

    def recheck(self) -> bool:
        """Start a recheck pass of the pending paths; False if there are none."""
        if not self.pending:
            return False
        paths = tuple(sorted(self.pending))
        self.pending.clear()
        self.app._engine_pass(run="recheck", paths=paths)
        return True

    def run(self, paths: tuple[str, ...]) -> None:
        """In an engine pass (a thread worker): recheck ``paths``."""
        try:
            self.app.engine.recheck(paths)
        except TestRunCancelled:
            if not self.app.cancel.is_set():
                raise  # else a rescan or a quit stopped it: not an error

    def resumed(self) -> None:
        """Healing resumed: a recheck while paused queued items without healing them."""
        if self.active:
            self.app.ensure_healing()

    def status(self) -> str:
        """The status bar's watch word: only while the engine is idle and watching."""
        return WATCHING if self.active and self.app.phase == "idle" else ""
