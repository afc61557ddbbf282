"""The browsers stay quiet: no traffic but the chat pages the user configured (issue 13).

The proof runs a real prompt through a real pool whose Chromium sends everything that
is not loopback to a recording proxy started here, and the proxy must see nothing.
Two controls show that the test can fail: a Chromium started without our flags is
caught by the same kind of proxy phoning home on its own, and the quiet browser itself,
sent to a non-loopback URL at the end, is seen too (so its proxy was really in the way).

The other tests need no browser run: what we send to a browser we start, that attach
mode sends none of it, and that every switch, feature and preference name in the quiet
lists still exists in the installed Chromium (an unknown one is silently ignored, so a
name a release drops must be noticed and removed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import mmap
import os
import shutil
import socketserver
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from dreamscape_tui.core import browser as proc
from dreamscape_tui.core.client import OpenAIClient
from dreamscape_tui.core.config import Config
from dreamscape_tui.core.pool import SessionPool
from dreamscape_tui.practice import ChatServer, Reply
from tests.browser_fixtures import CHROMEDRIVER, CHROMIUM, browser_configs, browser_test

CHROMIUM_BINARY = Path("/usr/lib/chromium/chromium")
"""Debian's real Chromium binary (/usr/bin/chromium is a launcher script)."""

SETTLE_S = 12.0
"""How long the quiet browser must stay silent after it started: start-up services fire
within a second or two, the slowest seen (optimization hints) after about 10 s."""

OUTSIDE_URL = "http://example.invalid/"


class RecordingProxy:
    """A loopback HTTP proxy that forwards nothing: it records the first line of every
    connection (``GET http://host/...`` or ``CONNECT host:443``) and answers 502."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: list[str] = []
        record = self._record

        class Handler(socketserver.StreamRequestHandler):
            timeout = 5.0

            def handle(self) -> None:
                try:
                    line = self.rfile.readline(8192).decode("latin-1").strip()
                except OSError:
                    line = ""
                record(line or "(a connection that sent no request)")
                with contextlib.suppress(OSError):
                    self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                                     b"Connection: close\r\n\r\n")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            block_on_close = False

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="recording-proxy")

    def _record(self, line: str) -> None:
        with self._lock:
            self._seen.append(line)

    @property
    def seen(self) -> list[str]:
        """Every connection so far, in order."""
        with self._lock:
            return list(self._seen)

    @property
    def flags(self) -> tuple[str, ...]:
        """Chromium flags that send everything through this proxy except loopback:
        Chromium never proxies localhost and 127.0.0.0/8 unless told ``<-loopback>``,
        so the practice chat page is reached directly, as a real one would be."""
        return (f"--proxy-server=http://127.0.0.1:{self._server.server_address[1]}",)

    def wait_for(self, timeout: float, wanted: str = "") -> bool:
        """Wait until a recorded line contains ``wanted`` (by default: any connection)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(wanted in line for line in self.seen):
                return True
            time.sleep(0.05)
        return False

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def loud_chromium(proxy: RecordingProxy) -> Iterator[None]:
    """A Chromium with only chromedriver's own defaults and the proxy: what the pool
    ran before issue 13 (its background services on)."""
    profile = tempfile.mkdtemp(prefix="dreamscape-loud-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", *proxy.flags):
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    options.add_experimental_option("prefs", proc.STARTUP_PREFS)  # no start page to load
    service = Service(executable_path=CHROMEDRIVER, env=proc.driver_env())
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# -- the proof ---------------------------------------------------------------------------


@browser_test
def test_pool_browser_sends_nothing_but_the_chat_page(practice: ChatServer) -> None:
    practice.set_responder(lambda prompt, model: Reply(text=f"answer to {prompt}"))
    sessions, webchat = browser_configs(practice, size=1)
    control: dict[str, Any] = {}

    def run_control() -> None:
        try:
            with RecordingProxy() as loud, loud_chromium(loud):
                loud.wait_for(timeout=SETTLE_S)
                control["seen"] = loud.seen
        except BaseException as exc:  # reported by the main thread
            control["error"] = exc

    control_thread = threading.Thread(target=run_control, name="loud-control")
    control_thread.start()
    try:
        with RecordingProxy() as proxy:
            pool = SessionPool(sessions, webchat, client_factory=lambda sid: OpenAIClient(
                sessions, webchat, session_id=sid, extra_args=proxy.flags))
            with pool:
                started = time.monotonic()
                pool.start()
                assert pool.statuses()[0].state == "healthy", pool.statuses()
                answer = pool.submit("are you quiet?", practice.url)
                assert answer.text == "answer to are you quiet?"
                time.sleep(max(0.0, started + SETTLE_S - time.monotonic()))
                quiet = proxy.seen

                # Control: the same browser does go through the proxy for a page that
                # is not on loopback, so the silence above is the browser's own.
                with pool.lease() as session:
                    session.client.validate_session(OUTSIDE_URL)
                assert proxy.wait_for(5, f"GET {OUTSIDE_URL}"), proxy.seen
    finally:
        control_thread.join(60)

    assert quiet == [], f"the quiet browser contacted, on its own: {quiet}"
    assert [p.text for p in practice.prompts] == ["are you quiet?"]
    # Control: without our flags Chromium phones home, and a proxy like this one sees it.
    assert "error" not in control, control.get("error")
    assert control.get("seen"), "a Chromium without the quiet flags sent nothing: no control"


# -- what we send, and what we do not ----------------------------------------------------


def _chrome_options(options: webdriver.ChromeOptions) -> dict[str, Any]:
    caps: dict[str, Any] = options.to_capabilities()["goog:chromeOptions"]
    return caps


def test_launch_options_carry_every_quiet_switch_feature_and_pref(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(proc, "find_browser", lambda configured: "/usr/bin/chromium")
    base = Config()
    client = OpenAIClient(base.sessions, base.webchat,
                          extra_args=("--proxy-server=http://127.0.0.1:1",
                                      "--disable-features=Extra"))
    for profile in (Path("/tmp/profile"), None):  # local, and Selenium Grid
        chrome = _chrome_options(client.launch_options(profile))
        args = chrome["args"]
        assert set(proc.QUIET_SWITCHES) <= set(args)
        disable = [a for a in args if a.startswith("--disable-features=")]
        assert disable == [
            "--disable-features=" + ",".join((*proc.QUIET_DISABLED_FEATURES, "Extra"))]
        assert "--proxy-server=http://127.0.0.1:1" in args
        assert chrome["prefs"] == {**proc.STARTUP_PREFS, **proc.QUIET_PREFS}
        assert ("binary" in chrome) == (profile is not None)


def test_attach_mode_changes_nothing_in_the_users_browser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = Config()
    sessions = dataclasses.replace(base.sessions, debugger_address="127.0.0.1:9222")
    client = OpenAIClient(sessions, base.webchat,
                          extra_args=("--proxy-server=http://127.0.0.1:1",))
    assert _chrome_options(client.attach_options()) == {
        "debuggerAddress": "127.0.0.1:9222", "extensions": [], "args": []}

    # And that is what start() hands to chromedriver when attaching.
    sent: list[webdriver.ChromeOptions] = []

    class FakeDriver:
        current_window_handle = "our-tab"

        def __init__(self, service: Service, options: webdriver.ChromeOptions) -> None:
            sent.append(options)
            self.service = service
            self.switch_to = self

        def new_window(self, kind: str) -> None:
            assert kind == "tab"  # our own tab: the user's tabs are left as they are

        def set_page_load_timeout(self, seconds: float) -> None:
            pass

    monkeypatch.setattr(proc, "check_debugger", lambda address: None)
    monkeypatch.setattr(proc, "find_chromedriver", lambda configured: "/bin/true")
    monkeypatch.setattr(webdriver, "Chrome", FakeDriver)
    client.start()
    assert client.profile_dir is None
    assert [_chrome_options(o) for o in sent] == [
        {"debuggerAddress": "127.0.0.1:9222", "extensions": [], "args": []}]


@pytest.mark.skipif(not CHROMIUM_BINARY.exists(), reason="needs Debian's chromium")
def test_every_quiet_name_exists_in_the_installed_chromium() -> None:
    switches = [flag[2:].split("=", 1)[0] for flag in proc.QUIET_SWITCHES]
    names = [*switches, *proc.QUIET_DISABLED_FEATURES, *proc.QUIET_PREFS]
    with CHROMIUM_BINARY.open("rb") as fh, mmap.mmap(fh.fileno(), 0,
                                                     access=mmap.ACCESS_READ) as binary:
        # Strings are NUL-terminated; a feature's name may be stored as its C++
        # identifier (kName), from which Chromium derives the name.
        missing = [name for name in names
                   if binary.find(b"\0" + name.encode() + b"\0") < 0
                   and binary.find(b"\0k" + name.encode() + b"\0") < 0]
    assert missing == [], f"not in {CHROMIUM_BINARY} (dropped? remove them): {missing}"
