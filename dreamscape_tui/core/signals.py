"""SIGTERM/SIGHUP handling for commands that hold browsers (DESIGN §4 exit codes).

A terminated ``dreamscape`` must not leave Chromium processes or Grid sessions behind,
so CLI commands install these handlers around their pool (or engine): shut it down,
then exit with 128+signo like a shell would report.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

__all__ = ["Stoppable", "install_signal_handlers"]


class Stoppable(Protocol):
    """Anything that can be shut down from a signal handler (a pool, the engine)."""

    def shutdown(self) -> None: ...


def install_signal_handlers(pool: Stoppable) -> Callable[[], None]:
    """On SIGTERM/SIGHUP shut ``pool`` down, then exit with 128+signo.

    Returns a function restoring the previous handlers (call it when the command ends;
    the handler restores them itself before exiting). Ctrl-C needs nothing here: the
    KeyboardInterrupt unwinds through the pool's context manager. Outside the main
    thread (where signals cannot be handled) this is a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {}

    def restore() -> None:
        for signo, handler in list(previous.items()):
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signo, handler if handler is not None else signal.SIG_DFL)
        previous.clear()

    def on_signal(signo: int, frame: FrameType | None) -> None:
        restore()
        pool.shutdown()
        raise SystemExit(128 + signo)

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            previous[sig] = signal.signal(sig, on_signal)
    return restore
