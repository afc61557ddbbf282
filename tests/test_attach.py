"""Attach mode (``[sessions] debugger_address``) against a Chromium the test starts itself.

The test plays the user: it starts its own Chromium with ``--remote-debugging-port`` and a
profile of its own, logs in to the practice chat page in it (the page's login button,
clicked over the DevTools protocol as a hand would), and only then points dreamscape at
it. What must hold: a prompt sent through the pool is answered in that browser with that
login; the browser is the very process the user started, with the user's command line
(none of the flags or preferences dreamscape gives the browsers it starts); dreamscape
works in a tab of its own and closes only that tab; and when the pool is gone, the
user's browser is still running and still answers on its debug port.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from dreamscape_tui.core import browser as proc
from dreamscape_tui.core.client import OpenAIClient
from dreamscape_tui.core.errors import SessionUnavailable
from dreamscape_tui.core.pool import SessionPool
from dreamscape_tui.practice import ChatServer, Reply
from tests.browser_fixtures import browser_configs, browser_test
from tests.conftest import Cli
from tests.user_browser import USER_FLAGS, user_chromium

DEBIAN_WRAPPER_FLAGS = {"--no-default-browser-check", "--disable-dev-shm-usage"}
"""Flags Debian's /usr/bin/chromium adds itself (/etc/chromium.d): on the user's command
line whoever starts the browser, so they prove nothing either way."""

def start_time(pid: int) -> int:
    """The process's start time (clock ticks after boot): with the pid, its identity."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[19])


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@browser_test
def test_the_pool_drives_the_users_own_logged_in_browser_and_leaves_it_running(
    practice: ChatServer, tmp_path: Path,
) -> None:
    practice.require_login = True
    practice.set_responder(lambda prompt, model: Reply(text=f"answer to {prompt}"))
    login_page = practice.url + "auth/login?next=/"
    with user_chromium(tmp_path / "user-profile", login_page) as user:
        # The user logs in, in their own browser, before dreamscape is involved.
        wait_for(lambda: any("auth/login" in url for _, url in user.tabs()))
        user.click("auth/login", '[data-testid="practice-login-continue"]')
        wait_for(lambda: [url for _, url in user.tabs()] == [practice.url])
        pid = user.process.pid
        identity = (pid, start_time(pid), proc.cmdline(pid))
        tabs = user.tabs()

        sessions, webchat = browser_configs(practice, debugger_address=user.address, size=2)
        with SessionPool(sessions, webchat) as pool:
            assert pool.size == 1  # one browser: one session
            pool.start()
            assert [s.state for s in pool.statuses()] == ["healthy"], pool.statuses()
            answer = pool.submit("hello from the pool", practice.url + "?model=m1",
                                 timeout_s=30)
            assert answer.text == "answer to hello from the pool"
            assert [(p.text, p.model) for p in practice.prompts] == [
                ("hello from the pool", "m1")]
            with pool.lease() as session:
                # chromedriver started no browser: its process tree is itself alone
                driver_tree = session.client.process_ids()
                assert len(driver_tree) == 1, driver_tree
                assert session.client.profile_dir is None
                # our own tab, next to the user's, which still shows what it showed
                assert len(user.tabs()) == 2
                assert set(tabs) <= set(user.tabs())

        # The user's browser: the same process, with the user's command line only ...
        assert (pid, start_time(pid), proc.cmdline(pid)) == identity
        ours = set(proc.chromium_flags(headless=True, profile=None, local=False))
        ours -= {*USER_FLAGS, *DEBIAN_WRAPPER_FLAGS}
        assert ours and not ours & set(identity[2]), ours & set(identity[2])
        assert not any(a.startswith("--disable-features=") for a in identity[2])
        # ... still running, answering on its debug port, our tab closed, theirs intact.
        assert proc.is_running(pid) and user.process.poll() is None
        assert user.devtools("/json/version")["webSocketDebuggerUrl"]
        assert user.tabs() == tabs
    assert not proc.is_running(pid)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@browser_test
def test_a_debugger_address_nobody_answers_is_one_clear_line(
    practice: ChatServer, tmp_path: Path, cli: Cli,
) -> None:
    address = f"127.0.0.1:{_free_port()}"
    sessions, webchat = browser_configs(practice, debugger_address=address)
    started = time.monotonic()
    with pytest.raises(SessionUnavailable) as caught:
        OpenAIClient(sessions, webchat).start()
    message = str(caught.value)
    assert time.monotonic() - started < 10
    assert "\n" not in message
    assert f"debugger_address {address}" in message and "--remote-debugging-port" in message

    config = tmp_path / "attach.toml"
    config.write_text(f'[sessions]\ndebugger_address = "{address}"\n'
                      f'page_load_timeout_s = 5.0\n\n'
                      f'[[models]]\nname = "practice"\nkind = "webchat"\n'
                      f'url = "{practice.url}"\n\n[routing]\nladder = ["practice"]\n')
    result = cli("sessions", "--config", str(config))
    assert result.code == 3
    assert "Traceback" not in result.out + result.err
    lines = result.out.splitlines()
    assert len(lines) == 1 and lines[0].split()[:2] == ["s1", "error"], result.out
    assert f"debugger_address {address}" in lines[0]

    result = cli("ask", "--config", str(config), "hello?")
    assert result.code != 0 and "Traceback" not in result.out + result.err
    assert result.err.count("\n") == 1 and f"debugger_address {address}" in result.err, result
