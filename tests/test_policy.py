"""The escalation policy's whole table, without models, browsers or pytest runs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dreamscape_tui.core.checks import Failure
from dreamscape_tui.core.config import HealConfig
from dreamscape_tui.core.healtypes import Attempt, HealItem
from dreamscape_tui.core.policy import (
    Apply,
    AttemptResult,
    Decision,
    Escalate,
    Outcome,
    Retry,
    before_attempt,
    decide,
)

LIMITS = HealConfig(max_attempts=3, same_error_limit=2, escalate_rank="E",
                    max_diff_share=0.6, validation_timeout_s=30.0, auto_apply=True)
ITEM = HealItem(1, Failure("f1", "calc.py", "test", "pytest", "assert 1 == 2"))


def tried(*signatures: str, fresh_round: bool = False) -> HealItem:
    """The item during its next attempt, after failed ones with these error signatures
    (``fresh_round``: a person retried it since, which restarts the count)."""
    log = tuple(Attempt(n, "m", "failed", "r", signature=s)
                for n, s in enumerate(signatures, 1))
    return replace(ITEM, log=log, attempts=1 if fresh_round else len(log) + 1)


@pytest.mark.parametrize(("limits", "item", "result", "expected"), [
    # validated fixes
    (LIMITS, ITEM, AttemptResult(Outcome.VALIDATED, 1, "validated", changed_share=0.2),
     Apply()),
    (LIMITS, ITEM, AttemptResult(Outcome.VALIDATED, 1, "validated", changed_share=0.6),
     Apply()),  # at the limit is still fine
    (LIMITS, ITEM, AttemptResult(Outcome.VALIDATED, 1, "validated", changed_share=0.61),
     Escalate("the fix rewrites 61% of the file (limit 60%)")),
    (replace(LIMITS, auto_apply=False), ITEM,
     AttemptResult(Outcome.VALIDATED, 1, "validated", changed_share=0.1),
     Escalate("validated fix waiting for review (auto_apply is off)")),
    (LIMITS, tried("x", "x"), AttemptResult(Outcome.VALIDATED, 3, "validated"), Apply()),
    # failed validations
    (LIMITS, ITEM, AttemptResult(Outcome.FAILED, 1, "1 test fails", "sig-a"),
     Retry("1 test fails")),
    (LIMITS, tried("sig-a"), AttemptResult(Outcome.FAILED, 2, "1 test fails", "sig-b"),
     Retry("1 test fails")),
    (LIMITS, tried("sig-a"), AttemptResult(Outcome.FAILED, 2, "1 test fails", "sig-a"),
     Escalate("the same error 2 times: 1 test fails")),
    (LIMITS, tried("sig-a", "sig-b", fresh_round=True),
     AttemptResult(Outcome.FAILED, 1, "1 test fails", "sig-a"),
     Retry("1 test fails")),  # a retry with a hint: errors before it do not count
    (LIMITS, tried("sig-a", "sig-b", "sig-c"),
     AttemptResult(Outcome.FAILED, 4, "1 test fails", "sig-a"),
     Escalate("the same error 2 times: 1 test fails")),
    (replace(LIMITS, same_error_limit=1), ITEM,
     AttemptResult(Outcome.FAILED, 1, "boom", "sig-a"), Escalate("the same error 1 times: boom")),
    (LIMITS, tried("a", "b"), AttemptResult(Outcome.FAILED, 3, "still red", "c"),
     Escalate("attempts exhausted (3): still red")),
    (replace(LIMITS, max_attempts=5), tried("a", "b"),
     AttemptResult(Outcome.FAILED, 3, "still red", "c"), Retry("still red")),
    (LIMITS, ITEM, AttemptResult(Outcome.TIMED_OUT, 1, "timed out", "t"),
     Escalate("validation timed out after 30 s")),
    # answers that never reached validation
    (LIMITS, ITEM, AttemptResult(Outcome.MODEL_ERROR, 1, "model error: rate limited"),
     Retry("model error: rate limited")),
    (LIMITS, tried("", ""), AttemptResult(Outcome.MODEL_ERROR, 3, "model error: x"),
     Escalate("attempts exhausted (3): model error: x")),
    (LIMITS, tried(""), AttemptResult(Outcome.UNUSABLE, 2, "the answer changes nothing"),
     Retry("the answer changes nothing")),  # no signature: never "the same error"
    (LIMITS, ITEM, AttemptResult(Outcome.INTERNAL_ERROR, 1, "KeyError: 'x'"),
     Escalate("internal error: KeyError: 'x'")),
])
def test_decision_table(limits: HealConfig, item: HealItem, result: AttemptResult,
                        expected: Decision) -> None:
    assert decide(limits, item, result) == expected


@pytest.mark.parametrize(("rank", "limit", "escalates"), [
    ("A", "E", False), ("D", "E", False), ("E", "E", True), ("F", "E", True),
    ("A", "A", True), (None, "A", False),  # a file without metrics is not judged by rank
])
def test_complexity_rank_is_checked_before_any_prompt(rank: str | None, limit: str,
                                                      escalates: bool) -> None:
    decision = before_attempt(replace(LIMITS, escalate_rank=limit), rank)  # type: ignore[arg-type]
    if escalates:
        assert decision == Escalate(f"complexity rank {rank} is at or above the limit "
                                    f"{limit}: too risky to heal unattended")
    else:
        assert decision is None


def test_max_attempts_override_is_the_configs_replacement() -> None:
    """``--max-attempts 1`` is ``replace(config.heal, max_attempts=1)``: one try."""
    one = replace(LIMITS, max_attempts=1)
    assert decide(one, ITEM, AttemptResult(Outcome.FAILED, 1, "red", "s")) == Escalate(
        "attempts exhausted (1): red")
