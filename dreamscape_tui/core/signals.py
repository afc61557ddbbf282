"""SIGTERM/SIGHUP handling for commands that hold browsers (docs/architecture.md#exit-codes).

A terminated ``dreamscape`` must not leave Chromium processes or Grid sessions behind,
so CLI commands install these handlers around their pool (or engine): shut it down,
then exit with 128+signo like a shell would report.

A terminated process must also actually end. A graceful shutdown can wedge (a browser
start that has to finish first, a thread blocked on a dead terminal), and an SSH
session that dropped leaves nobody to notice an orphan. :class:`ExitGuard` bounds it:
once armed, the process is gone within ``deadline_s`` seconds however the graceful path
fares; at the deadline it kills every process it started (chromedriver and Chromium
included), flushes what it was told to flush and calls ``os._exit``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

from dreamscape_tui.core.browser import process_tree

__all__ = ["EXIT_DEADLINE_S", "ExitGuard", "Stoppable", "install_signal_handlers",
           "kill_descendants"]

EXIT_DEADLINE_S = 7.0
"""From the first signal (or the terminal going away) to a forced exit. Issue 8 wants
the process gone within 10 s; the graceful path takes 1-3 s when nothing hangs."""

FLUSH_WAIT_S = 1.0
"""How long a forced exit waits for the store flush (a wedged lock must not stop it)."""

REPEAT_AFTER_S = 1.0
"""A second signal at least this long after the first forces the exit at once. Closer
ones are one event delivered twice: on a hangup the kernel signals the foreground
process group and the dying shell signals its jobs again."""


class Stoppable(Protocol):
    """Anything that can be shut down from a signal handler (a pool, the engine)."""

    def shutdown(self) -> None: ...


def kill_descendants() -> int:
    """SIGKILL every live process below this one; returns how many were signalled.

    The whole tree is listed before the first kill, so no Chromium renderer escapes to
    init when its chromedriver dies first.
    """
    me = os.getpid()
    pids = [pid for pid in process_tree(me) if pid != me]
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)


class ExitGuard:
    """Once armed, this process ends within ``deadline_s`` seconds, whatever hangs.

    ``flush`` (the store's close) runs on the forced path only; the graceful path is
    the caller's. :meth:`start` starts the (idle) countdown thread ahead of time, so
    arming it from a signal handler only sets events: starting a thread there could
    deadlock on a lock the interrupted main thread holds.
    """

    def __init__(self, flush: Callable[[], None] | None = None,
                 deadline_s: float = EXIT_DEADLINE_S) -> None:
        self.flush = flush
        self.deadline_s = deadline_s
        self.code: int | None = None
        self._armed_at = 0.0
        self._once = threading.Lock()
        self._armed = threading.Event()
        self._now = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ExitGuard:
        """Start the countdown thread, idle until :meth:`arm`; idempotent."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._countdown, name="exit-guard",
                                            daemon=True)
            self._thread.start()
        return self

    @property
    def armed(self) -> bool:
        return self._armed.is_set()

    def arm(self, code: int, *, repeat_forces: bool = False) -> bool:
        """Start the countdown to a forced exit with ``code``; True the first time.

        Never blocks, so it is safe in a signal handler. ``repeat_forces``: a later
        call (a second signal) forces the exit now rather than at the deadline.
        """
        if not self._once.acquire(blocking=False):
            if repeat_forces and time.monotonic() - self._armed_at >= REPEAT_AFTER_S:
                self._now.set()
            return False
        self.code, self._armed_at = code, time.monotonic()
        self.start()
        self._armed.set()
        return True

    def _countdown(self) -> None:
        self._armed.wait()
        self._now.wait(self.deadline_s)
        self.force()

    def force(self) -> None:
        """Kill every child process, flush (bounded), and end the process now."""
        kill_descendants()
        if self.flush is not None:
            flusher = threading.Thread(target=self._flush, name="exit-flush", daemon=True)
            flusher.start()
            flusher.join(FLUSH_WAIT_S)
        os._exit(self.code if self.code is not None else 128 + signal.SIGTERM)

    def _flush(self) -> None:
        if self.flush is not None:
            with contextlib.suppress(Exception):
                self.flush()


def install_signal_handlers(pool: Stoppable, *, flush: Callable[[], None] | None = None,
                            deadline_s: float | None = None) -> Callable[[], None]:
    """On SIGTERM/SIGHUP shut ``pool`` down, then exit with 128+signo.

    Returns a function restoring the previous handlers (call it when the command ends;
    the handler restores them itself before exiting). Ctrl-C needs nothing here: the
    KeyboardInterrupt unwinds through the pool's context manager. Outside the main
    thread (where signals cannot be handled) this is a no-op.

    With ``deadline_s`` (commands that run to completion: ``heal --headless``) the
    signal also arms an :class:`ExitGuard`: the process is gone ``deadline_s`` seconds
    later even if the shutdown or the unwinding after it hangs, and a second signal
    ends it at once. Without it (and in-process tests) a signal never ends the process
    behind the caller's back.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {}
    guard = ExitGuard(flush, deadline_s).start() if deadline_s is not None else None
    stopping: list[int] = []

    def restore() -> None:
        for signo, handler in list(previous.items()):
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signo, handler if handler is not None else signal.SIG_DFL)
        previous.clear()

    def on_signal(signo: int, frame: FrameType | None) -> None:
        code = 128 + signo
        if guard is None:  # a second signal meets the previous handler (the default: die)
            restore()
            pool.shutdown()
            raise SystemExit(code)
        guard.arm(code, repeat_forces=True)
        if stopping:  # a repeat while this handler shuts down (it runs on the same thread)
            return
        stopping.append(signo)
        pool.shutdown()
        restore()
        raise SystemExit(code)

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            previous[sig] = signal.signal(sig, on_signal)
    return restore
