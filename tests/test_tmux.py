"""The installed ``dreamscape`` in a real terminal (tmux, 120x36), healing with Chromium.

What a user does: open the TUI on a faulty project and wait. The practice chat page
serves scripted answers on loopback, the pool drives it in headless Chromium, three
files heal and one review waits; ``q`` then quits with status 0 and leaves no browser
behind. The tmux server is private to the test (its own socket), so it neither sees
nor disturbs anyone else's sessions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.practice import ChatServer, Reply
from dreamscape_tui.practice.sample import scripted_answer
from tests.test_tui_support import sample_root

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which("tmux"), reason="needs tmux"),
    pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("chromedriver")),
                       reason="needs chromium and chromedriver"),
]

CONFIG = """
[sessions]
size = 2
headless = true
home_url = "{url}"

[[models]]
name = "practice-mini"
kind = "webchat"
url = "{url}?model=practice-mini"
timeout_s = 60.0

[[models]]
name = "practice-pro"
kind = "webchat"
url = "{url}?model=practice-pro"
timeout_s = 60.0

[routing]
ladder = ["practice-mini", "practice-pro"]
"""


class Tmux:
    """A private tmux server (own socket) with one pane."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30)
        return proc.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "tui")


def descendants(pid: int) -> dict[int, str]:
    """Every live process below ``pid``, with its command line."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, str] = {}
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found[child] = cmdline(child)
            stack.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int, command: str) -> bool:
    """Still running the same program (a zombie or a recycled pid does not count)."""
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and cmdline(pid) == command


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with ChatServer(lambda prompt, model: Reply(text=scripted_answer(prompt),
                                                chunk_delay_s=0.0)) as server:
        yield server


def test_tui_heals_in_tmux_and_q_quits_cleanly(tmp_path: Path, chat: ChatServer) -> None:
    root = sample_root(tmp_path)
    (root / ".dreamscape").mkdir()
    (root / ".dreamscape" / "config.toml").write_text(CONFIG.format(url=chat.url))
    exe = Path(sys.executable).with_name("dreamscape")
    exit_file = tmp_path / "exit-status"
    tmux = Tmux(f"dreamscape-test-{os.getpid()}-{time.monotonic_ns()}")
    env = {"XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"], "TERM": "xterm-256color",
           "COLORTERM": "truecolor"}
    command = f"'{exe}' '{root}'; echo $? > '{exit_file}'"
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "tui", "-x", "120", "-y", "36",
         *(arg for key, value in env.items() for arg in ("-e", f"{key}={value}")), command)
    browsers: dict[int, str] = {}
    try:
        pane_pid = int(tmux("display-message", "-p", "-t", "tui", "#{pane_pid}").strip())
        deadline = time.monotonic() + 150
        screen = ""
        while time.monotonic() < deadline:
            screen = tmux.screen()
            browsers.update({p: c for p, c in descendants(pane_pid).items()
                             if "chrom" in c})
            if "Done: 3 healed" in screen and "1 review waiting" in screen:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"the heals did not finish; the screen:\n{screen}")
        assert "Dreamscape" in screen and "inventory.py" in screen
        assert any("chromium" in c for c in browsers.values())  # the pool really ran
        tmux("send-keys", "-t", "tui", "q")
        deadline = time.monotonic() + 60
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert exit_file.exists(), f"q did not quit; the screen:\n{tmux.screen()}"
        assert exit_file.read_text().strip() == "0"
        time.sleep(0.5)  # the kernel reaps quit browsers asynchronously
        left = {p: c for p, c in browsers.items() if alive(p, c)}
        assert not left, f"browser processes left behind: {left}"
    finally:
        tmux("kill-server")  # SIGHUP: the app shuts its pool down if it still runs
        for pid, command in browsers.items():  # last resort, only what this test started
            if alive(pid, command):
                subprocess.run(["kill", str(pid)], check=False)
