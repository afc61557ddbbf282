"""Config: defaults documented in config.toml, layer precedence, and every error kind."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dreamscape_tui.core.config import (
    Config,
    ConfigError,
    as_toml_dict,
    load_config,
    read_toml,
)
from tests.conftest import REPO, Cli


def test_root_config_toml_equals_builtin_defaults() -> None:
    assert read_toml(REPO / "config.toml") == as_toml_dict(Config())


def test_root_config_toml_loads_to_defaults() -> None:
    # home_url "" means the first webchat model's URL on the ladder
    defaults = Config()
    loaded = load_config(None, REPO / "config.toml")
    assert loaded == replace(defaults, sessions=replace(
        defaults.sessions, home_url="https://chatgpt.com/?model=gpt-4o-mini"))


def test_home_url_follows_the_ladder_to_the_models_own_site(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[[models]]\nname = "api"\nkind = "openai-api"\n'
                      'base_url = "http://127.0.0.1:1/v1"\nmodel = "x"\n\n'
                      '[[models]]\nname = "local"\nkind = "webchat"\n'
                      'url = "http://127.0.0.1:3000/?model=qwen"\n\n'
                      '[routing]\nladder = ["api", "local"]\n')
    assert load_config(None, config).sessions.home_url == "http://127.0.0.1:3000/?model=qwen"
    config.write_text(config.read_text() + '\n[sessions]\nhome_url = "http://h/"\n')
    assert load_config(None, config).sessions.home_url == "http://h/"


def test_every_key_in_config_toml_has_a_comment_nearby() -> None:
    """'Documents every key with a comment': each table is introduced by comments."""
    text = (REPO / "config.toml").read_text()
    for header in ("[scanner]", "[sessions]", "[webchat]", "[routing]", "[heal]", "[checks]"):
        before = text.split(header)[0].rstrip().splitlines()[-1]
        after = text.split(header)[1].lstrip().splitlines()[0]
        assert before.startswith("#") or after.startswith("#"), header


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("false", False), ('"auto"', "auto")])
def test_headless_is_a_boolean_or_auto(tmp_path: Path, text: str, value: object) -> None:
    config = _toml(tmp_path, "c.toml", f"[sessions]\nheadless = {text}\n")
    assert load_config(None, config).sessions.headless == value


def _toml(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_layers_merge_in_precedence_order(tmp_path: Path, isolated_config_home: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "proj"
    _toml(isolated_config_home, "dreamscape/config.toml",
          "[sessions]\nsize = 3\nheadless = false\n[heal]\nmax_attempts = 5\n")
    _toml(project, ".dreamscape/config.toml", "[sessions]\nsize = 4\n")
    env = _toml(tmp_path, "env.toml", "[heal]\nmax_attempts = 6\n[scanner]\njobs = 1\n")
    monkeypatch.setenv("DREAMSCAPE_CONFIG", str(env))
    explicit = _toml(tmp_path, "cli.toml", "[scanner]\njobs = 2\n")
    config = load_config(project, explicit, overrides={"heal": {"workers": 7}})
    assert config.sessions.size == 4            # project beats user
    assert config.sessions.headless is False    # user beats defaults; tables merge per key
    assert config.heal.max_attempts == 6        # env beats user
    assert config.scanner.jobs == 2             # --config beats env
    assert config.heal.workers == 7             # flags beat everything


def test_models_array_replaces_lower_layer(tmp_path: Path) -> None:
    cfg = _toml(tmp_path, "c.toml", """
[[models]]
name = "local"
kind = "openai-api"
base_url = "http://127.0.0.1:11434/v1"
model = "qwen2.5-coder"
[routing]
ladder = ["local"]
""")
    config = load_config(None, cfg)
    assert [m.name for m in config.models] == ["local"]
    assert config.models[0].timeout_s == 300.0


BAD_CONFIGS = [
    ("invalid toml", "[sessions\nsize = 2", ["invalid TOML"]),
    ("unknown key", "[sessions]\nsise = 2", ["sise", "did you mean 'size'", "sessions"]),
    ("unknown section", "[sesions]\nsize = 2", ["sesions", "did you mean 'sessions'"]),
    ("wrong type", '[sessions]\nsize = "two"', ["sessions.size", "integer", "'two'"]),
    ("bool as int", "[sessions]\nsize = true", ["sessions.size", "integer"]),
    ("out of range", "[sessions]\nsize = 0", ["sessions.size", "from 1 to 64", "0"]),
    ("bad literal", '[sessions]\ndriver = "cloud"', ["sessions.driver", "'local'", "'remote'"]),
    ("headless neither", '[sessions]\nheadless = "maybe"',
     ["sessions.headless", "expected boolean or 'auto'", "'maybe'"]),
    ("headless as int", "[sessions]\nheadless = 1", ["sessions.headless", "boolean or 'auto'"]),
    ("list of wrong items", "[scanner]\nignore = [1]", ["scanner.ignore[0]", "string"]),
    ("table expected", "sessions = 3", ["sessions", "table"]),
    ("unknown model kind",
     '[[models]]\nname = "x"\nkind = "grpc"\nurl = "u"\n[routing]\nladder = ["x"]',
     ["models[0].kind", "'webchat'", "'openai-api'"]),
    ("model missing name", '[[models]]\nkind = "webchat"\nurl = "u"',
     ["models[0]", "missing required key 'name'"]),
    ("ladder unknown model", '[routing]\nladder = ["gpt-4o-mini", "gpt-9"]',
     ["[routing] ladder", "'gpt-9'", "gpt-4o-mini, o3"]),
    ("webchat without url", '[[models]]\nname = "x"\nkind = "webchat"\n[routing]\nladder = []',
     ["models[0].url"]),
    ("openai-api without model",
     '[[models]]\nname = "x"\nkind = "openai-api"\nbase_url = "http://h"\n'
     '[routing]\nladder = []',
     ["models[0]", "base_url and model"]),
    ("duplicate model",
     '[[models]]\nname = "x"\nurl = "u"\nkind = "webchat"\n'
     '[[models]]\nname = "x"\nurl = "v"\nkind = "webchat"\n[routing]\nladder = []',
     ["duplicate model name 'x'"]),
]


@pytest.mark.parametrize(("case", "text", "needles"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_is_one_clear_line(tmp_path: Path, cli: Cli, case: str, text: str,
                                      needles: list[str]) -> None:
    cfg = _toml(tmp_path, "bad.toml", text)
    with pytest.raises(ConfigError) as info:
        load_config(None, cfg)
    message = str(info.value)
    assert message.startswith(str(cfg)), message
    for needle in needles:
        assert needle in message, (needle, message)
    result = cli("scan", str(tmp_path), "--config", str(cfg))
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1 and str(cfg) in result.err
    assert "Traceback" not in result.err


def test_missing_config_file(tmp_path: Path, cli: Cli) -> None:
    result = cli("scan", str(tmp_path), "--config", str(tmp_path / "nope.toml"))
    assert result.code == 2
    assert "nope.toml: --config file does not exist" in result.err


def test_env_config_missing(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DREAMSCAPE_CONFIG", str(tmp_path / "gone.toml"))
    result = cli("scan", str(tmp_path))
    assert result.code == 2 and "DREAMSCAPE_CONFIG" in result.err


def test_unreadable_config_is_a_config_error(tmp_path: Path) -> None:
    directory = tmp_path / "dir.toml"
    directory.mkdir()
    (tmp_path / "proj" / ".dreamscape").mkdir(parents=True)
    (tmp_path / "proj" / ".dreamscape" / "config.toml").write_bytes(b"\xff\xfe[x]")
    with pytest.raises(ConfigError, match=r"not UTF-8|invalid TOML"):
        load_config(tmp_path / "proj", None)


def test_project_config_error_names_project_file(tmp_path: Path, cli: Cli) -> None:
    _toml(tmp_path, ".dreamscape/config.toml", "[heal]\nmax_attempts = -1\n")
    result = cli("scan", str(tmp_path))
    assert result.code == 2
    assert str(tmp_path / ".dreamscape" / "config.toml") in result.err
    assert "heal.max_attempts" in result.err and "from 1 to 20" in result.err


def test_negative_jobs_flag(tmp_path: Path, cli: Cli) -> None:
    result = cli("scan", str(tmp_path), "--jobs", "-1")
    assert result.code == 2 and "--jobs" in result.err


def test_cookies_are_applied_per_cookie_domain() -> None:
    from dreamscape_tui.core.cookies import cookies_by_site

    cookies = [{"name": "a", "value": "1", "domain": ".chatgpt.com"},
               {"name": "b", "value": "2", "domain": "127.0.0.1"},
               {"name": "c", "value": "3", "domain": "elsewhere.org"}]
    grouped = cookies_by_site(cookies, ["https://chatgpt.com/?model=o3",
                                        "http://127.0.0.1:3000/", "http://127.0.0.2/"])
    assert [(site, [c["name"] for c in fit]) for site, fit in grouped] == [
        ("https://chatgpt.com/?model=o3", ["a"]), ("http://127.0.0.1:3000/", ["b"])]
