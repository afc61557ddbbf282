"""Per-session browser profiles: persistent for a remote site (a login survives restarts),
temporary for a loopback one (tests and the demo leave nothing behind), never shared.

The real-browser tests reach the practice page under a name that is not loopback
(``chat.test``, mapped to 127.0.0.1 by a Chromium flag), so the pool treats it as the
remote site it stands for and the default location is the one used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core.client import OpenAIClient
from dreamscape_tui.core.userdata import is_loopback_url, make_profile, profile_parent
from dreamscape_tui.practice import ChatServer
from tests.browser_fixtures import browser_configs, browser_test
from tests.user_browser import user_chromium


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


# -- where (no browser) -------------------------------------------------------------------


@pytest.mark.parametrize(("url", "loopback"), [
    ("http://127.0.0.1:8080/", True), ("http://127.9.9.9/", True), ("http://localhost/", True),
    ("http://LOCALHOST:3000/c/1", True), ("http://chat.localhost/", True),
    ("http://[::1]:3000/", True), ("https://chatgpt.com/?model=o3", False),
    ("http://192.168.1.20:3000/", False), ("http://localhost.example.com/", False),
    ("", False),
])
def test_loopback_urls(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_profile_location_by_site(data_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profiles = data_home / "dreamscape" / "profiles"
    assert profile_parent("", "https://chatgpt.com/?model=o3") == profiles
    assert profile_parent("", "http://127.0.0.1:3000/") is None  # loopback: temporary
    assert profile_parent("", "http://localhost:3000/") is None
    assert profile_parent("", "") is None  # no site known: temporary
    assert profile_parent("~/p", "http://127.0.0.1/") == Path("~/p").expanduser()  # set: used
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")  # the XDG spec says: ignore it
    assert profile_parent("", "https://x.example/") == (
        Path.home() / ".local" / "share" / "dreamscape" / "profiles")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert profile_parent("", "https://x.example/") == (
        Path.home() / ".local" / "share" / "dreamscape" / "profiles")


def test_a_persistent_profile_is_private_kept_and_never_shared(
    data_home: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    first = make_profile("", "s1", "https://chat.example/")
    assert first.path == data_home / "dreamscape" / "profiles" / "s1" and not first.temporary
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o700
    assert stat.S_IMODE(first.path.parent.stat().st_mode) == 0o700
    # A second user of the same profile while the first holds it (another dreamscape
    # process, here another client) gets a temporary profile and a warning.
    with caplog.at_level(logging.WARNING, logger="dreamscape_tui.core.userdata"):
        second = make_profile("", "s1", "https://chat.example/")
    assert second.temporary and second.path != first.path
    assert f"in use by dreamscape process {os.getpid()}" in caplog.text
    second.release()
    assert not second.path.exists()
    first.release()
    assert first.path.is_dir()  # kept: the login is in it
    again = make_profile("", "s1", "https://chat.example/")
    assert again.path == first.path and not again.temporary  # free once released
    again.release()


def test_a_profile_chromium_holds_on_another_host_is_not_used(
    data_home: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    path = data_home / "dreamscape" / "profiles" / "s1"
    path.mkdir(parents=True)
    (path / "SingletonLock").symlink_to("elsewhere.example-4242")
    with caplog.at_level(logging.WARNING, logger="dreamscape_tui.core.userdata"):
        profile = make_profile("", "s1", "https://chat.example/")
    assert profile.temporary and "a Chromium on elsewhere.example" in caplog.text
    profile.release()
    # Chromium's lock from this host, of a process that is gone: stale, the profile is ours.
    (path / "SingletonLock").unlink()
    (path / "SingletonLock").symlink_to(f"{socket.gethostname()}-{2**22 + 7}")
    profile = make_profile("", "s1", "https://chat.example/")
    assert profile.path == path and not profile.temporary
    profile.release()


def test_a_loopback_site_gets_a_temporary_profile(data_home: Path) -> None:
    profile = make_profile("", "s1", "http://127.0.0.1:3000/")
    assert profile.temporary and not (data_home / "dreamscape").exists()
    profile.release()
    assert not profile.path.exists()


# -- with a real browser -----------------------------------------------------------------


def session_s1(server: ChatServer) -> tuple[str, Callable[[], OpenAIClient]]:
    """The practice page as ``http://chat.test:PORT/``, and a maker of session s1's client
    on it (its Chromium told that chat.test is 127.0.0.1)."""
    site = f"http://chat.test:{server.port}/"
    sessions, webchat = browser_configs(server, home_url=site)
    flags = ("--host-resolver-rules=MAP chat.test 127.0.0.1",)
    return site, lambda: OpenAIClient(sessions, webchat, session_id="s1", extra_args=flags)


@contextlib.contextmanager
def started(client: OpenAIClient) -> Iterator[OpenAIClient]:
    client.start()
    try:
        yield client
    finally:
        client.quit()


@browser_test
def test_a_cookie_survives_a_restart_in_the_sessions_own_profile(
    practice: ChatServer, data_home: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    site, client = session_s1(practice)
    profile = data_home / "dreamscape" / "profiles" / "s1"
    with started(client()) as first:
        assert first.profile_dir == profile
        assert first.validate_session().state == "healthy"
        first.add_cookies([{"name": "remember", "value": "me", "path": "/",
                            "expiry": int(time.time()) + 3600}], site)
        # Meanwhile a second process wanting s1's profile gets a temporary one.
        with caplog.at_level(logging.WARNING), started(client()) as second:
            temporary = second.profile_dir
            assert temporary is not None and temporary != profile
            assert "in use by dreamscape process" in caplog.text
            assert second.validate_session().state == "healthy"
            assert "remember" not in {c["name"] for c in second.export_cookies()}
    assert temporary is not None and not temporary.exists()
    assert profile.is_dir()

    with started(client()) as again:  # a restart: same profile, cookie still there
        assert again.profile_dir == profile
        assert again.validate_session().state == "healthy"
        cookies = {c["name"]: c["value"] for c in again.export_cookies()}
        assert cookies.get("remember") == "me"


@browser_test
def test_a_profile_a_running_chromium_uses_is_left_to_it(
    practice: ChatServer, data_home: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """E.g. the user opened the profile by hand to log in, and it is still open."""
    _, s1 = session_s1(practice)
    profile = data_home / "dreamscape" / "profiles" / "s1"
    with user_chromium(profile, "about:blank") as user:
        with caplog.at_level(logging.WARNING), started(s1()) as client:
            assert client.profile_dir is not None and client.profile_dir != profile
            assert f"in use by Chromium process {user.process.pid}" in caplog.text
            assert client.validate_session().state == "healthy"
        assert user.process.poll() is None  # theirs, untouched


def test_the_demo_and_tests_keep_temporary_profiles(practice: ChatServer,
                                                    data_home: Path) -> None:
    sessions, _ = browser_configs(practice)
    assert profile_parent(sessions.profile_dir, sessions.home_url) is None
    remote = dataclasses.replace(sessions, home_url="https://chatgpt.com/")
    assert profile_parent(remote.profile_dir, remote.home_url) is not None
