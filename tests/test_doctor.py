"""``dreamscape doctor`` on every practice DOM, on a drifted page, and with --probe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dreamscape_tui.commands.doctor import PROBE_CODE
from dreamscape_tui.practice import ChatServer, Reply
from tests.browser_fixtures import browser_test, webchat_config_file
from tests.conftest import Cli

DOMS = ("classic", "codemirror", "transcript", "openwebui")


def config(server: ChatServer, tmp_path: Path, dom: str, extra: str = "") -> str:
    return webchat_config_file(tmp_path, f"{server.url}?model=practice&dom={dom}", extra)


@browser_test
@pytest.mark.parametrize("dom", DOMS)
def test_a_matching_page_is_healthy_and_the_probe_code_comes_back(
        practice: ChatServer, tmp_path: Path, cli: Cli, dom: str) -> None:
    practice.queue(Reply(text=f"```python\n{PROBE_CODE}\n```"))
    result = cli("doctor", "--config", config(practice, tmp_path, dom), "--probe", "--json")
    assert result.code == 0, result.out + result.err
    (report,) = json.loads(result.out)["models"]
    assert report["profile"] == ("openwebui" if dom == "openwebui" else "chatgpt")
    assert report["state"] == "healthy" and report["missing"] == []
    assert report["roles"]["prompt_input"]["matched"]
    assert report["roles"]["done_marker"]["matched"]  # seen once the answer ended
    assert report["probe"]["ok"], report["probe"]


@browser_test
def test_a_missing_selector_is_named_with_look_alikes(practice: ChatServer, tmp_path: Path,
                                                      cli: Cli) -> None:
    drifted = '[webchat.selectors]\nprompt_input = "#renamed-prompt"'
    result = cli("doctor", "--config", config(practice, tmp_path, "classic", drifted))
    assert result.code == 3
    assert "prompt_input       MISSING  tried #renamed-prompt" in result.out
    assert "#prompt-textarea" in result.out  # the look-alike a user should try
    assert "needs attention" in result.out


@browser_test
def test_a_logged_out_page_needs_attention(practice: ChatServer, tmp_path: Path,
                                           cli: Cli) -> None:
    practice.require_login = True
    result = cli("doctor", "--config", config(practice, tmp_path, "transcript"), "--json")
    assert result.code == 3
    (report,) = json.loads(result.out)["models"]
    assert report["state"] == "logged_out"


def test_doctor_usage_errors(tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "api.toml"
    path.write_text('[[models]]\nname = "api"\nkind = "openai-api"\n'
                    'base_url = "http://127.0.0.1:9/v1"\nmodel = "x"\n\n'
                    '[routing]\nladder = ["api"]\n')
    result = cli("doctor", "--config", str(path))
    assert result.code == 2 and "no webchat models" in result.err
    result = cli("doctor", "--config", str(path), "--model", "api")
    assert result.code == 2 and "has no chat page" in result.err
