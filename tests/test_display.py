"""``[sessions] headless``: true, false, or "auto" (visible on $DISPLAY, else on our own Xvfb).

The Xvfb tests run a real pool (and ``login --browser``) with no $DISPLAY: the browser
must run headful, on a virtual display dreamscape started, and that display must be gone
when the pool (or the login) is. They need Debian's ``xvfb``, which ``scripts/test``
installs with Chromium: without it they skip, except in CI (``CI=true``), where a
missing Xvfb is a failure, since CI must prove this path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core import browser as proc
from dreamscape_tui.core import display
from dreamscape_tui.core.client import OpenAIClient
from dreamscape_tui.core.config import Config
from dreamscape_tui.core.display import browser_mode
from dreamscape_tui.core.pool import SessionPool
from dreamscape_tui.practice import ChatServer, Reply
from tests.browser_fixtures import browser_configs, browser_test
from tests.conftest import Cli


@pytest.fixture
def xvfb(monkeypatch: pytest.MonkeyPatch) -> None:
    """No $DISPLAY, and Xvfb installed (else skip; in CI: fail)."""
    if display.find_xvfb() is None:
        reason = "needs Xvfb (Debian package xvfb; scripts/test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Xvfb path cannot be tested in CI: {reason}")
        pytest.skip(reason)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


# -- which mode (no browser) ---------------------------------------------------------------


def test_each_setting_picks_its_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(display, "find_xvfb", lambda: "/usr/bin/Xvfb")
    assert browser_mode(True, {"DISPLAY": ":0"}) == "headless"
    assert browser_mode(False, {}) == "display"
    assert browser_mode("auto", {"DISPLAY": ":0"}) == "display"  # the real display first
    assert browser_mode("auto", {"DISPLAY": ""}) == "xvfb"
    monkeypatch.setattr(display, "find_xvfb", lambda: None)
    assert browser_mode("auto", {}) == "headless"  # nothing to show it on


def test_launch_flags_follow_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proc, "find_browser", lambda configured: "/usr/bin/chromium")
    monkeypatch.setattr(display, "find_xvfb", lambda: None)
    base = Config()

    def args(headless: bool | str, profile: Path | None) -> list[str]:
        sessions = dataclasses.replace(base.sessions, headless=headless)
        options = OpenAIClient(sessions, base.webchat).launch_options(profile)
        flags: list[str] = options.to_capabilities()["goog:chromeOptions"]["args"]
        return flags

    local = Path("/tmp/profile")
    monkeypatch.setenv("DISPLAY", ":7")
    assert "--headless=new" in args(True, local)
    assert "--headless=new" not in args(False, local)
    assert "--headless=new" not in args("auto", local)
    assert "--headless=new" in args("auto", None)  # a Grid node's display is not ours
    assert "--headless=new" not in args(False, None)
    monkeypatch.delenv("DISPLAY")
    assert "--headless=new" in args("auto", local)  # no display, no Xvfb


def test_xvfb_that_cannot_start_is_one_clear_line(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    fake = tmp_path / "Xvfb"
    fake.write_text("#!/bin/sh\necho '(EE) Cannot establish any listening sockets' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(display, "find_xvfb", lambda: str(fake))
    with pytest.raises(display.SessionUnavailable) as caught:
        display.acquire_display()
    message = str(caught.value)
    assert "Cannot establish any listening sockets" in message and "\n" not in message
    assert "headless = true" in message


# -- the real thing --------------------------------------------------------------------------


def _xvfb_processes() -> list[int]:
    """Our Xvfb servers (children of this test process)."""
    found = []
    for pid in proc.process_tree(os.getpid()):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/comm", encoding="utf-8") as fh:
            if fh.read().strip() == "Xvfb":
                found.append(pid)
    return found


def _environ(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as fh:
        pairs = [item.split(b"=", 1) for item in fh.read().split(b"\0") if b"=" in item]
    return {k.decode(): v.decode() for k, v in pairs}


def _browser_process(pids: list[int]) -> int:
    """The Chromium browser process (not a renderer or helper) among ``pids``."""
    return next(p for p in pids if "chromium" in " ".join(proc.cmdline(p)[:1])
                and not any(a.startswith("--type=") for a in proc.cmdline(p)))


@browser_test
def test_auto_without_a_display_runs_headful_on_our_xvfb_and_stops_it(
    practice: ChatServer, xvfb: None,
) -> None:
    practice.set_responder(lambda prompt, model: Reply(text=f"seen: {prompt}"))
    sessions, webchat = browser_configs(practice, headless="auto", size=2)
    assert _xvfb_processes() == []
    with SessionPool(sessions, webchat) as pool:
        pool.start()
        assert [s.state for s in pool.statuses()] == ["healthy", "healthy"], pool.statuses()
        assert pool.submit("on screen?", practice.url, timeout_s=30).text == "seen: on screen?"
        servers = _xvfb_processes()
        assert len(servers) == 1, servers  # one virtual display serves every session
        screens = set()
        with pool.lease() as one, pool.lease() as two:
            for session in (one, two):
                browser = _browser_process(session.client.process_ids())
                assert not any(a.startswith("--headless") for a in proc.cmdline(browser))
                screens.add(_environ(browser)["DISPLAY"])
            (screen,) = screens
            assert Path(f"/tmp/.X11-unix/X{screen[1:]}").exists()
            # With every browser gone (as in a restart), the pool still holds the display.
            one.client.quit()
            two.client.quit()
            assert _xvfb_processes() == servers
    deadline = time.monotonic() + 5
    while _xvfb_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _xvfb_processes() == []
    assert not Path(f"/tmp/.X11-unix/X{screen[1:]}").exists()


@pytest.fixture
def login_page(practice: ChatServer) -> Iterator[ChatServer]:
    practice.require_login = True
    yield practice


@browser_test
def test_login_browser_without_a_display_runs_on_our_xvfb(
    login_page: ChatServer, xvfb: None, tmp_path: Path, cli: Cli,
    isolated_config_home: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[sessions]\npage_load_timeout_s = 5.0\n\n'
                      f'[[models]]\nname = "practice"\nkind = "webchat"\nurl = "{login_page.url}"\n'
                      f'\n[routing]\nladder = ["practice"]\n')
    # The user logs in on the virtual display (through VNC); here the site lets them in.
    timer = threading.Timer(1.0, lambda: setattr(login_page, "require_login", False))
    timer.start()
    try:
        result = cli("login", "--browser", "--config", str(config))
    finally:
        timer.cancel()
    assert result.code == 0, result.err
    assert "virtual display :" in result.out and "x11vnc -display :" in result.out
    assert (isolated_config_home / "dreamscape" / "cookies.json").exists()
    assert _xvfb_processes() == []
