"""Sessions that tell the truth on every practice DOM, with only [[models]] configured.

No ``home_url``: health checks and cookies go to the models' own site. A logged-out
page is ``logged_out`` whether or not it still shows a composer; a bot challenge is
its own error with the remedy, never something to get around.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dreamscape_tui.practice import ChatServer, Reply
from tests.browser_fixtures import browser_test, webchat_config_file
from tests.conftest import Cli

DOMS = ("classic", "codemirror", "transcript", "openwebui")
CHALLENGE = (b"<!doctype html><html><head><title>Just a moment...</title></head><body>"
             b"<div id='challenge-form'>Checking your browser before accessing.</div>"
             b"</body></html>")


def models_only(url: str, tmp_path: Path) -> str:
    return webchat_config_file(tmp_path, url)


def import_login_cookie(practice: ChatServer, tmp_path: Path, cli: Cli, config: str) -> None:
    """What a user does with a browser's cookie export: ``dreamscape login --cookies``."""
    cookie = practice.session_cookie()
    exported = tmp_path / "cookies.json"
    exported.write_text(json.dumps([{"name": cookie["name"], "value": cookie["value"],
                                     "domain": "127.0.0.1", "path": "/", "secure": True,
                                     "httpOnly": True, "sameSite": "lax"}]))
    assert cli("login", "--config", config, "--cookies", str(exported)).code == 0


def state(cli: Cli, config: str) -> tuple[int, dict[str, object]]:
    result = cli("sessions", "--config", config, "--json")
    (row,) = json.loads(result.out)["sessions"]
    return result.code, row


@browser_test
@pytest.mark.parametrize("dom", DOMS)
def test_health_and_login_on_the_models_own_site(practice: ChatServer, tmp_path: Path,
                                                 cli: Cli, dom: str) -> None:
    config = models_only(f"{practice.url}?model=practice&dom={dom}", tmp_path)
    code, row = state(cli, config)
    assert (code, row["state"]) == (0, "healthy"), row

    practice.require_login = True
    code, row = state(cli, config)
    assert (code, row["state"]) == (3, "logged_out")

    practice.logged_out_composer = True  # a working composer does not make it logged in
    code, row = state(cli, config)
    assert (code, row["state"]) == (3, "logged_out"), row

    import_login_cookie(practice, tmp_path, cli, config)
    code, row = state(cli, config)
    assert (code, row["state"]) == (0, "healthy"), row


@pytest.fixture
def challenge_page() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(403)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(CHALLENGE)))
            self.end_headers()
            self.wfile.write(CHALLENGE)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/?model=x"
    server.shutdown()
    server.server_close()


@browser_test
def test_a_challenge_page_is_its_own_error_with_the_remedy(challenge_page: str,
                                                          tmp_path: Path, cli: Cli) -> None:
    config = models_only(challenge_page, tmp_path)
    code, row = state(cli, config)
    assert code == 3 and row["state"] == "error"
    assert "bot challenge" in str(row["detail"]) and "debugger_address" in str(row["detail"])
    asked = cli("ask", "--config", config, "hello")
    assert asked.code == 1 and "bot challenge" in asked.err and "openai-api" in asked.err
    assert asked.err.count("\n") == 1 and "Traceback" not in asked.err


@browser_test
def test_the_sites_own_session_endpoint_decides_when_the_page_hides_it(
        practice: ChatServer, tmp_path: Path, cli: Cli) -> None:
    # a composer and no login marker we know: only /api/auth/session tells the truth
    practice.require_login = practice.logged_out_composer = True
    config = models_only(f"{practice.url}?model=practice&dom=classic", tmp_path)
    with open(config, "a") as fh:
        fh.write('\n[webchat.selectors]\nlogin_wall = "button.renamed-login"\n')
    code, row = state(cli, config)
    assert (code, row["state"]) == (3, "logged_out"), row
    assert "/api/auth/session" in str(row["detail"])


@browser_test
def test_open_webui_login_from_an_httponly_cookie(practice: ChatServer, tmp_path: Path,
                                                  cli: Cli) -> None:
    # Open WebUI's page reads its token from localStorage, but a browser export gives
    # the httpOnly cookie only (found on the real Open WebUI 0.12.4): the site's own
    # /api/v1/auths/ returns the token, which the client hands to the page
    practice.require_login = practice.token_login = True
    config = models_only(f"{practice.url}?model=practice&dom=openwebui", tmp_path)
    code, row = state(cli, config)
    assert (code, row["state"]) == (3, "logged_out"), row  # no cookie: really logged out
    import_login_cookie(practice, tmp_path, cli, config)
    code, row = state(cli, config)
    assert (code, row["state"]) == (0, "healthy"), row
    practice.queue(Reply(text="```python\nprint(1)\n```"))
    asked = cli("ask", "--config", config, "--json", "hello")
    assert asked.code == 0, asked.err
    assert json.loads(asked.out)["code_blocks"] == ["print(1)"]
