"""Budget decisions (policy.py) and the run's ledger (budget.py), without models or pytest."""

from __future__ import annotations

import threading

import pytest

from dreamscape_tui.core.budget import Ledger, RunSpend, Spend, cost_of
from dreamscape_tui.core.config import BudgetConfig, ModelConfig
from dreamscape_tui.core.policy import (
    Escalate,
    model_exhausted,
    no_model_left,
    over_budget,
)

FAST = ModelConfig(name="fast", kind="openai-api", budget_tokens=100)


@pytest.mark.parametrize(("spent", "limits", "expected"), [
    (Spend(5, 9e9, 10**9, 1e9), BudgetConfig(), None),  # 0 = no limit
    (Spend(1), BudgetConfig(attempts=2), None),
    (Spend(2), BudgetConfig(attempts=2),
     Escalate("run budget spent: 2 attempts ([budget] attempts = 2)")),
    (Spend(0, 59.9), BudgetConfig(seconds=60), None),
    (Spend(0, 61.2), BudgetConfig(seconds=60),
     Escalate("run budget spent: 61 s ([budget] seconds = 60)")),
    (Spend(0, 0, 999), BudgetConfig(tokens=1000), None),
    (Spend(0, 0, 1200), BudgetConfig(tokens=1000),
     Escalate("run budget spent: 1200 tokens ([budget] tokens = 1000)")),
    (Spend(0, 0, 0, 0.2), BudgetConfig(cost=0.15),
     Escalate("run budget spent: cost 0.2 ([budget] cost = 0.15)")),
    # the first limit reached is named, in the order attempts, seconds, tokens, cost
    (Spend(3, 100, 5000, 9.0), BudgetConfig(attempts=10, tokens=1000, cost=1.0),
     Escalate("run budget spent: 5000 tokens ([budget] tokens = 1000)")),
])
def test_run_budget_table(spent: Spend, limits: BudgetConfig, expected: Escalate | None) -> None:
    assert over_budget(spent, limits) == expected


@pytest.mark.parametrize(("model", "spent", "expected"), [
    (FAST, Spend(9, 99.0, 99, 9.0), None),
    (FAST, Spend(1, 2.0, 120, 0.0), "fast: 120 tokens (budget_tokens = 100)"),
    (ModelConfig(name="m", budget_attempts=1), Spend(1), "m: 1 attempts (budget_attempts = 1)"),
    (ModelConfig(name="m", budget_seconds=30), Spend(0, 31.0), "m: 31 s (budget_seconds = 30)"),
    (ModelConfig(name="m", budget_cost=0.5), Spend(0, 0, 0, 0.5),
     "m: cost 0.5 (budget_cost = 0.5)"),
    (ModelConfig(name="m"), Spend(10**6, 1e6, 10**9, 1e6), None),
])
def test_model_budget_table(model: ModelConfig, spent: Spend, expected: str | None) -> None:
    assert model_exhausted(spent, model) == expected


def test_no_model_left_names_every_reason() -> None:
    assert no_model_left(["a: 1 attempts (budget_attempts = 1)", "b: cost 2 (budget_cost = 1)"]) \
        == Escalate("every model's budget is spent: a: 1 attempts (budget_attempts = 1); "
                    "b: cost 2 (budget_cost = 1)")


def test_cost_is_usage_times_the_per_1k_prices() -> None:
    model = ModelConfig(name="m", cost_per_1k_input=0.5, cost_per_1k_output=1.5)
    assert cost_of(model, 800, 400) == pytest.approx(0.4 + 0.6)
    assert cost_of(ModelConfig(name="free"), 10**6, 10**6) == 0.0


def test_ledger_counts_per_run_and_per_model_and_releases() -> None:
    now = [100.0]
    ledger = Ledger([FAST, ModelConfig(name="strong")], clock=lambda: now[0])
    assert ledger.reserve(lambda spent: FAST) is FAST
    ledger.charge("fast", 2.5, tokens=120, cost=0.1)
    strong = ModelConfig(name="strong")
    assert ledger.reserve(lambda spent: strong) is strong
    ledger.release("strong")  # interrupted: never counted
    escalate = Escalate("no")
    assert ledger.reserve(lambda spent: escalate) is escalate  # nothing counted
    now[0] = 107.0
    spent = ledger.spend()
    assert spent.run == Spend(1, 7.0, 120, 0.1)  # the run's seconds are its wall time
    assert spent.model("fast") == Spend(1, 2.5, 120, 0.1)
    assert spent.model("strong") == Spend()
    assert spent.to_json()["models"] == {
        "fast": {"attempts": 1, "seconds": 2.5, "tokens": 120, "cost": 0.1},
        "strong": {"attempts": 0, "seconds": 0.0, "tokens": 0, "cost": 0.0}}


def test_reserving_the_last_attempt_is_atomic() -> None:
    """Eight workers race for a run budget of 3 attempts: exactly 3 get one."""
    ledger = Ledger([FAST])
    limits = BudgetConfig(attempts=3)
    granted: list[object] = []
    start = threading.Barrier(8)

    def choose(spent: RunSpend) -> ModelConfig | Escalate:
        return over_budget(spent.run, limits) or FAST

    def worker() -> None:
        start.wait()
        for _ in range(5):
            granted.append(ledger.reserve(choose))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(g is FAST for g in granted) == 3
    assert ledger.spend().run.attempts == 3


def test_usage_is_read_from_the_answer_when_the_server_reports_it() -> None:
    import json

    from dreamscape_tui.core.openai_api import chat_completion
    from tests.fake_openai import Scripted, fake_openai_server

    def reply(usage: object) -> Scripted:
        body: dict[str, object] = {
            "choices": [{"message": {"role": "assistant", "content": "hi"}}]}
        if usage is not None:
            body["usage"] = usage
        return Scripted(200, json.dumps(body).encode())

    with fake_openai_server() as api:
        model = ModelConfig(name="m", kind="openai-api", base_url=api.url, model="x")
        api.queue(reply({"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}),
                  reply(None), reply({"prompt_tokens": None, "completion_tokens": "7"}))
        answers = [chat_completion(model, "q") for _ in range(3)]
    assert [(a.tokens_in, a.tokens_out) for a in answers] == [(12, 3), (0, 0), (0, 0)]
    assert answers[0].text == "hi"
