"""The openai-api model kind against a loopback server, and the registry's routing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core.config import Config, ModelConfig, RoutingConfig, load_config
from dreamscape_tui.core.errors import (
    AnswerTimeout,
    BadResponse,
    ModelError,
    RateLimited,
    UsageError,
)
from dreamscape_tui.core.openai_api import chat_completion
from dreamscape_tui.core.registry import ModelRegistry, RouteRequest
from tests.conftest import Cli
from tests.fake_openai import FakeOpenAI, Scripted, fake_openai_server


@pytest.fixture(scope="module")
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(api: FakeOpenAI) -> None:
    api.replies.clear()
    api.requests.clear()
    api.headers.clear()


def model(api: FakeOpenAI, **kw: object) -> ModelConfig:
    fields: dict[str, object] = {"name": "local", "kind": "openai-api", "base_url": api.url,
                                 "model": "coder-7b", "timeout_s": 5.0}
    fields.update(kw)
    return ModelConfig(**fields)  # type: ignore[arg-type]


def config_file(tmp_path: Path, api: FakeOpenAI) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(f"""
[[models]]
name = "local"
kind = "openai-api"
base_url = "{api.url}"
model = "coder-7b"
timeout_s = 5.0
[routing]
ladder = ["local"]
""")
    return path


def test_answer_text_and_exact_code_blocks(api: FakeOpenAI) -> None:
    code = "def f(x):\n\tif x:  \n\n        return 1\n    return 0"
    api.queue(Scripted.answer(f"Fixed:\n\n```python\n{code}\n```\nDone."))
    answer = chat_completion(model(api), "multi\nline\n  prompt\n")
    assert answer.code_blocks == (code,)
    assert answer.text.startswith("Fixed:") and answer.model == "local"
    assert api.requests[0]["model"] == "coder-7b"
    assert api.requests[0]["messages"] == [{"role": "user", "content": "multi\nline\n  prompt\n"}]


def test_api_key_is_sent_from_the_named_env_var(api: FakeOpenAI,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-test")
    chat_completion(model(api, api_key_env="MY_KEY"), "hi")
    assert api.headers[0]["Authorization"] == "Bearer sk-test"


def test_missing_api_key_env_is_a_usage_error(api: FakeOpenAI,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    with pytest.raises(UsageError, match="NOT_SET_KEY is not set"):
        chat_completion(model(api, api_key_env="NOT_SET_KEY"), "hi")


@pytest.mark.parametrize(("reply", "error", "needle"), [
    (Scripted(429, b'{"error": {"message": "slow down"}}', {"Retry-After": "7"}),
     RateLimited, "retry after 7 s: slow down"),
    (Scripted(200, b"<html>not json</html>"), BadResponse, "not JSON"),
    (Scripted(200, b'{"choices": []}'), BadResponse, "choices[0].message.content"),
    (Scripted(200, b'{"choices": [{"message": {"content": null}}]}'), BadResponse, "not text"),
    (Scripted(200, b'["a", "list"]'), BadResponse, "choices"),
    (Scripted(500, b"upstream exploded"), ModelError, "HTTP 500: upstream exploded"),
    (Scripted(401, b'{"error": "bad key"}'), ModelError, "not authorised"),
])
def test_error_replies_are_typed(api: FakeOpenAI, reply: Scripted, error: type[Exception],
                                 needle: str) -> None:
    api.queue(reply)
    with pytest.raises(error) as info:
        chat_completion(model(api), "hi")
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_unreachable_server_is_a_model_error(api: FakeOpenAI) -> None:
    with pytest.raises(ModelError, match="cannot reach"):
        chat_completion(model(api, base_url="http://127.0.0.1:9/v1"), "hi")


def test_slow_server_times_out(api: FakeOpenAI) -> None:
    import time

    def slow(prompt: str) -> Scripted:
        time.sleep(1.5)
        return Scripted.answer("late")

    api.fallback = slow
    try:
        with pytest.raises(AnswerTimeout):
            chat_completion(model(api, timeout_s=1.0), "hi")
    finally:
        api.fallback = FakeOpenAI().fallback


def test_ask_cli_json_and_errors(api: FakeOpenAI, cli: Cli, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config_file(tmp_path, api)
    api.queue(Scripted.answer("Sure:\n```py\nprint(1)\n```"))
    result = cli("ask", "--config", str(cfg), "--json", "hello")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert set(data) == {"model", "text", "code_blocks", "seconds"}
    assert (data["model"], data["code_blocks"]) == ("local", ["print(1)"])

    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("from\nstdin\n"))
    result = cli("ask", "--config", str(cfg), "-")
    assert result.code == 0 and result.out == "echo: from\nstdin\n"

    api.queue(Scripted(429, b"{}"))
    result = cli("ask", "--config", str(cfg), "hello")
    assert result.code == 1 and result.err.count("\n") == 1 and "rate limited" in result.err

    api.queue(Scripted(200, b"{broken"))
    result = cli("ask", "--config", str(cfg), "hello")
    assert result.code == 1 and "not JSON" in result.err and "Traceback" not in result.err

    result = cli("ask", "--config", str(cfg), "--model", "nope", "hello")
    assert result.code == 2 and "unknown model 'nope'" in result.err

    result = cli("ask", "--config", str(cfg), "   ")
    assert result.code == 2 and "empty" in result.err


def test_routing_climbs_the_ladder_and_respects_thresholds() -> None:
    models = (
        ModelConfig(name="small", kind="webchat", url="u1", max_lines=100, max_complexity=10),
        ModelConfig(name="mid", kind="webchat", url="u2", max_lines=1000),
        ModelConfig(name="big", kind="webchat", url="u3"),
    )
    registry = ModelRegistry(Config(models=models,
                                    routing=RoutingConfig(ladder=("small", "mid", "big"))))
    small = RouteRequest(lines=50, cc_max=5)
    assert [registry.route(small, n).name for n in (1, 2, 3, 4)] == ["small", "mid", "big", "big"]
    assert registry.route(RouteRequest(lines=50, cc_max=20), 1).name == "mid"
    assert registry.route(RouteRequest(lines=5000), 1).name == "big"
    assert registry.route(small, 1, order=["big", "small"]).name == "big"


def test_models_cli(cli: Cli, tmp_path: Path, api: FakeOpenAI) -> None:
    result = cli("models", "--json")
    data = json.loads(result.out)
    assert data["ladder"] == ["gpt-4o-mini", "o3"]
    assert data["models"][0]["url"] == "https://chatgpt.com/?model=gpt-4o-mini"
    result = cli("models", "--config", str(config_file(tmp_path, api)))
    assert result.code == 0 and "local" in result.out and "ladder: local" in result.out
    assert load_config(None, config_file(tmp_path, api)).models[0].model == "coder-7b"
