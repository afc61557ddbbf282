"""One dreamscape process per project: ``PATH/.dreamscape/lock``.

See docs/architecture.md#project-lock.

Two processes healing one project would race on its files, its backups and its store,
so the TUI, ``heal --headless`` and ``undo`` hold an exclusive ``flock`` on the lock
file for their lifetime. The kernel drops a flock when its holder dies, however it
dies, so a lock left by a dead process is simply taken over: nothing is ever "broken".
The file's contents (pid, command, start time, host) only serve to tell a second
process who is in the way.

The lock fd must die with its holder: it is close-on-exec (so no browser, pytest run or
other program the holder starts inherits it) and closed in forked children, because an
orphaned child holding an inherited fd would otherwise keep the project locked for good.
Stdlib only: ``scan`` asks for the lock and must start fast.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shlex
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from dreamscape_tui.core.errors import UsageError

STATE_DIR = ".dreamscape"  # the same directory as store.STATE_DIR (not imported: tinydb)
LOCK_FILE = "lock"
READ_RETRIES = 10  # a holder may be between its truncate and its write: read again
READ_RETRY_S = 0.02
ADVICE = "wait for it, stop it, or open this project with --read-only"

__all__ = ["LockHolder", "ProjectLock", "ProjectLocked", "lock_path", "try_acquire"]


def lock_path(root: Path) -> Path:
    return root / STATE_DIR / LOCK_FILE


def command_line(words: list[str]) -> str:
    """The label a holder records: ``dreamscape heal --headless /abs/path``."""
    return shlex.join(["dreamscape", *words])


@dataclass(frozen=True)
class LockHolder:
    """What a holder wrote into the lock file."""

    pid: int
    command: str = ""
    started: float = 0.0
    host: str = ""

    @classmethod
    def parse(cls, text: str) -> LockHolder | None:
        """The holder described by ``text``, or None for anything but a valid record."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        pid, command = data.get("pid"), data.get("command", "")
        started, host = data.get("started", 0.0), data.get("host", "")
        if type(pid) is not int or pid <= 0 or not isinstance(command, str):
            return None
        if isinstance(started, bool) or not isinstance(started, int | float):
            return None
        if not isinstance(host, str):
            return None
        return cls(pid, command, float(started), host)

    def to_json(self) -> str:
        return json.dumps({"pid": self.pid, "command": self.command,
                           "started": self.started, "host": self.host})

    def is_local(self) -> bool:
        return not self.host or self.host == socket.gethostname()

    def alive(self) -> bool:
        """False only when the pid is known dead (another host's pids are unknowable)."""
        return not self.is_local() or pid_alive(self.pid)

    def describe(self) -> str:
        """``pid 1234 (dreamscape heal --headless /p) since 11:02``, one line."""
        text = f"pid {self.pid}"
        if not self.is_local():
            text += f" on {self.host}"
        if self.command:
            text += f" ({self.command})"
        if self.started > 0:
            text += f" since {_clock(self.started)}"
        return text


def _clock(when: float) -> str:
    """HH:MM for today, with the date before it otherwise."""
    stamp = time.localtime(when)
    if time.strftime("%Y-%m-%d", stamp) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M", stamp)
    return time.strftime("%Y-%m-%d %H:%M", stamp)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this machine (a zombie has exited: it counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


class ProjectLocked(UsageError):
    """Another process holds the project's lock (exit 2, one line naming it)."""

    def __init__(self, path: Path, holder: LockHolder | None) -> None:
        self.path, self.holder = path, holder
        if holder is None:
            who = "held by another process that has not said who it is"
        elif holder.alive():
            who = f"held by {holder.describe()}"
        else:
            who = (f"held, but its recorded holder {holder.describe()} has exited and a "
                   f"process it left behind keeps the lock open (`fuser -v {path}` "
                   f"names it)")
        super().__init__(f"{path}: {who}; {ADVICE}")

    def describe(self) -> str:
        """Who holds the lock, for the read-only TUI's status line."""
        return self.holder.describe() if self.holder else "another process"


# Locks this process holds (kept alive until released: a lock is held on purpose, never
# dropped by the garbage collector); a forked child closes its copies of their fds.
_HELD: set[ProjectLock] = set()


class ProjectLock:
    """The held lock of one project; ``release()`` (or leaving ``with``) gives it up."""

    def __init__(self, path: Path, fd: int, holder: LockHolder,
                 previous: LockHolder | None) -> None:
        self.path = path
        self.holder_info = holder
        self.taken_over = previous  # what a holder that died without releasing left
        self._fd: int | None = fd
        _HELD.add(self)

    @classmethod
    def acquire(cls, root: Path, command: str) -> ProjectLock:
        """Take ``root``'s lock, or raise ProjectLocked naming its holder.

        Creates ``root/.dreamscape``; a directory where that fails raises UsageError.
        """
        path = lock_path(root)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # os.open fds are non-inheritable (PEP 446); O_CLOEXEC says so explicitly.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise UsageError(f"{path}: cannot take the project lock: "
                             f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise ProjectLocked(path, _read_holder(path, retry=True)) from None
            raise UsageError(f"{path}: cannot take the project lock: "
                             f"{exc.strerror or exc}") from None
        previous = _read_holder(path, retry=False)
        holder = LockHolder(os.getpid(), command, time.time(), socket.gethostname())
        data = holder.to_json().encode() + b"\n"
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            raise UsageError(f"{path}: cannot write the project lock: "
                             f"{exc.strerror or exc}") from None
        return cls(path, fd, holder, previous)

    @classmethod
    def try_acquire(cls, root: Path, command: str) -> ProjectLock | None:
        """The lock, or None when another process holds it or it cannot be created
        (a read-only project): either way the caller must write nothing."""
        try:
            return cls.acquire(root, command)
        except UsageError:
            return None

    @staticmethod
    def holder(root: Path) -> LockHolder | None:
        """What the lock file says (None: absent, empty or garbage); held or not."""
        return _read_holder(lock_path(root), retry=False)

    @staticmethod
    def held_by(root: Path) -> ProjectLocked | None:
        """The error a lock attempt would raise right now, without creating anything.

        Probes with a shared flock, which succeeds only while nobody holds the lock
        (for that instant, a process taking the lock would find it held).
        """
        path = lock_path(root)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None  # no lock file: nobody ever held it
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return ProjectLocked(path, _read_holder(path, retry=True))
            return None
        finally:
            os.close(fd)  # closing drops the shared probe lock too
        return None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Empty the file and drop the lock; safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        _HELD.discard(self)
        with contextlib.suppress(OSError):  # empty: nobody holds it, nobody died holding it
            os.ftruncate(fd, 0)
        os.close(fd)  # drops the flock

    def _forget_in_child(self) -> None:
        """A forked child's copy of the fd shares the flock: close it, keep the parent's."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> ProjectLock:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _read_holder(path: Path, *, retry: bool) -> LockHolder | None:
    """The holder recorded in ``path``; with ``retry``, wait briefly for a holder that
    has its flock but has not written its record yet."""
    for attempt in range(READ_RETRIES if retry else 1):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        holder = LockHolder.parse(text)
        if holder is not None:
            return holder
        if attempt + 1 < READ_RETRIES and retry:
            time.sleep(READ_RETRY_S)
    return None


def _after_fork_in_child() -> None:
    for lock in list(_HELD):
        lock._forget_in_child()
    _HELD.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)

try_acquire = ProjectLock.try_acquire
