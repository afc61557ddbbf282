"""Session-scoped fixtures for tests that drive real headless Chromium.

Registered with ``pytest_plugins`` in ``tests/conftest.py``. Starting a browser costs
about a second, so one practice ChatServer and one started :class:`OpenAIClient` are
shared by every test that can stay independent of the others; ``practice`` resets the
server (and the shared browser's cookies) around each test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from dreamscape_tui.core.browser import is_running, process_tree
from dreamscape_tui.core.client import OpenAIClient
from dreamscape_tui.core.config import Config, SessionsConfig, WebchatConfig
from dreamscape_tui.practice import ChatServer

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
HAVE_BROWSER = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()

needs_browser = pytest.mark.skipif(
    not HAVE_BROWSER, reason="needs Debian's chromium and chromedriver"
)

F = TypeVar("F", bound=Callable[..., Any])


def browser_test(func: F) -> F:
    """Mark a test as needing real headless Chromium (and skip it where there is none)."""
    marked: F = pytest.mark.browser(needs_browser(func))
    return marked


@contextlib.contextmanager
def plain_chromium() -> Iterator[Any]:
    """A headless Chromium driven by plain Selenium, not by the product's client (the
    practice-page tests drive the page's DOM themselves); quit on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"):
        options.add_argument(arg)
    browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield browser
    finally:
        browser.quit()


def browser_configs(
    server: ChatServer, *, webchat: dict[str, Any] | None = None, **sessions: Any
) -> tuple[SessionsConfig, WebchatConfig]:
    """Sessions/webchat config aimed at ``server`` with test-sized timeouts.

    Short page-load and stream-start timeouts keep a failing test from hanging for the
    production defaults (30 s); keyword arguments override any SessionsConfig field.
    """
    base = Config()
    fields: dict[str, Any] = {
        "home_url": server.url,
        "headless": True,
        "page_load_timeout_s": 5.0,
        "start_timeout_s": 30.0,
        "health_interval_s": 3600.0,
        **sessions,
    }
    chat: dict[str, Any] = {"stream_start_timeout_s": 5.0, **(webchat or {})}
    return (
        dataclasses.replace(base.sessions, **fields),
        dataclasses.replace(base.webchat, **chat),
    )


def our_browser_pids() -> list[int]:
    """Live chromedriver/chromium processes started by this test process."""
    pids = [p for p in process_tree(os.getpid()) if p != os.getpid()]
    names = []
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/comm", encoding="utf-8") as fh:
            if fh.read().strip().startswith(("chrom", "chrome")):
                names.append(pid)
    return [p for p in names if is_running(p)]


@pytest.fixture(scope="session", autouse=True)
def no_leftover_browsers() -> Iterator[None]:
    """After the run, no Chromium/chromedriver started by it may survive: end any that
    did (and warn, naming them), so a leak never outlives the test run."""
    yield
    deadline = time.monotonic() + 5
    while our_browser_pids() and time.monotonic() < deadline:
        time.sleep(0.1)  # processes of a just-quit browser take a moment to exit
    leftover = our_browser_pids()
    for pid in leftover:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if leftover:
        warnings.warn(
            pytest.PytestWarning(f"browser processes left behind (killed): {leftover}"),
            stacklevel=1,
        )


@pytest.fixture(scope="session")
def chat_server() -> Iterator[ChatServer]:
    """One practice chat page for the whole run (tests reset it through ``practice``)."""
    with ChatServer() as server:
        yield server


@pytest.fixture(scope="session")
def chat_client(chat_server: ChatServer) -> Iterator[OpenAIClient]:
    """One started headless browser shared by the client tests."""
    if not HAVE_BROWSER:
        pytest.skip("needs Debian's chromium and chromedriver")
    sessions, webchat = browser_configs(chat_server)
    client = OpenAIClient(sessions, webchat, session_id="shared")
    client.start()
    try:
        yield client
    finally:
        client.quit()


def webchat_config_file(tmp_path: Path, url: str, extra: str = "", home: str = "") -> str:
    """A config file with one webchat model at ``url`` and test-sized timeouts.

    ``extra`` goes inside ``[webchat]`` (e.g. a ``[webchat.selectors]`` table);
    ``home`` sets ``home_url`` (default: none, so the model's own page is checked).
    """
    path = tmp_path / "webchat.toml"
    home_line = f'home_url = "{home}"' if home else ""
    path.write_text(f"""
[sessions]
size = 1
page_load_timeout_s = 5.0
{home_line}

[webchat]
stream_start_timeout_s = 5.0
{extra}

[[models]]
name = "practice"
kind = "webchat"
url = "{url}"
timeout_s = 20.0

[routing]
ladder = ["practice"]
""")
    return str(path)


@pytest.fixture
def practice(chat_server: ChatServer) -> Iterator[ChatServer]:
    """The shared server, clean: no prompts, no queued replies, no login required."""
    chat_server.reset()
    yield chat_server
    chat_server.reset()


@pytest.fixture
def client(chat_client: OpenAIClient, practice: ChatServer) -> Iterator[OpenAIClient]:
    """The shared client on a clean server, its cookies and config restored afterwards."""
    sessions, webchat = chat_client.sessions, chat_client.webchat
    yield chat_client
    chat_client.sessions, chat_client.webchat = sessions, webchat
    if chat_client.is_alive():
        with contextlib.suppress(Exception):
            chat_client.validate_session(practice.url)
            chat_client.delete_cookies()
