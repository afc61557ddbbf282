"""What one heal run spends: attempts, time, tokens and estimated cost, per run and per model.

A ``Ledger`` belongs to one run (one ``Healer``). It only counts: every decision about
a limit is ``policy.py``'s (``over_budget``, ``model_exhausted``). An attempt is counted
when it is reserved, under the ledger's lock, together with the check that the budget
allows it, so workers racing for the last attempt cannot overshoot an attempts budget;
time, tokens and cost are charged when the answer (or the model's error) is back, so
attempts already in flight can overshoot those by their own spend. An attempt the
engine interrupts (pause, quit) is released: it never counted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from dreamscape_tui.core.config import BudgetConfig, ModelConfig

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Spend:
    """Attempts, seconds, tokens (prompt + completion) and estimated cost. As a limit,
    0 means none."""

    attempts: int = 0
    seconds: float = 0.0
    tokens: int = 0
    cost: float = 0.0

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.attempts + other.attempts, self.seconds + other.seconds,
                     self.tokens + other.tokens, self.cost + other.cost)

    def to_json(self) -> dict[str, object]:
        return {"attempts": self.attempts, "seconds": round(self.seconds, 3),
                "tokens": self.tokens, "cost": round(self.cost, 6)}


def run_limits(budget: BudgetConfig) -> Spend:
    """``[budget]`` as a Spend (0 = no limit)."""
    return Spend(budget.attempts, budget.seconds, budget.tokens, budget.cost)


def model_limits(model: ModelConfig) -> Spend:
    """A model's ``budget_*`` keys as a Spend (0 = no limit)."""
    return Spend(model.budget_attempts, model.budget_seconds, model.budget_tokens,
                 model.budget_cost)


def cost_of(model: ModelConfig, tokens_in: int, tokens_out: int) -> float:
    """The estimated cost of one answer from its usage and the model's per-1k prices."""
    return (tokens_in * model.cost_per_1k_input + tokens_out * model.cost_per_1k_output) / 1000


@dataclass(frozen=True, slots=True)
class RunSpend:
    """A ledger's figures at one moment: the run's (``seconds`` is its wall time so far)
    and each model's (``seconds`` is the time spent waiting for its answers)."""

    run: Spend
    models: tuple[tuple[str, Spend], ...] = ()

    def model(self, name: str) -> Spend:
        return next((spend for n, spend in self.models if n == name), Spend())

    def to_json(self) -> dict[str, object]:
        return {**self.run.to_json(),
                "models": {name: spend.to_json() for name, spend in self.models}}


class Ledger:
    """The spend of one heal run, shared by its workers (thread-safe)."""

    def __init__(self, models: Sequence[ModelConfig],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._run = Spend()
        self._models: dict[str, Spend] = {m.name: Spend() for m in models}

    def spend(self) -> RunSpend:
        with self._lock:
            return self._figures()

    def reserve(self, choose: Callable[[RunSpend], T]) -> T:
        """Call ``choose`` with the spend so far; if it returns a model, count one
        attempt for the run and that model before anyone else can look. Whatever
        ``choose`` returns (a model, or why there is none) is returned."""
        with self._lock:
            chosen = choose(self._figures())
            if isinstance(chosen, ModelConfig):
                self._add(chosen.name, Spend(attempts=1))
            return chosen

    def release(self, model: str) -> None:
        """Take back a reserved attempt that never counted (interrupted)."""
        with self._lock:
            self._add(model, Spend(attempts=-1))

    def charge(self, model: str, seconds: float, tokens: int = 0, cost: float = 0.0) -> None:
        """What one answer (or model error) cost: the time waited, its tokens and cost."""
        with self._lock:
            self._add(model, Spend(0, seconds, tokens, cost))

    def _add(self, model: str, spend: Spend) -> None:
        self._run = self._run + spend
        self._models[model] = self._models.get(model, Spend()) + spend

    def _figures(self) -> RunSpend:
        run = replace(self._run, seconds=self._clock() - self._started)
        return RunSpend(run, tuple(self._models.items()))


def describe(spent: Spend, limits: Spend, over: str = "",
             exhausted: Sequence[str] = ()) -> str:
    """One line for people: what a run spent, against its limits where it has them
    ("2/2 tries · 14 s · 2,400 tokens · cost 0.2/0.15 · over budget")."""
    parts = [f"{spent.attempts}/{limits.attempts} tries" if limits.attempts
             else f"{spent.attempts} tries",
             f"{spent.seconds:.0f}/{limits.seconds:g} s" if limits.seconds
             else f"{spent.seconds:.0f} s"]
    if spent.tokens or limits.tokens:
        parts.append(f"{spent.tokens:,}/{limits.tokens:,} tokens" if limits.tokens
                     else f"{spent.tokens:,} tokens")
    if spent.cost or limits.cost:
        parts.append(f"cost {spent.cost:.4g}/{limits.cost:g}" if limits.cost
                     else f"cost {spent.cost:.4g}")
    if over:
        parts.append("over budget")
    elif exhausted:
        names = [reason.split(":", 1)[0] for reason in exhausted]
        parts.append(f"spent: {', '.join(names)}")
    return " · ".join(parts)
