"""Every escalation threshold, as one pure function of an item and an attempt's outcome.

The heal loop (``heal.py``) runs attempts and executes what this module decides; it
never compares a threshold itself. Nothing here does I/O, so the whole decision table
is unit-tested without models, browsers or pytest (``tests/test_policy.py``).

The thresholds (all in ``[heal]``, one ``HealConfig``; ``--max-attempts`` is
``dataclasses.replace``d into it): complexity rank at or above ``escalate_rank``
(checked before any prompt); a validation that timed out; the same validation error
``same_error_limit`` times; ``max_attempts`` exhausted; a fix that rewrites more than
``max_diff_share`` of the file; and ``auto_apply = false``, which sends every validated
fix to review.

Budgets (``[budget]`` per run, ``budget_*`` per model; 0 = none) are decided here too:
``over_budget`` escalates the rest of a run that spent one of its limits, and
``model_exhausted`` takes a model off the ladder for the rest of the run
(``no_model_left`` when that leaves none). ``budget.Ledger`` only counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dreamscape_tui.core.budget import Spend, model_limits, run_limits
from dreamscape_tui.core.config import BudgetConfig, HealConfig, ModelConfig
from dreamscape_tui.core.healtypes import HealItem

RANKS = "ABCDEF"


class Outcome(StrEnum):
    """How one attempt ended, before any threshold is applied."""

    VALIDATED = "validated"  # the fix passed validation in the isolated copy
    FAILED = "failed"  # validation ran and the fix does not pass
    TIMED_OUT = "timed_out"  # validation ran out of time
    MODEL_ERROR = "model_error"  # the model call failed (rate limit, page error ...)
    UNUSABLE = "unusable"  # the answer held no edit we could apply, or changed nothing
    INTERNAL_ERROR = "internal_error"  # a bug of ours: never retried blindly


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What the heal loop observed: ``number`` is this attempt's (1-based) number,
    ``signature`` fingerprints a validation error, ``changed_share`` is the share of the
    file the fix rewrites."""

    outcome: Outcome
    number: int
    reason: str = ""
    signature: str = ""
    changed_share: float = 0.0


@dataclass(frozen=True, slots=True)
class Apply:
    """Write the validated fix into the user's tree (with a backup)."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Queue another attempt (the next rung of the ladder may answer it)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Escalate:
    """A person decides (a validated fix stays on offer as the item's best candidate)."""

    reason: str


Decision = Apply | Retry | Escalate


def before_attempt(limits: HealConfig, cc_rank: str | None) -> Escalate | None:
    """Escalate a file too complex to heal unattended, before spending a prompt on it."""
    if cc_rank and RANKS.index(cc_rank) >= RANKS.index(limits.escalate_rank):
        return Escalate(f"complexity rank {cc_rank} is at or above the limit "
                        f"{limits.escalate_rank}: too risky to heal unattended")
    return None


def decide(limits: HealConfig, item: HealItem, result: AttemptResult) -> Decision:
    """Apply, retry or escalate after one attempt.

    ``item`` is the item as it was before this attempt was recorded: its log holds the
    earlier attempts only, and ``attempts`` counts this one.
    """
    if result.outcome is Outcome.VALIDATED:
        return _validated(limits, result)
    if result.outcome is Outcome.INTERNAL_ERROR:
        return Escalate(f"internal error: {result.reason}")
    if result.outcome is Outcome.TIMED_OUT:
        return Escalate(f"validation timed out after {limits.validation_timeout_s:g} s")
    if result.signature:
        seen = item.round_signatures().count(result.signature) + 1
        if seen >= limits.same_error_limit:
            return Escalate(f"the same error {seen} times: {result.reason}")
    if result.number >= limits.max_attempts:
        return Escalate(f"attempts exhausted ({result.number}): {result.reason}")
    return Retry(result.reason)


def _validated(limits: HealConfig, result: AttemptResult) -> Decision:
    if result.changed_share > limits.max_diff_share:
        # validated, but too big a change to land unseen: a person decides
        return Escalate(f"the fix rewrites {result.changed_share:.0%} of the file (limit "
                        f"{limits.max_diff_share:.0%})")
    if not limits.auto_apply:
        return Escalate("validated fix waiting for review (auto_apply is off)")
    return Apply()


# -- budgets -----------------------------------------------------------------------------
def _spent(spend: Spend, limits: Spend, key: str) -> str | None:
    """The first limit ``spend`` has reached, worded with the config key that set it
    (``key`` formats a limit's name: "[budget] {}" or "budget_{}")."""
    checks = (("attempts", spend.attempts, limits.attempts, "{:d} attempts", "{:d}"),
              ("seconds", spend.seconds, limits.seconds, "{:.0f} s", "{:g}"),
              ("tokens", spend.tokens, limits.tokens, "{:d} tokens", "{:d}"),
              ("cost", spend.cost, limits.cost, "cost {:.4g}", "{:g}"))
    for name, value, limit, shown, limit_shown in checks:
        if limit and value >= limit:
            return (f"{shown.format(value)} ({key.format(name)} = "
                    f"{limit_shown.format(limit)})")
    return None


def over_budget(run: Spend, limits: BudgetConfig) -> Escalate | None:
    """Escalate instead of trying, once the run has spent one of its ``[budget]`` limits
    (``run.seconds`` is the run's wall time so far)."""
    spent = _spent(run, run_limits(limits), "[budget] {}")
    return None if spent is None else Escalate(f"run budget spent: {spent}")


def model_exhausted(spent: Spend, model: ModelConfig) -> str | None:
    """Why ``model`` is off the ladder for the rest of the run (its ``budget_*`` share
    is spent), or None (``spent.seconds`` is the time spent waiting for its answers)."""
    reason = _spent(spent, model_limits(model), "budget_{}")
    return None if reason is None else f"{model.name}: {reason}"


def no_model_left(reasons: list[str]) -> Escalate:
    """Every model that could take the item has spent its budget."""
    return Escalate("every model's budget is spent: " + "; ".join(reasons))
