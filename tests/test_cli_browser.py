"""ask / sessions / login through the CLI, with real Chromium and the practice page.

Each error state must reach the user as one line on stderr with the right exit code.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core import display
from dreamscape_tui.practice import SESSION_COOKIE_NAME, ChatServer, Reply
from tests.browser_fixtures import browser_test, webchat_config_file
from tests.conftest import Cli


def config_for(server: ChatServer, tmp_path: Path, extra: str = "",
               home: str | None = None) -> Path:
    return Path(webchat_config_file(tmp_path, f"{server.url}?model=practice-4o", extra,
                                    home or server.url))


@pytest.fixture
def page(chat_server: ChatServer) -> Iterator[ChatServer]:
    chat_server.reset()
    yield chat_server
    chat_server.reset()


def one_line_error(result_err: str) -> bool:
    return result_err.count("\n") == 1 and "Traceback" not in result_err


@browser_test
def test_ask_json_reads_code_exactly(page: ChatServer, tmp_path: Path, cli: Cli) -> None:
    code = "def f(x):\n\tif x:  \n\n        return '<ok>'\n    return None"
    page.queue(Reply(text=f"Here:\n\n```python\n{code}\n```\n\nDone.", chunk_chars=9,
                     pause_after_chars=20, pause_s=2.2))
    result = cli("ask", "--config", str(config_for(page, tmp_path)), "--json",
                 "line one\n    indented\n\nline four")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["code_blocks"] == [code] and data["model"] == "practice"
    assert "Done." in data["text"]  # the 2.2 s pause was not taken for the end
    assert page.prompts[-1] == ("line one\n    indented\n\nline four", "practice-4o")


@browser_test
@pytest.mark.parametrize(("reply", "needle"), [
    (Reply(error="rate_limited"), "Too many requests"),
    (Reply(error="usage_limit"), "limit"),
    (Reply(error="something_went_wrong"), "Something went wrong"),
])
def test_ask_page_errors_are_one_line(page: ChatServer, tmp_path: Path, cli: Cli,
                                      reply: Reply, needle: str) -> None:
    page.queue(reply)
    result = cli("ask", "--config", str(config_for(page, tmp_path)), "hello")
    assert result.code == 1 and one_line_error(result.err), result.err
    assert needle.lower() in result.err.lower()


@browser_test
def test_ask_logged_out_and_page_drift(page: ChatServer, tmp_path: Path, cli: Cli) -> None:
    page.require_login = True
    result = cli("ask", "--config", str(config_for(page, tmp_path)), "hello")
    assert result.code == 1 and one_line_error(result.err)
    assert "log" in result.err.lower()
    page.require_login = False
    drift = '[webchat.selectors]\nprompt_input = "#composer-v2"'
    result = cli("ask", "--config", str(config_for(page, tmp_path, drift)), "hello")
    assert result.code == 1 and one_line_error(result.err)
    assert "prompt_input" in result.err and "#composer-v2" in result.err


@browser_test
def test_sessions_health_and_cookie_login(page: ChatServer, tmp_path: Path, cli: Cli,
                                          isolated_config_home: Path) -> None:
    config = str(config_for(page, tmp_path))
    healthy = cli("sessions", "--config", config, "--json")
    assert healthy.code == 0, healthy.err
    [row] = json.loads(healthy.out)["sessions"]
    assert set(row) == {"id", "state", "driver", "latency_ms", "prompts", "detail"}
    assert (row["state"], row["driver"]) == ("healthy", "local")

    page.require_login = True
    logged_out = cli("sessions", "--config", config, "--json")
    assert logged_out.code == 3
    assert json.loads(logged_out.out)["sessions"][0]["state"] == "logged_out"

    cookie = page.session_cookie()
    exported = [{"name": cookie["name"], "value": cookie["value"], "domain": "127.0.0.1",
                 "path": "/", "secure": True, "httpOnly": True, "sameSite": "no_restriction",
                 "expirationDate": 4102444800.5, "hostOnly": True, "session": False,
                 "storeId": "0", "id": 1}]
    cookie_file = tmp_path / "export.json"
    cookie_file.write_text(json.dumps(exported))
    login = cli("login", "--config", config, "--cookies", str(cookie_file))
    assert login.code == 0, login.err
    assert cookie["value"] not in login.out + login.err  # never printed
    saved = isolated_config_home / "dreamscape" / "cookies.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text())[0]["name"] == SESSION_COOKIE_NAME

    after = cli("sessions", "--config", config, "--json")
    assert after.code == 0, after.err
    assert json.loads(after.out)["sessions"][0]["state"] == "healthy"


@browser_test
def test_sessions_unreachable(page: ChatServer, tmp_path: Path, cli: Cli) -> None:
    config = config_for(page, tmp_path, home="http://127.0.0.1:9/")
    result = cli("sessions", "--config", str(config))
    assert result.code == 3 and "unreachable" in result.out


@pytest.mark.parametrize(("content", "needle"), [
    ("{not json", "not valid JSON"),
    ('{"cookies": 5}', ""),
    ('[{"name": "a"}]', ""),
    ('[{"name": "a", "value": 42, "domain": "x"}]', ""),
])
def test_login_rejects_bad_cookie_files(tmp_path: Path, cli: Cli, content: str,
                                        needle: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(content)
    result = cli("login", "--cookies", str(path))
    assert result.code == 2 and one_line_error(result.err), result.err
    assert str(path) in result.err and needle in result.err
    assert "42" not in result.err  # a cookie value is never echoed


def test_login_usage_errors(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("login").code == 2
    assert "no such file" in cli("login", "--cookies", str(tmp_path / "nope.json")).err
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(display, "find_xvfb", lambda: None)  # nor a virtual one
    result = cli("login", "--browser")
    assert result.code == 2 and "needs a display" in result.err
    assert os.environ.get("DISPLAY") is None
