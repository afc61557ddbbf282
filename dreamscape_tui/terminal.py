"""A Textual Linux driver that notices when its terminal goes away, and survives it.

Over SSH a dropped connection hangs the pty up: reads on it return EOF at once, writes
fail with EIO, and the kernel sends SIGHUP and SIGCONT. Textual 8's stock LinuxDriver
handles none of that (issue 8, seen with py-spy on an orphaned app):

* its input thread selects, reads b"" (EOF), and selects again: a busy loop at 65-90 %
  of a core that never tells the app anything;
* its writer thread dies on the first EIO, the bounded queue in front of it fills,
  and the next ``write`` from the event loop blocks forever in ``Queue.put``: the
  loop is wedged, so quitting stops half-way and signal handlers that only schedule
  work on the loop never run (the app "ignores" SIGTERM);
* its SIGCONT handler restarts application mode on the dead terminal, with a second
  writer and a second input thread.

:class:`HangupDriver` fixes each at its source: writes go through a stream that drops
data once the terminal failed (so the writer never dies and nothing ever blocks), a
watcher thread polls the terminal (``isatty`` fails on a hung-up or closed tty) and
stops the input thread, and application mode is not resumed on a dead terminal. The
app learns of the loss through ``terminal_lost()``, called on its event loop.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable

from textual.drivers.linux_driver import LinuxDriver

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["HangupDriver", "TerminalOwner"]

POLL_S = 0.2
"""How often the watcher checks the terminal: an ioctl per watched fd, nothing more."""


@runtime_checkable
class TerminalOwner(Protocol):
    """An app that wants to hear that its terminal is gone (on its event loop)."""

    def terminal_lost(self) -> None: ...


class _DeadSafeStream:
    """The terminal stream under Textual's writer thread: a write that fails on a dead
    terminal (EIO, EBADF, a closed file) marks it lost and every later write is
    dropped, so the writer thread never dies and its bounded queue never fills up.
    A failure while the terminal is still there (say EAGAIN) drops only that write."""

    def __init__(self, stream: IO[str], alive: Callable[[], bool],
                 lost: Callable[[], None]) -> None:
        self._stream = stream
        self._alive = alive
        self._lost = lost
        self.failed = False

    def write(self, text: str) -> int:
        if not self.failed:
            try:
                return self._stream.write(text)
            except (OSError, ValueError):
                self._check()
        return len(text)

    def flush(self) -> None:
        if not self.failed:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._check()

    def _check(self) -> None:
        if not self._alive():
            self.failed = True
            self._lost()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return not self.failed and self._stream.isatty()


def _ttys() -> list[int]:
    """The standard fds that are terminals now (the ones whose loss means "gone")."""
    found = []
    for stream in (sys.__stdin__, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            if stream is not None and os.isatty(stream.fileno()):
                found.append(stream.fileno())
    return sorted(set(found))


class HangupDriver(LinuxDriver):
    """LinuxDriver that detects a lost terminal, stops spinning and never blocks on it."""

    def __init__(self, app: App[Any], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.lost = threading.Event()
        self._ttys = _ttys()
        stream: IO[str] = self._file or sys.stderr
        self._file = _DeadSafeStream(stream, self.alive, self._lose)  # type: ignore[assignment]
        self._stop_watch = threading.Event()
        self._watch: threading.Thread | None = None

    def alive(self) -> bool:
        """Whether every fd that was a terminal at start still is one."""
        return not self.lost.is_set() and all(os.isatty(fd) for fd in self._ttys)

    def start_application_mode(self) -> None:
        if not self.alive():  # e.g. the SIGCONT that comes with a hangup
            self._lose()
            return
        super().start_application_mode()  # type: ignore[no-untyped-call]
        if self._watch is None and self._ttys:
            self._watch = threading.Thread(target=self._watch_terminal,
                                           name="terminal-watch", daemon=True)
            self._watch.start()

    def resume_application_mode(self) -> None:
        """Resume after a suspend, but never on a terminal that hung up meanwhile."""
        if self.alive():
            super().resume_application_mode()
        else:
            self._lose()

    def run_input_thread(self) -> None:
        """Textual's input loop; a read error on a dead terminal is a loss, not a panic."""
        try:
            super().run_input_thread()
        except OSError:
            if self.alive():
                raise
            self._lose()

    def _watch_terminal(self) -> None:
        while not self._stop_watch.wait(POLL_S):
            if not self.alive():
                self._lose()
                return

    def _lose(self) -> None:
        """The terminal is gone: stop the input thread and tell the app, once."""
        if self.lost.is_set():
            return
        self.lost.set()
        self.exit_event.set()  # the input thread leaves its loop (it spins on EOF)
        app = self._app
        if isinstance(app, TerminalOwner):
            with contextlib.suppress(RuntimeError):  # the loop already closed: exiting
                self._loop.call_soon_threadsafe(app.terminal_lost)

    def close(self) -> None:
        self._stop_watch.set()
        super().close()
