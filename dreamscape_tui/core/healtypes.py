"""The heal loop's vocabulary: states, items and attempts, as types.

Everything above the store speaks these: the healer, the policy, the engine, the
events the UI is fed. Dicts exist only where the journal is read and written
(``healstore.py``). Items are frozen: a change is a new item (``dataclasses.replace``),
so an item handed to another thread in an event can never change under it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from dreamscape_tui.core.checks import Failure, Kind
from dreamscape_tui.core.errors import UsageError

HealId = int
_LABEL = re.compile(r"[hH]?(\d+)")


class HealState(StrEnum):
    """Where one heal item is (docs/architecture.md#heal-states); the first five are
    work in progress."""

    QUEUED = "queued"
    RUNNING = "running"
    VALIDATING = "validating"
    RETRYING = "retrying"
    APPLYING = "applying"
    HEALED = "healed"
    ESCALATED = "escalated"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNDONE = "undone"

    @property
    def active(self) -> bool:
        """Work in progress: a worker owns it, or will take it."""
        return self in ACTIVE

    @property
    def open(self) -> bool:
        """Not settled: a worker is on it, or a person is yet to review it. A failure
        with an open item is never queued a second time."""
        return self in ACTIVE or self is HealState.ESCALATED

    @property
    def waiting(self) -> bool:
        """Ready for a worker to claim."""
        return self in (HealState.QUEUED, HealState.RETRYING)

    @property
    def interrupted(self) -> bool:
        """Mid-flight: a process that stopped here left it to be resumed."""
        return self in (HealState.RUNNING, HealState.VALIDATING, HealState.RETRYING,
                        HealState.APPLYING)

    @property
    def undoable(self) -> bool:
        """Its fix is in the user's tree, with a backup to restore."""
        return self in (HealState.HEALED, HealState.ACCEPTED)

    @property
    def fixed(self) -> bool:
        """The file holds a validated fix (by the engine or a reviewer)."""
        return self in (HealState.HEALED, HealState.ACCEPTED)


ACTIVE = frozenset({HealState.QUEUED, HealState.RUNNING, HealState.VALIDATING,
                    HealState.RETRYING, HealState.APPLYING})
SEVERITY: dict[str, int] = {"syntax": 0, "test": 1, "command": 2}


def heal_label(heal_id: HealId) -> str:
    """How people and ``--json`` name a heal: ``h12``."""
    return f"h{heal_id}"


def parse_heal_id(text: str) -> HealId:
    """``h12`` or ``12`` -> 12; anything else is a clear user error."""
    match = _LABEL.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"heal {text!r}: expected an id such as h3 "
                        "(see dreamscape heal --json for ids)")
    return int(match.group(1))


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at one item: which model, what it answered, and how it ended.

    ``outcome`` is "validated" or "failed"; ``signature`` fingerprints the validation
    error, so the same error twice can escalate. ``format`` is the edit format the
    answer used ("search-replace", "diff", "whole-file"; "" when it held none);
    ``seconds`` how long the model took, ``tokens_in``/``tokens_out`` its reported usage
    (openai-api) and ``cost`` the estimate from the model's per-1k prices. Journals
    written before these existed load with the defaults.
    """

    number: int
    model: str
    outcome: str
    reason: str
    diff: str = ""
    signature: str = ""
    answered_by: str = ""
    format: str = ""
    seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """The best fix found so far: its content, how many tests it still fails, and the
    hash of the file content it was made from (it is never applied over anything else).
    ``attempt`` is the 1-based position in the item's log of the attempt that made it
    (0: not known)."""

    content: str
    failing: int
    base_hash: str
    attempt: int = 0

    @property
    def passes(self) -> bool:
        return self.failing == 0


@dataclass(frozen=True, slots=True)
class HealItem:
    """One failing file on its way to healed, escalated or decided.

    ``attempts`` counts the tries since the item was (re)queued; ``log`` keeps every
    attempt ever made, so a retry's prompt can say what did not work. ``applying`` is
    the content being written while the state is APPLYING (an apply a crash
    interrupted is finished from it). ``fixed_by`` is the 1-based position in ``log`` of
    the attempt whose fix was applied (0: none, or not recorded): what the learning
    statistics credit, and where an accepted fix's diff is found for later prompts.
    """

    id: HealId
    failure: Failure
    state: HealState = HealState.QUEUED
    attempts: int = 0
    model: str = ""
    reason: str = ""
    base_hash: str = ""
    best: Candidate | None = None
    backup: str = ""
    hint: str = ""
    applying: str | None = None
    dry_run: bool = False
    priority: tuple[int, int, int] = (3, 0, 0)
    log: tuple[Attempt, ...] = field(default=())
    fixed_by: int = 0

    @property
    def path(self) -> str:
        return self.failure.path

    @property
    def kind(self) -> Kind:
        return self.failure.kind

    @property
    def label(self) -> str:
        return heal_label(self.id)

    @property
    def order(self) -> tuple[tuple[int, int, int], HealId]:
        """Claim order: most urgent first, then oldest."""
        return (self.priority, self.id)

    def round_models(self) -> set[str]:
        """The models this round's attempts so far went to (``attempts`` counts them,
        the log's tail holds them): a retry goes to one not among them."""
        return {a.model for a in self.log[len(self.log) - self.attempts:]} \
            if self.attempts else set()

    def round_signatures(self) -> list[str]:
        """The validation-error fingerprints of this round's earlier attempts: those
        since the item was last (re)queued. A retry a person asked for (with a hint) is
        a fresh round: an error seen before the hint does not count against it."""
        earlier = max(self.attempts - 1, 0)
        return [a.signature for a in self.log[len(self.log) - earlier:]] if earlier else []


@dataclass(frozen=True, slots=True)
class AppliedFix:
    """The apply record of one heal: written before the user's file is touched, so an
    interrupted apply can be finished and an applied one undone exactly."""

    heal_id: HealId
    seq: int
    path: str
    backup: str
    state: str  # applying | applied | conflict | undone
    before_hash: str
    after_hash: str


def new_item(heal_id: HealId, failure: Failure, cc_max: int, history: int) -> HealItem:
    """A freshly queued item: syntax errors first, then files that failed before, then
    the more complex."""
    priority = (SEVERITY.get(failure.kind, 3), -history, -cc_max)
    return HealItem(heal_id, failure, priority=priority)
