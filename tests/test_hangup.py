"""The installed ``dreamscape`` exits cleanly when its terminal goes (issue 8, point 7).

Over SSH a dropped connection hangs the pty up. Each test starts the real console
script in a real pty (its own session, so every process it starts is recognisable by
session id) on the faulty sample project, healing through webchat models on the
practice page on loopback. The page never answers, so when the terminal goes the pool
is up (chromedriver and Chromium) and model calls are in flight: the hardest moment to
stop. Then the terminal goes or a signal comes, and the app must be gone within 10 s
with no process of its session left: no chromedriver, no Chromium, nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dreamscape_tui.practice import ChatServer, Reply
from dreamscape_tui.practice.sample import scripted_answer
from tests.browser_fixtures import browser_test
from tests.test_tui_support import sample_root

EXIT_BOUND_S = 10.0  # issue 8: gone within 10 s of the terminal going
START_BOUND_S = 90.0  # scan, checks, browsers and a first prompt on a busy CI machine
EXE = Path(sys.executable).with_name("dreamscape")
CONFIG = """
[sessions]
size = 2
headless = true
home_url = "{url}"

[[models]]
name = "practice-mini"
kind = "webchat"
url = "{url}?model=practice-mini"
timeout_s = 600.0

[routing]
ladder = ["practice-mini"]
"""
# Make the pty the child's controlling terminal, as a login shell's is, so closing the
# master sends the kernel's SIGHUP and SIGCONT; then become the program itself.
CTTY = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
        "os.execv(sys.argv[1], sys.argv[1:])")


@pytest.fixture(scope="module")
def chat() -> Iterator[ChatServer]:
    """A chat page that takes ten minutes to answer: every heal stays in flight."""
    with ChatServer(lambda prompt, model: Reply(text=scripted_answer(prompt),
                                                delay_before_s=600.0)) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, chat: ChatServer) -> Path:
    root = sample_root(tmp_path)
    (root / ".dreamscape").mkdir()
    (root / ".dreamscape" / "config.toml").write_text(CONFIG.format(url=chat.url))
    return root


def session_processes(sid: int) -> dict[int, str]:
    """Live processes (zombies excluded) of session ``sid``, with their names."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] not in ("Z", "X") and int(fields[3]) == sid:
            found[int(entry.name)] = name
    return found


def running(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_until_healing(sid: int, chat: ChatServer, prompts_before: int,
                       describe: Callable[[], str]) -> None:
    """Until the session runs chromedriver and Chromium and a prompt is in flight."""
    deadline = time.monotonic() + START_BOUND_S
    while time.monotonic() < deadline and running(sid):
        names = set(session_processes(sid).values())
        if ({"chromedriver", "chromium"} <= names and len(chat.prompts) > prompts_before):
            return
        time.sleep(0.2)
    pytest.fail(f"the pool never came up with a prompt in flight; {describe()}")


def assert_gone_within_bound(sid: int, app_gone: Callable[[], bool], started: float) -> None:
    """The app exits, and every process of its session with it, within the bound."""
    deadline = started + EXIT_BOUND_S
    while time.monotonic() < deadline and not app_gone():
        time.sleep(0.05)
    assert app_gone(), f"the app still runs {EXIT_BOUND_S:g} s later: {session_processes(sid)}"
    while time.monotonic() < deadline and session_processes(sid):
        time.sleep(0.05)
    assert not session_processes(sid), f"left behind: {session_processes(sid)}"


class PtyApp:
    """``dreamscape ARGS`` on the slave side of a fresh pty, in a session of its own.

    Textual draws on stderr, so all three standard streams are the pty; a thread
    drains the master so the app never blocks on a full terminal.
    """

    def __init__(self, args: list[str], *, controlling: bool) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color"}
        argv = [str(EXE), *args]
        if controlling:
            argv = [sys.executable, "-c", CTTY, *argv]
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                        env=env, start_new_session=True)
        os.close(slave)
        self.sid = self.process.pid
        self.output = bytearray()
        self._stop = threading.Event()
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            if select.select([self.master], [], [], 0.05)[0]:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    return
                if not data:
                    return
                self.output += data[-4096:]
                del self.output[:-8192]

    def close_terminal(self) -> None:
        """Close the master: the terminal is gone (an SSH drop does this)."""
        if not self._stop.is_set():
            self._stop.set()
            self._drain.join()  # a blocked read would keep the master open
            os.close(self.master)

    def gone(self) -> bool:
        return self.process.poll() is not None

    def describe(self) -> str:
        tail = bytes(self.output[-600:]).decode("utf-8", "replace")
        return f"processes {session_processes(self.sid)}; terminal tail {tail!r}"

    def cleanup(self) -> None:
        """Last resort after a failure: end what this test started, by session."""
        for pid in session_processes(self.sid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self.close_terminal()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)


def run_and_drop(args: list[str], chat: ChatServer, drop: Callable[[PtyApp], None], *,
                 controlling: bool = False) -> PtyApp:
    before = len(chat.prompts)
    app = PtyApp(args, controlling=controlling)
    try:
        wait_until_healing(app.sid, chat, before, app.describe)
        started = time.monotonic()
        drop(app)
        assert_gone_within_bound(app.sid, app.gone, started)
    finally:
        app.cleanup()
    return app


@browser_test
def test_tui_exits_when_the_pty_hangs_up(project: Path, chat: ChatServer) -> None:
    """The pty is the controlling terminal: closing it brings SIGHUP and SIGCONT."""
    app = run_and_drop([str(project)], chat, PtyApp.close_terminal, controlling=True)
    assert app.process.returncode in (0, 128 + signal.SIGHUP)


@browser_test
def test_tui_exits_when_the_terminal_dies_without_a_signal(project: Path,
                                                           chat: ChatServer) -> None:
    """No controlling terminal, so no SIGHUP: only EOF and EIO say it is gone (the
    stock driver spun at 90 % CPU here, forever)."""
    app = run_and_drop([str(project)], chat, PtyApp.close_terminal)
    assert app.process.returncode in (0, 128 + signal.SIGHUP)


@browser_test
def test_tui_exits_on_sigterm(project: Path, chat: ChatServer) -> None:
    app = run_and_drop([str(project)], chat,
                       lambda app: app.process.send_signal(signal.SIGTERM))
    assert app.process.returncode == 128 + signal.SIGTERM  # the status says why it ended


@browser_test
@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGHUP])
def test_headless_heal_exits_on_signal(project: Path, chat: ChatServer, signo: int) -> None:
    app = run_and_drop(["heal", "--headless", str(project)], chat,
                       lambda app: app.process.send_signal(signo))
    assert app.process.returncode == 128 + signo


@browser_test
@pytest.mark.skipif(not shutil.which("tmux"), reason="needs tmux")
def test_tui_exits_when_tmux_is_killed(project: Path, chat: ChatServer) -> None:
    """``tmux kill-server`` on a private socket: the pane's pty goes away."""
    socket = f"dreamscape-hangup-{os.getpid()}-{time.monotonic_ns()}"

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True,
                              timeout=30).stdout

    env = {"XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"], "TERM": "xterm-256color"}
    before = len(chat.prompts)
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "tui", "-x", "120", "-y", "36",
         *(arg for key, value in env.items() for arg in ("-e", f"{key}={value}")),
         f"exec '{EXE}' '{project}'")
    sid = 0
    try:
        sid = int(tmux("display-message", "-p", "-t", "tui", "#{pane_pid}").strip())
        wait_until_healing(sid, chat, before,
                           lambda: f"{session_processes(sid)}; screen:\n"
                                   f"{tmux('capture-pane', '-p', '-t', 'tui')}")
        started = time.monotonic()
        tmux("kill-server")
        assert_gone_within_bound(sid, lambda: not running(sid), started)
    finally:
        tmux("kill-server")
        for pid in session_processes(sid) if sid else {}:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def test_exit_guard_ends_a_wedged_process(tmp_path: Path) -> None:
    """When the graceful path hangs, the armed guard kills the children, flushes the
    store and exits with the signal's code, on time."""
    marker = tmp_path / "flushed"
    program = (
        "import subprocess, threading\n"
        "from pathlib import Path\n"
        "from dreamscape_tui.core.signals import ExitGuard\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        "print(child.pid, flush=True)\n"
        f"flush = lambda: Path({str(marker)!r}).write_text('flushed')\n"
        "ExitGuard(flush, deadline_s=0.5).arm(143)\n"
        "threading.Event().wait()  # wedged for good\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        assert proc.wait(EXIT_BOUND_S) == 143
        assert marker.read_text() == "flushed"
        assert_gone_within_bound(proc.pid, lambda: not running(child), time.monotonic())
    finally:
        proc.kill()
        proc.wait()
