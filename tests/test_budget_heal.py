"""Budgets end to end on the 4-failure sample project against a loopback openai-api
model: a run over its budget escalates the rest untried, a model past its own budget
leaves the ladder, and tokens and cost come from the answers' ``usage``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core.budget import Spend
from dreamscape_tui.core.config import load_config
from dreamscape_tui.core.engine import AutomationEngine
from dreamscape_tui.core.events import Event, HealSpend
from dreamscape_tui.core.healtypes import HealState
from dreamscape_tui.practice.sample import ESCALATED, HEALED, scripted_answer
from tests.conftest import Cli
from tests.fake_openai import FakeOpenAI, Scripted, fake_openai_server
from tests.heal_helpers import api_config, sample_project, scripted

USAGE_IN, USAGE_OUT = 800, 400


def with_usage(content: str) -> Scripted:
    """A chat-completions answer that reports its token usage, as OpenAI's does."""
    payload = {"id": "x", "object": "chat.completion",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop"}],
               "usage": {"prompt_tokens": USAGE_IN, "completion_tokens": USAGE_OUT,
                         "total_tokens": USAGE_IN + USAGE_OUT}}
    return Scripted(200, json.dumps(payload).encode())


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        scripted(server)
        yield server


def priced(api: FakeOpenAI, heal: str, extra: str = "", fast: str = "") -> str:
    """``api_config`` with per-1k prices on both models (and ``fast``'s extra keys)."""
    config = api_config(api, heal).replace(
        'model = "fast-coder"', f'model = "fast-coder"\n{fast}'
        "\ncost_per_1k_input = 0.05\ncost_per_1k_output = 0.15")
    config = config.replace('model = "strong-coder"', 'model = "strong-coder"\n'
                            "cost_per_1k_input = 0.05\ncost_per_1k_output = 0.15")
    return config + extra


def run(root: Path) -> tuple[AutomationEngine, list[HealSpend]]:
    spends: list[HealSpend] = []

    def sink(event: Event) -> None:
        if isinstance(event, HealSpend):
            spends.append(event)

    engine = AutomationEngine(root, load_config(root, None), sink=sink)
    try:
        engine.run_all()
    finally:
        engine.close()
    return engine, spends


def test_a_run_over_its_attempts_budget_escalates_the_rest(tmp_path: Path, api: FakeOpenAI,
                                                          cli: Cli) -> None:
    root = sample_project(tmp_path, api_config(api, "\n[budget]\nattempts = 2"))
    result = cli("heal", "--headless", "--json", str(root))
    assert result.code == 3, result.err
    data = json.loads(result.out)
    assert len(api.requests) == 2  # two attempts, then nothing more was asked
    paths = {h["path"] for h in data["healed"]} | {e["path"] for e in data["escalated"]}
    assert paths == HEALED | ESCALATED and len(data["escalated"]) >= 2
    for escalated in data["escalated"]:  # tried once and retrying, or never tried
        assert escalated["reason"] == "run budget spent: 2 attempts ([budget] attempts = 2)"
    assert sum(h["attempts"] for h in data["healed"]) <= 2
    spend = data["stats"]["spend"]
    assert spend["attempts"] == 2 and spend["tokens"] == 0 and spend["seconds"] > 0
    assert sum(m["attempts"] for m in spend["models"].values()) == 2


def test_a_model_past_its_token_budget_leaves_the_ladder(tmp_path: Path,
                                                         api: FakeOpenAI) -> None:
    """fast may spend 1,000 tokens; its first answer reports 1,200: every later attempt,
    first attempts included, goes to strong. Cost is usage x the per-1k prices."""
    api.fallback = lambda prompt: with_usage(scripted_answer(prompt))
    root = sample_project(tmp_path, priced(api, "workers = 1", fast="budget_tokens = 1000"))
    engine, spends = run(root)
    models = [r["model"] for r in api.requests]
    assert models[0] == "fast-coder" and set(models[1:]) == {"strong-coder"}
    items = engine.heals.items()
    assert {i.path for i in items if i.state is HealState.HEALED} == HEALED
    attempts = [a for i in items for a in i.log]
    assert len(attempts) == len(models)
    each = (USAGE_IN * 0.05 + USAGE_OUT * 0.15) / 1000  # 0.04 + 0.06
    assert all((a.tokens_in, a.tokens_out) == (USAGE_IN, USAGE_OUT) for a in attempts)
    assert all(a.cost == pytest.approx(each) for a in attempts)
    last = spends[-1]
    assert last.spent.run.attempts == len(models)
    assert last.spent.run.tokens == len(models) * (USAGE_IN + USAGE_OUT)
    assert last.spent.run.cost == pytest.approx(len(models) * each)
    fast = last.spent.model("fast")
    assert (fast.attempts, fast.tokens, fast.cost) == (1, 1200, pytest.approx(each))
    assert last.exhausted == ("fast: 1200 tokens (budget_tokens = 1000)",)
    assert last.over == "" and last.limits == Spend()
    stats = engine.heals.stats()
    assert sum(c.cost for c in stats.values()) == pytest.approx(len(models) * each)
    assert sum(c.tokens_in for c in stats.values()) == len(models) * USAGE_IN


def test_a_run_over_its_cost_budget_escalates_the_rest(tmp_path: Path, api: FakeOpenAI) -> None:
    api.fallback = lambda prompt: with_usage(scripted_answer(prompt))
    root = sample_project(tmp_path, priced(api, "workers = 1", "\n[budget]\ncost = 0.15"))
    engine, spends = run(root)
    assert len(api.requests) == 2  # 0.1 each: the second reaches 0.15
    reason = "run budget spent: cost 0.2 ([budget] cost = 0.15)"
    escalated = engine.heals.items((HealState.ESCALATED,))
    assert escalated and all(i.reason == reason for i in escalated)
    assert spends[-1].over == reason and spends[-1].limits == Spend(cost=0.15)
    assert spends[0].spent.run.attempts == 0  # the queue shows the budget from the start


def test_every_model_spent_escalates_naming_their_budgets(tmp_path: Path,
                                                          api: FakeOpenAI) -> None:
    config = api_config(api, "workers = 1")
    for name in ("fast-coder", "strong-coder"):
        config = config.replace(f'model = "{name}"', f'model = "{name}"\nbudget_attempts = 1')
    root = sample_project(tmp_path, config)
    engine, _spends = run(root)
    assert len(api.requests) == 2
    reasons = {i.reason for i in engine.heals.items((HealState.ESCALATED,))}
    assert "every model's budget is spent: fast: 1 attempts (budget_attempts = 1); " \
           "strong: 1 attempts (budget_attempts = 1)" in reasons
