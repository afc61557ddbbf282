"""How the TUI stops: ``q``, SIGTERM/SIGHUP, and its terminal going away (issue 8).

``q`` cancels the workers, quits the browsers, waits up to :data:`QUIT_WAIT_S` for heals
to finish their current step, flushes the store and exits. A signal or a lost terminal
(an SSH session that dropped) does the same without waiting for anyone: the engine's
cancel stops pytest at once and quitting the browsers makes in-flight model calls
fail, so :data:`HANGUP_WAIT_S` is plenty; an :class:`ExitGuard` ends the process anyway
:data:`~dreamscape_tui.core.signals.EXIT_DEADLINE_S` seconds after the signal, killing
whatever it started, in case the event loop or a thread is stuck.

The signal handlers are Python-level (``signal.signal``), not the event loop's
``add_signal_handler``: those only write a byte for the loop to read, which never
happens when the loop is blocked; Python-level handlers run on the main thread between
bytecodes, including while it waits on a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from textual import constants

from dreamscape_tui.core.signals import ExitGuard

if TYPE_CHECKING:
    from textual.driver import Driver

    from dreamscape_tui.app import DreamscapeApp

__all__ = ["HANGUP_WAIT_S", "QUIT_WAIT_S", "Quitter", "hangup_driver"]

QUIT_WAIT_S = 30.0  # how long q waits for heals to finish their current step
HANGUP_WAIT_S = 4.0  # a signal or a lost terminal: the whole graceful quit, bounded
POLL_S = 0.05
SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def hangup_driver() -> type[Driver] | None:
    """:class:`~dreamscape_tui.terminal.HangupDriver` where Textual would use its Linux
    driver; None on Windows or when ``TEXTUAL_DRIVER`` names another one."""
    if sys.platform == "win32" or constants.DRIVER:
        return None
    from dreamscape_tui.terminal import HangupDriver

    return HangupDriver


class Quitter:
    """Stops one app's engine and the app itself, in bounded time (see module docs)."""

    def __init__(self, app: DreamscapeApp) -> None:
        self.app = app
        self.guard = ExitGuard(flush=app.engine.store.close)
        self._until = float("inf")  # time.monotonic() by which the quit must be done
        self._loop: asyncio.AbstractEventLoop | None = None
        with contextlib.suppress(RuntimeError):
            self._loop = asyncio.get_running_loop()

    def install(self) -> None:
        """SIGTERM and SIGHUP quit the app (call on the main thread, in the loop)."""
        self._loop = asyncio.get_running_loop()
        self.guard.start()
        for sig in SIGNALS:
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signo: int, frame: FrameType | None) -> None:
        self.hangup(128 + signo, repeat_forces=True)

    def hangup(self, code: int = 128 + signal.SIGHUP, *, repeat_forces: bool = False) -> None:
        """Quit now, without waiting long for heals (a signal, or the terminal is gone).

        Never blocks, so it is safe in a signal handler and from any thread; the first
        call arms the exit guard, a later signal forces the exit at once.
        """
        if not self.guard.arm(code, repeat_forces=repeat_forces):
            return
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: we are exiting
                self._loop.call_soon_threadsafe(self._begin, code)

    def _begin(self, code: int) -> None:
        self._until = min(self._until, time.monotonic() + HANGUP_WAIT_S)
        if not self.app.closing:  # else a quit is under way; it now hurries
            self.app.run_worker(self.quit(HANGUP_WAIT_S, code), group="quit")

    async def quit(self, wait_s: float = QUIT_WAIT_S, code: int = 0) -> None:
        """Cancel workers, stop the browser pool, flush the store, then exit."""
        app = self.app
        if app.closing:
            return
        app.closing = True
        app.phase = "stopping"
        app._update_status()
        self._until = min(self._until, time.monotonic() + wait_s)
        shutdown = app.run_worker(app.engine.shutdown, thread=True, group="quit")
        await self._wait(lambda: shutdown.is_finished)
        busy = [w for w in app.workers if w.group in ("engine", "decision")]
        await self._wait(lambda: all(w.is_finished for w in busy))
        close = app.run_worker(app.engine.close, thread=True, group="quit")
        await self._wait(lambda: close.is_finished)
        app.exit(return_code=code)

    async def _wait(self, done: Callable[[], bool]) -> None:
        """Until ``done()`` or the quit's deadline (a hangup may move it closer)."""
        while not done() and time.monotonic() < self._until:
            await asyncio.sleep(POLL_S)
