"""The TUI and the project lock, in a real terminal (tmux, private socket).

A TUI healing a project holds its lock, so ``heal --headless`` beside it exits 2 naming
it; ``dreamscape PATH --read-only`` opens beside it, says it is read-only, and ``q``
quits it; when the TUI quits, the lock is free again. Models are openai-api on a
loopback fake, so no browser starts.
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core.lock import ProjectLock, command_line, lock_path, try_acquire
from tests.conftest import run_dreamscape
from tests.fake_openai import FakeOpenAI, fake_openai_server
from tests.heal_helpers import api_config, sample_project, scripted
from tests.test_lock import assert_refused

pytestmark = pytest.mark.skipif(not shutil.which("tmux"), reason="needs tmux")
EXE = Path(sys.executable).with_name("dreamscape")


def read_only_supported() -> bool:
    from dreamscape_tui.app import create_app

    return "read_only" in inspect.signature(create_app).parameters


class Tmux:
    """A private tmux server (own socket); each window runs one command."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30).stdout

    def start(self, name: str, command: str) -> None:
        env = {"XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
               "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"], "TERM": "xterm-256color"}
        flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        if self("list-sessions").strip():
            self("new-window", "-d", "-t", "main", "-n", name, *flags, command)
        else:
            self("-f", "/dev/null", "new-session", "-d", "-s", "main", "-n", name,
                 "-x", "120", "-y", "36", *flags, command)

    def screen(self, name: str) -> str:
        return self("capture-pane", "-p", "-t", f"main:{name}")

    def describe(self, name: str, exit_file: Path) -> Callable[[], str]:
        """The window's screen, or the exit status when it is gone."""
        def text() -> str:
            status = exit_file.read_text().strip() if exit_file.exists() else "running"
            return f"exit status: {status}; the screen:\n{self.screen(name)}"
        return text


def wait_for(what: str, predicate: Callable[[], bool], describe: Callable[[], str],
             timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen; {describe()}")


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        scripted(server)
        yield server


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux(f"dreamscape-lock-{os.getpid()}-{time.monotonic_ns()}")
    try:
        yield server
    finally:
        server("kill-server")  # SIGHUP: a TUI still running exits


def test_the_tui_holds_the_lock_and_read_only_opens_beside_it(tmp_path: Path, api: FakeOpenAI,
                                                              tmux: Tmux) -> None:
    root = sample_project(tmp_path, api_config(api))
    tui_exit = tmp_path / "tui-exit"
    tmux.start("tui", f"'{EXE}' '{root}'; echo $? > '{tui_exit}'")
    tui_command = command_line([str(root)])

    def recorded() -> bool:
        holder = ProjectLock.holder(root)
        return holder is not None and holder.command == tui_command

    wait_for("the TUI taking the lock", lambda: recorded() and "Dreamscape" in
             tmux.screen("tui"), tmux.describe("tui", tui_exit))
    holder = ProjectLock.holder(root)
    assert holder is not None
    result = run_dreamscape("heal", "--headless", str(root))
    assert result.code == 2, result
    assert_refused(result.err, holder.pid, tui_command)

    if read_only_supported():
        ro_exit = tmp_path / "ro-exit"
        tmux.start("ro", f"'{EXE}' '{root}' --read-only; echo $? > '{ro_exit}'")
        wait_for("the read-only dashboard naming the holder",
                 lambda: f"read-only: pid {holder.pid} (" in tmux.screen("ro"),
                 tmux.describe("ro", ro_exit))
        tmux("send-keys", "-t", "main:ro", "q")
        wait_for("q quitting the read-only TUI", ro_exit.exists, tmux.describe("ro", ro_exit))
        assert ro_exit.read_text().strip() == "0"
        assert ProjectLock.holder(root) == holder  # read-only took nothing

    tmux("send-keys", "-t", "main:tui", "q")
    wait_for("q quitting the TUI", tui_exit.exists, tmux.describe("tui", tui_exit))
    assert tui_exit.read_text().strip() == "0"
    assert lock_path(root).read_text() == ""  # released on the way out
    lock = try_acquire(root, "after")
    assert lock is not None
    lock.release()


@pytest.mark.skipif("not read_only_supported()",
                    reason="create_app has no read_only keyword yet")
def test_read_only_alone_says_so(tmp_path: Path, api: FakeOpenAI, tmux: Tmux) -> None:
    root = sample_project(tmp_path, api_config(api))
    before = sorted(p.name for p in (root / ".dreamscape").iterdir())
    ro_exit = tmp_path / "ro-exit"
    tmux.start("ro", f"'{EXE}' '{root}' --read-only; echo $? > '{ro_exit}'")
    wait_for("the read-only dashboard", lambda: "read-only" in tmux.screen("ro").lower(),
             tmux.describe("ro", ro_exit))
    tmux("send-keys", "-t", "main:ro", "q")
    wait_for("q quitting", ro_exit.exists, tmux.describe("ro", ro_exit))
    assert ro_exit.read_text().strip() == "0"
    assert "lock" not in before and not lock_path(root).exists()  # it took no lock
