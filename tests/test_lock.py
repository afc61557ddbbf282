"""One dreamscape process per project (issue 11, item 5): ``PATH/.dreamscape/lock``.

The unit tests pin the record's parsing and the one-line message; the process tests run
real processes: a holder (a tiny script, or a real ``heal --headless``) and the
installed ``dreamscape`` as a second process, a holder that dies by SIGKILL or SIGTERM,
a lock file left by a dead pid, and children of the holder that outlive it.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dreamscape_tui.core import store
from dreamscape_tui.core.errors import UsageError
from dreamscape_tui.core.lock import (
    LockHolder,
    ProjectLock,
    ProjectLocked,
    command_line,
    lock_path,
    try_acquire,
)
from tests.conftest import REPO, run_dreamscape
from tests.fake_openai import FakeOpenAI, Scripted, fake_openai_server
from tests.heal_helpers import api_config, sample_project

# Holds ROOT's lock as COMMAND until stdin closes; with --children it first starts a
# program (close_fds=False: as careless as a launcher can be) and forks a child, both
# of which sleep on after it is gone. Prints "held" and the children's pids.
HOLDER = """
import os, subprocess, sys, time
from pathlib import Path
from dreamscape_tui.core.lock import ProjectLock
lock = ProjectLock.acquire(Path(sys.argv[1]), sys.argv[2])
kids = []
if "--children" in sys.argv:
    kids.append(subprocess.Popen(["sleep", "300"], close_fds=False).pid)
    pid = os.fork()
    if pid == 0:
        time.sleep(300)
        os._exit(0)
    kids.append(pid)
print("held", *kids, flush=True)
sys.stdin.read()
"""


# -- the record and the message ---------------------------------------------------------


@pytest.mark.parametrize("text", [
    "", "\0\0\xff", "not json", "[]", "12", '{"pid": "12"}', '{"pid": true}', '{"pid": 0}',
    '{"pid": -3}', '{"pid": 5, "command": 3}', '{"pid": 5, "started": "noon"}',
    '{"pid": 5, "started": false}', '{"pid": 5, "host": null}', '{"pid": 5',
])
def test_garbage_is_no_holder(tmp_path: Path, text: str) -> None:
    assert LockHolder.parse(text) is None
    lock_path(tmp_path).parent.mkdir()
    lock_path(tmp_path).write_text(text, encoding="utf-8", errors="surrogateescape")
    assert ProjectLock.holder(tmp_path) is None


def test_a_record_parses_and_a_missing_file_is_no_holder(tmp_path: Path) -> None:
    assert ProjectLock.holder(tmp_path) is None
    assert LockHolder.parse('{"pid": 7}') == LockHolder(7)
    holder = LockHolder(42, "dreamscape undo /p", 1700000000.5, "box")
    assert LockHolder.parse(holder.to_json()) == holder


def test_the_message_is_one_line_naming_pid_command_and_time(tmp_path: Path) -> None:
    started = time.time()
    holder = LockHolder(os.getpid(), "dreamscape heal --headless /p", started,
                        socket.gethostname())
    message = str(ProjectLocked(lock_path(tmp_path), holder))
    clock = time.strftime("%H:%M", time.localtime(started))
    assert message == (f"{lock_path(tmp_path)}: held by pid {os.getpid()} "
                       f"(dreamscape heal --headless /p) since {clock}; wait for it, "
                       f"stop it, or open this project with --read-only")
    assert isinstance(ProjectLocked(lock_path(tmp_path), None), UsageError)  # exit 2


def test_the_message_says_when_the_recorded_holder_is_dead(tmp_path: Path) -> None:
    dead = LockHolder(dead_pid(), "dreamscape /p", time.time() - 3 * 86400, "")
    message = str(ProjectLocked(lock_path(tmp_path), dead))
    assert f"pid {dead.pid} (dreamscape /p) since 20" in message  # an older day: a date
    assert "has exited" in message and "fuser" in message and "\n" not in message
    nobody = str(ProjectLocked(lock_path(tmp_path), None))
    assert "another process" in nobody and "--read-only" in nobody
    remote = LockHolder(dead.pid, "dreamscape /p", 0.0, "elsewhere.example")
    assert f"held by pid {dead.pid} on elsewhere.example (dreamscape /p);" in str(
        ProjectLocked(lock_path(tmp_path), remote))  # another host's pid: not judged


# -- in one process -----------------------------------------------------------------------


def test_acquire_writes_the_record_and_a_second_lock_is_refused(tmp_path: Path) -> None:
    assert store.STATE_DIR == ".dreamscape"  # lock.py repeats it rather than import tinydb
    with ProjectLock.acquire(tmp_path, "dreamscape undo /p") as lock:
        record = json.loads(lock_path(tmp_path).read_text())
        assert record["pid"] == os.getpid() and record["command"] == "dreamscape undo /p"
        assert record["host"] == socket.gethostname()
        assert abs(record["started"] - time.time()) < 60
        with pytest.raises(ProjectLocked, match=f"held by pid {os.getpid()} "):
            ProjectLock.acquire(tmp_path, "other")
        assert try_acquire(tmp_path, "other") is None
        busy = ProjectLock.held_by(tmp_path)
        assert busy is not None and busy.describe().startswith(f"pid {os.getpid()} (")
        assert lock.held
    assert not lock.held
    lock.release()  # idempotent
    assert lock_path(tmp_path).read_text() == ""  # released: nobody to name
    assert ProjectLock.held_by(tmp_path) is None
    again = try_acquire(tmp_path, "again")
    assert again is not None
    again.release()


def test_the_lock_fd_is_close_on_exec(tmp_path: Path) -> None:
    with ProjectLock.acquire(tmp_path, "x") as lock:
        fd = lock._fd
        assert fd is not None
        assert not os.get_inheritable(fd)
        assert fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC


def test_probing_creates_nothing(tmp_path: Path) -> None:
    assert ProjectLock.held_by(tmp_path) is None
    assert not (tmp_path / ".dreamscape").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_project_is_a_usage_error(tmp_path: Path) -> None:
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(UsageError, match="cannot take the project lock"):
            ProjectLock.acquire(tmp_path, "x")
        assert try_acquire(tmp_path, "x") is None
    finally:
        tmp_path.chmod(0o755)


# -- real processes -----------------------------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                not in ("Z", "X"))
    except (OSError, IndexError):
        return False


@contextmanager
def holder(root: Path, command: str, *extra: str) -> Iterator[tuple[subprocess.Popen[str],
                                                                     list[int]]]:
    """A process holding ``root``'s lock (and the pids of its children, with extra)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(root), command, *extra],
                            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    words = proc.stdout.readline().split()
    kids = [int(w) for w in words[1:]]
    try:
        assert words[:1] == ["held"], "the holder did not get the lock"
        yield proc, kids
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for kid in kids:  # only the children this test started
            if alive(kid):
                os.kill(kid, signal.SIGKILL)


def open_files(pid: int) -> list[str]:
    return [os.readlink(f) for f in Path(f"/proc/{pid}/fd").iterdir()]


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def assert_refused(result_err: str, pid: int, command: str) -> None:
    lines = result_err.strip().splitlines()
    assert len(lines) == 1, result_err
    assert lines[0].startswith("dreamscape: error: ") and "/.dreamscape/lock: held by" in lines[0]
    assert f"pid {pid} ({command})" in lines[0] and "--read-only" in lines[0]
    assert "Traceback" not in result_err


def test_a_second_process_exits_2_naming_the_holder(tmp_path: Path) -> None:
    root = sample_project(tmp_path, "")
    command = command_line(["heal", "--headless", str(root)])
    with holder(root, command) as (proc, _kids):
        before = tree(root)
        for args in (["heal", "--headless", str(root)], ["undo", str(root)], [str(root)]):
            result = run_dreamscape(*args, cwd=tmp_path)
            assert result.code == 2, (args, result)
            assert_refused(result.err, proc.pid, command)
            assert result.out == ""
        assert tree(root) == before  # neither the project nor its state was touched


def test_a_dry_run_takes_no_lock(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "fine.py").write_text("X = 1\n")
    result = run_dreamscape("heal", "--headless", "--dry-run", str(root))
    assert result.code == 0, result
    assert not (root / ".dreamscape").exists()  # a dry run keeps no state, not even a lock
    with holder(root, "dreamscape heal --headless p"):
        result = run_dreamscape("heal", "--headless", "--dry-run", str(root))
        assert result.code == 0 and "lock" not in result.err, result


def test_the_lock_goes_with_a_normal_exit_and_with_sigkill(tmp_path: Path) -> None:
    result = run_dreamscape("undo", str(tmp_path))
    assert result.code == 1 and "nothing to undo" in result.err, result
    assert lock_path(tmp_path).read_text() == ""  # taken, then released at exit
    with holder(tmp_path, "dreamscape undo x") as (proc, _kids):
        proc.stdin.close()  # type: ignore[union-attr]
        assert proc.wait(10) == 0  # exits without release(): the kernel drops the flock
    with holder(tmp_path, "dreamscape undo y") as (proc, _kids):
        proc.kill()
        proc.wait(10)
    assert LockHolder.parse(lock_path(tmp_path).read_text()) == ProjectLock.holder(tmp_path)
    assert ProjectLock.holder(tmp_path) is not None  # a killed holder leaves its record ...
    result = run_dreamscape("undo", str(tmp_path))
    assert result.code == 1 and "nothing to undo" in result.err, result  # ... and no lock


def test_children_of_the_holder_do_not_keep_the_lock(tmp_path: Path) -> None:
    with holder(tmp_path, "dreamscape x", "--children") as (proc, kids):
        assert len(kids) == 2 and all(alive(k) for k in kids)
        lock_file = str(lock_path(tmp_path))
        for kid in kids:  # the fork closes its copy as it starts: give it a moment
            deadline = time.monotonic() + 5
            while lock_file in (fds := open_files(kid)) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert lock_file not in fds, (kid, fds)
        proc.kill()
        proc.wait(10)
        assert all(alive(k) for k in kids)  # orphans now, still running ...
        lock = ProjectLock.acquire(tmp_path, "next")  # ... without the lock
        assert lock.taken_over is not None and lock.taken_over.pid == proc.pid
        lock.release()


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        yield server


def test_a_stale_lock_is_taken_over_and_sigterm_releases_it(tmp_path: Path,
                                                             api: FakeOpenAI) -> None:
    """A lock file left by a dead pid (no flock) is taken over by a real heal, which
    records itself while it runs and gives the lock up when SIGTERM ends it."""
    root = sample_project(tmp_path, api_config(api))
    stale = LockHolder(dead_pid(), "dreamscape heal --headless /gone", time.time() - 60,
                       socket.gethostname())
    lock_path(root).write_text(stale.to_json())
    gate = threading.Event()

    def answer_later(prompt: str) -> Scripted:
        gate.wait(120)
        return Scripted(503, b'{"error": {"message": "closing"}}')

    api.fallback = answer_later
    exe = Path(sys.executable).with_name("dreamscape")
    with (tmp_path / "err").open("w") as err:
        heal = subprocess.Popen([str(exe), "heal", "--headless", str(root)],
                                stdout=subprocess.DEVNULL, stderr=err, env=os.environ)
    try:
        deadline = time.monotonic() + 120
        while not api.requests and heal.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert api.requests, (tmp_path / "err").read_text()  # a model call is in flight
        record = ProjectLock.holder(root)
        assert record is not None and record.pid == heal.pid
        assert record.command == command_line(["heal", "--headless", str(root)])
        second = run_dreamscape("heal", "--headless", str(root))
        assert second.code == 2
        assert_refused(second.err, heal.pid, record.command)
        heal.send_signal(signal.SIGTERM)
        assert heal.wait(30) == 128 + signal.SIGTERM
    finally:
        gate.set()
        if heal.poll() is None:
            heal.kill()
            heal.wait(10)
    lock = try_acquire(root, "after")
    assert lock is not None
    lock.release()
