"""OpenAIClient against the practice ChatGPT page in real headless Chromium.

One browser (``chat_client``) serves every test that can share it; the few tests that
need their own browser (a dead one, a broken config) start and quit it themselves.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import socket
import stat
import tempfile
import time
from pathlib import Path

import pytest

from dreamscape_tui.core.browser import is_running
from dreamscape_tui.core.chatflow import ATTACHMENT_NAME, attachment_instruction
from dreamscape_tui.core.client import OpenAIClient
from dreamscape_tui.core.config import Config
from dreamscape_tui.core.cookies import load_cookies, normalize_cookies, save_cookies
from dreamscape_tui.core.errors import (
    AnswerTimeout,
    PageError,
    RateLimited,
    SelectorMissing,
    SessionExpired,
    SessionUnavailable,
    UsageError,
)
from dreamscape_tui.practice import SESSION_COOKIE_NAME, ChatServer, Prompt, Reply
from tests.browser_fixtures import browser_configs, browser_test
from tests.prompts import big_prompt

# -- prompts and answers ---------------------------------------------------------------


@browser_test
def test_20kb_prompt_arrives_byte_exact_once_as_an_attachment(
    client: OpenAIClient, practice: ChatServer
) -> None:
    # over ChatGPT's paste limit a paste would become an attachment anyway: the client
    # attaches the exact text itself and sends one short instruction naming it
    text = big_prompt()
    assert len(text.encode()) > 20_000
    answer = client.submit_prompt(text, practice.url + "?model=gpt-4o", timeout_s=30)
    instruction = attachment_instruction(ATTACHMENT_NAME, len(text))
    assert practice.prompts == [Prompt(instruction, "gpt-4o", ((ATTACHMENT_NAME, text),))]
    assert answer.text.startswith("You said ")
    assert answer.model == "gpt-4o" and answer.page_model == "gpt-4o"


@browser_test
def test_prompt_under_the_paste_limit_arrives_byte_exact_as_text(
    client: OpenAIClient, practice: ChatServer
) -> None:
    text = big_prompt()[:9_000]
    client.submit_prompt(text, practice.url + "?model=gpt-4o", timeout_s=30)
    assert practice.prompts == [Prompt(text, "gpt-4o")]


@browser_test
def test_code_blocks_come_back_exact(client: OpenAIClient, practice: ChatServer) -> None:
    python = 'def heal(x):\n\tif x:  \n\n        return "<ok>"  # done\n    return None   '
    shell = "echo 'a  b'\t|  cat"
    practice.queue(Reply(
        text=f"Fix:\n\n```python\n{python}\n```\n\nand\n\n```\n{shell}\n```\n\nDone.",
        chunk_chars=7,
    ))
    answer = client.submit_prompt("fix it", practice.url, timeout_s=30)
    assert answer.code_blocks == (python, shell)
    assert all("Copy code" not in c and not c.startswith("python") for c in answer.code_blocks)
    assert answer.text.startswith("Fix:") and answer.text.endswith("Done.")


@browser_test
def test_long_pause_mid_answer_is_not_the_end(client: OpenAIClient, practice: ChatServer) -> None:
    text = "A" * 100 + "B" * 100
    practice.queue(
        Reply(text=text, chunk_chars=50, chunk_delay_s=0.01, pause_after_chars=100, pause_s=2.5)
    )
    answer = client.get_chatgpt_response("pause please", practice.url, timeout_s=30)
    assert answer.text == text
    assert answer.seconds >= 2.5


@browser_test
def test_reads_only_the_new_answer(client: OpenAIClient, practice: ChatServer) -> None:
    practice.queue(Reply(text="first answer"), Reply(text="second answer"))
    assert client.submit_prompt("one", practice.url).text == "first answer"
    assert client.submit_prompt("two", practice.url).text == "second answer"
    assert [p.text for p in practice.prompts] == ["one", "two"]


# -- typed errors ----------------------------------------------------------------------


@browser_test
@pytest.mark.parametrize(
    ("error", "expected"),
    [("rate_limited", RateLimited), ("usage_limit", RateLimited),
     ("something_went_wrong", PageError)],
)
def test_error_states_are_typed(
    client: OpenAIClient, practice: ChatServer, error: str, expected: type[Exception]
) -> None:
    practice.queue(Reply(error=error, delay_before_s=0.2))
    with pytest.raises(expected) as caught:
        client.submit_prompt("hello", practice.url, timeout_s=20)
    assert type(caught.value) is expected
    assert "\n" not in str(caught.value)


@browser_test
def test_login_wall_is_session_expired(client: OpenAIClient, practice: ChatServer) -> None:
    practice.require_login = True
    with pytest.raises(SessionExpired, match="login wall"):
        client.submit_prompt("hello", practice.url)
    assert practice.prompts == []


@browser_test
def test_bogus_prompt_input_selector_is_named(client: OpenAIClient, practice: ChatServer) -> None:
    selectors = dataclasses.replace(client.webchat.selectors, prompt_input="#no-such-input")
    client.webchat = dataclasses.replace(client.webchat, selectors=selectors)
    client.sessions = dataclasses.replace(client.sessions, page_load_timeout_s=1.0)
    with pytest.raises(SelectorMissing) as caught:
        client.submit_prompt("hello", practice.url)
    assert "prompt_input" in str(caught.value) and "#no-such-input" in str(caught.value)
    assert caught.value.role == "prompt_input"


@browser_test
def test_slow_answer_times_out_and_is_stopped(client: OpenAIClient, practice: ChatServer) -> None:
    practice.queue(Reply(text="x" * 400, chunk_chars=2, chunk_delay_s=0.05))
    started = time.monotonic()
    with pytest.raises(AnswerTimeout, match=r"did not finish within 1\.5s"):
        client.submit_prompt("slow", practice.url, timeout_s=1.5)
    assert time.monotonic() - started < 4
    # the stop button was clicked: the next prompt is answered normally
    assert client.submit_prompt("next", practice.url).text.startswith("You said 4 characters.")


# -- health ----------------------------------------------------------------------------


@browser_test
def test_validate_session_states(client: OpenAIClient, practice: ChatServer) -> None:
    healthy = client.validate_session()
    assert (healthy.state, healthy.detail) == ("healthy", "")
    assert healthy.latency_ms > 0

    practice.require_login = True
    logged_out = client.validate_session(practice.url)
    assert logged_out.state == "logged_out"

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    unreachable = client.validate_session(f"http://127.0.0.1:{port}/")
    assert unreachable.state == "unreachable"
    assert "ERR_CONNECTION_REFUSED" in unreachable.detail

    client.sessions = dataclasses.replace(client.sessions, page_load_timeout_s=1.0)
    neither = client.validate_session(practice.url + "health")
    assert neither.state == "error"
    assert "#prompt-textarea" in neither.detail


@browser_test
def test_exported_cookies_turn_logged_out_into_healthy(
    client: OpenAIClient, practice: ChatServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    practice.require_login = True
    assert client.validate_session().state == "logged_out"
    cookie = practice.session_cookie()
    exported = [{  # what Cookie-Editor / EditThisCookie write
        "domain": "127.0.0.1", "expirationDate": time.time() + 3600.25, "hostOnly": True,
        "httpOnly": False, "name": cookie["name"], "path": "/", "sameSite": "unspecified",
        "secure": True, "session": False, "storeId": "0", "value": cookie["value"], "id": 1,
    }]
    path = save_cookies(tmp_path / "cfg" / "cookies.json", normalize_cookies(exported))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    caplog.set_level(logging.DEBUG)
    client.add_cookies(load_cookies(path), practice.url)
    assert client.validate_session().state == "healthy"
    assert SESSION_COOKIE_NAME in {c["name"] for c in client.export_cookies()}
    assert any("selenium" in r.name for r in caplog.records)  # the wire log is on ...
    assert cookie["value"] not in caplog.text  # ... but never shows the cookie value
    assert client.submit_prompt("in", practice.url).text.startswith("You said 2")


def test_malformed_cookie_json_is_a_usage_error_without_the_value(tmp_path: Path) -> None:
    secret = "s3cr3t-session-value"
    with pytest.raises(UsageError) as caught:
        normalize_cookies([{"name": "sid", "value": secret, "expirationDate": "tomorrow"}])
    assert secret not in str(caught.value) and "expirationDate" in str(caught.value)
    bad = tmp_path / "cookies.json"
    bad.write_text(json.dumps([{"name": "sid", "value": secret}])[:-3], encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_cookies(bad)
    assert secret not in str(caught.value) and "not valid JSON" in str(caught.value)


# -- lifecycle (own browsers) ----------------------------------------------------------


@browser_test
def test_dead_browser_is_session_unavailable_and_quit_cleans_up(practice: ChatServer) -> None:
    sessions, webchat = browser_configs(practice)
    client = OpenAIClient(sessions, webchat, session_id="doomed")
    client.start()
    try:
        profile = client.profile_dir
        assert profile is not None and profile.is_dir()
        pids = client.process_ids()
        assert len(pids) > 1 and client.is_alive()
        for pid in pids[1:]:  # every Chromium process; chromedriver stays up
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(SessionUnavailable, match="doomed"):
            client.submit_prompt("anyone there?", practice.url, timeout_s=20)
        assert not client.is_alive()
    finally:
        client.quit()
        client.quit()  # idempotent
    assert not profile.exists()
    assert not any(is_running(pid) for pid in pids)


@browser_test
def test_start_failures_are_one_clear_line(practice: ChatServer, tmp_path: Path) -> None:
    sessions, webchat = browser_configs(practice, browser=str(tmp_path / "no-chromium"))
    with pytest.raises(SessionUnavailable) as caught:
        OpenAIClient(sessions, webchat).start()
    message = str(caught.value)
    assert str(tmp_path / "no-chromium") in message and "[sessions] browser" in message

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    remote = dataclasses.replace(
        Config().sessions, driver="remote", remote_url=f"http://127.0.0.1:{port}"
    )
    client = OpenAIClient(remote, webchat)
    assert client.driver_kind == "remote"
    with pytest.raises(SessionUnavailable) as caught:
        client.start()
    assert "remote_url" in str(caught.value) and "\n" not in str(caught.value)
    client.quit()


# -- cookies (no browser) --------------------------------------------------------------


def test_normalize_cookies_maps_exporter_json() -> None:
    exported = {"cookies": [
        {"name": "a", "value": "1", "domain": ".chatgpt.com", "path": "/", "secure": True,
         "httpOnly": True, "sameSite": "no_restriction", "expirationDate": 1893456000.75,
         "hostOnly": False, "session": False, "storeId": "0", "id": 1},
        {"name": "b", "value": "2", "domain": "chatgpt.com", "sameSite": "lax",
         "expirationDate": 1893456000.5, "session": True, "hostOnly": True},
        {"name": "c", "value": "", "sameSite": "unspecified", "secure": False},
        {"name": "d", "value": "4", "sameSite": "None", "secure": False},
        {"name": "e", "value": "5", "sameSite": "Strict", "expiry": 1893456000},
    ]}
    assert normalize_cookies(exported) == [
        {"name": "a", "value": "1", "domain": ".chatgpt.com", "path": "/", "secure": True,
         "httpOnly": True, "sameSite": "None", "expiry": 1893456000},
        {"name": "b", "value": "2", "domain": "chatgpt.com", "sameSite": "Lax"},
        {"name": "c", "value": "", "secure": False},
        {"name": "d", "value": "4", "secure": False},  # Chrome rejects None without secure
        {"name": "e", "value": "5", "sameSite": "Strict", "expiry": 1893456000},
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [({"name": "x"}, "expected a JSON list"), ("cookies", "expected a JSON list"),
     ([42], "expected a cookie object"), ([{"value": "hidden-1"}], '"name"'),
     ([{"name": "n"}], '"value"'), ([{"name": "n", "value": "hidden-2", "secure": "yes"}],
                                   '"secure"'),
     ([{"name": "n", "value": "hidden-3", "sameSite": 3}], '"sameSite"')],
)
def test_normalize_cookies_rejects_malformed_input(raw: object, reason: str) -> None:
    with pytest.raises(UsageError, match=reason) as caught:
        normalize_cookies(raw)
    assert "hidden" not in str(caught.value) and "\n" not in str(caught.value)


def test_save_cookies_is_private_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "cookies.json"
    path.write_text("[]", encoding="utf-8")
    path.chmod(0o644)
    save_cookies(path, [{"name": "a", "value": "1"}])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_cookies(path) == [{"name": "a", "value": "1"}]
    assert [p.name for p in tmp_path.iterdir()] == ["cookies.json"]  # no temp file left


def test_default_cookies_path(isolated_config_home: Path) -> None:
    from dreamscape_tui.core.cookies import default_cookies_path

    sessions = Config().sessions
    assert default_cookies_path(sessions) == isolated_config_home / "dreamscape" / "cookies.json"
    custom = dataclasses.replace(sessions, cookies_file="~/c.json")
    assert default_cookies_path(custom) == Path("~/c.json").expanduser()


@browser_test
def test_starts_with_a_deep_tmpdir(
    practice: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chromium's singleton socket lives under TMPDIR; a deep one must not break start."""
    deep = tmp_path / ("d" * 40) / ("e" * 40)
    deep.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    sessions, webchat = browser_configs(practice)
    client = OpenAIClient(sessions, webchat, session_id="deep")
    try:
        client.start()
        assert client.profile_dir is not None and client.profile_dir.parent == deep
        assert client.validate_session().state == "healthy"
    finally:
        client.quit()
    assert list(deep.iterdir()) == []
