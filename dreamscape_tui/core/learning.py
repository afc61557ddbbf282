"""The learning loop: what each model got accepted, and how that conditions the next try.

The statistics are one table, per model x failure kind x edit format (``Cell``): tries,
validated, applied, kept (applied and not undone: an accepted fix counts, an undo takes
it back), the reviewers' decisions (accepted, rejected, retried), and the seconds,
tokens and cost spent. The heal journal keeps it (``healstore.py``: an ``outcome``
record per attempt, a ``learn`` entry on the item change that applied, undid or
decided a fix, a ``stats`` record per cell in a snapshot), so it is bounded by models x
kinds x formats, whatever the project's history.

It is used three ways, all pure functions here:

* ``best_format``: the edit format a model gets kept most often, once it has
  ``[learning] min_tries`` attempts; the prompt then asks for that format;
* ``examples``: the project's own accepted fixes of the same failure kind (kept, not
  undone; most recent first), shown in the prompt as its conventions;
* ``learned_order``: routing by the kept rate (with a prior) and, among similar rates,
  the lower mean latency; the ladder is the tie-break and the order without data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields

from dreamscape_tui.core.healtypes import Attempt, HealId, HealItem, HealState

FORMATS = ("search-replace", "diff", "whole-file")  # what edits.parse_edit understands
VERDICTS = ("applied", "accepted", "undone", "rejected", "retried")
RATE_TOLERANCE = 0.05  # rates this close are "similar": the faster model goes first
MAX_EXAMPLES = 20  # accepted fixes offered to the prompt, which keeps what fits

Key = tuple[str, str, str]  # model, failure kind, edit format ("" = no edit in the answer)


@dataclass(slots=True)
class Cell:
    """The record of one model on one failure kind in one edit format."""

    tries: int = 0
    validated: int = 0
    applied: int = 0
    kept: int = 0
    undone: int = 0
    accepted: int = 0
    rejected: int = 0
    retried: int = 0
    seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Cell:
        cell = cls()
        for f in fields(cls):
            value = data.get(f.name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                setattr(cell, f.name, type(getattr(cell, f.name))(value))
        return cell


Table = dict[Key, Cell]


def add_outcome(table: Table, key: Key, validated: bool, *, seconds: float = 0.0,
                tokens_in: int = 0, tokens_out: int = 0, cost: float = 0.0,
                legacy: bool = False) -> None:
    """Count one attempt. ``legacy``: a record from before verdicts were journaled,
    whose "success" was all the old statistics knew: it counts as kept."""
    cell = table.setdefault(key, Cell())
    cell.tries += 1
    cell.validated += int(validated)
    if legacy and validated:
        cell.applied += 1
        cell.kept += 1
    cell.seconds += seconds
    cell.tokens_in += tokens_in
    cell.tokens_out += tokens_out
    cell.cost += cost


def add_verdict(table: Table, key: Key, verdict: str) -> None:
    """Count what became of a fix: applied or accepted (kept), undone (no longer kept),
    rejected or retried by a reviewer."""
    cell = table.setdefault(key, Cell())
    if verdict in ("applied", "accepted"):
        cell.applied += 1
        cell.kept += 1
        cell.accepted += verdict == "accepted"
    elif verdict == "undone":
        cell.undone += 1
        cell.kept = max(cell.kept - 1, 0)
    elif verdict == "rejected":
        cell.rejected += 1
    elif verdict == "retried":
        cell.retried += 1


# -- which attempt a verdict is about ------------------------------------------------------
def _at(item: HealItem, position: int) -> Attempt | None:
    return item.log[position - 1] if 0 < position <= len(item.log) else None


def applied_attempt(item: HealItem) -> Attempt | None:
    """The attempt whose fix the item applied (or last applied): ``fixed_by``, else the
    best candidate's, else the latest validated one (journals from before either)."""
    return (_at(item, item.fixed_by)
            or (_at(item, item.best.attempt) if item.best is not None else None)
            or next((a for a in reversed(item.log) if a.outcome == "validated"), None))


def offered_attempt(item: HealItem) -> Attempt | None:
    """The attempt a reviewer was deciding about: the best candidate's, else the last."""
    found = _at(item, item.best.attempt) if item.best is not None else None
    return found or (item.log[-1] if item.log else None)


def verdict_of(old: HealItem, new: HealItem) -> tuple[str, Attempt] | None:
    """What a change of an item says about one of its fixes, and which attempt made it:
    applied (healed, not a dry run), accepted, undone, rejected or retried by a person."""
    if new.state is old.state:
        return None
    verdict = None
    if new.state is HealState.HEALED and not new.dry_run:
        verdict = "applied"
    elif new.state is HealState.ACCEPTED:
        verdict = "accepted"
    elif new.state is HealState.UNDONE and old.state.fixed:
        verdict = "undone"
    elif old.state is HealState.ESCALATED and new.state is HealState.REJECTED:
        verdict = "rejected"
    elif old.state is HealState.ESCALATED and new.state is HealState.QUEUED:
        verdict = "retried"
    if verdict is None:
        return None
    attempt = (offered_attempt(new) if verdict in ("rejected", "retried")
               else applied_attempt(new))
    return None if attempt is None else (verdict, attempt)


# -- routing -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Score:
    """A model's record on one failure kind, all formats together."""

    tries: int = 0
    kept: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Kept per try, with a uniform prior (one kept, one not): 0/0 is 0.5, 3/3 is 0.8."""
        return (self.kept + 1) / (self.tries + 2)

    @property
    def mean_seconds(self) -> float | None:
        """Seconds per answer; None where no time was recorded (old journals)."""
        return self.seconds / self.tries if self.tries and self.seconds > 0 else None


def scores(table: Table, kind: str | None = None) -> dict[str, Score]:
    """Each model's record on ``kind`` (every kind when None)."""
    out: dict[str, Score] = {}
    for (model, cell_kind, _format), cell in table.items():
        if kind is None or cell_kind == kind:
            old = out.get(model, Score())
            out[model] = Score(old.tries + cell.tries, old.kept + cell.kept,
                               old.seconds + cell.seconds)
    return out


def learned_order(table: Table, kind: str, min_tries: int,
                  ladder: Sequence[str] = ()) -> list[str]:
    """The models with a record on ``kind``, best first, once ``kind`` has ``min_tries``
    attempts in all (else []): by kept rate; among rates within RATE_TOLERANCE of the
    best of their group, the lower mean latency first (unknown last); then the ladder's
    order. Models without a record are not named (routing keeps them in ladder order
    after these)."""
    seen = {m: s for m, s in scores(table, kind).items() if s.tries}
    if sum(s.tries for s in seen.values()) < min_tries:
        return []
    rung = {name: i for i, name in enumerate(ladder)}

    def place(model: str) -> tuple[int, str]:
        return (rung.get(model, len(rung)), model)

    by_rate = sorted(seen, key=lambda m: (-seen[m].rate, place(m)))
    groups: list[list[str]] = []
    for model in by_rate:
        if groups and seen[groups[-1][0]].rate - seen[model].rate <= RATE_TOLERANCE:
            groups[-1].append(model)
        else:
            groups.append([model])

    def latency(model: str) -> float:
        mean = seen[model].mean_seconds
        return math.inf if mean is None else mean

    return [m for group in groups for m in sorted(group, key=lambda m: (latency(m), place(m)))]


# -- the prompt ----------------------------------------------------------------------------
def best_format(table: Table, model: str, kind: str | None, min_tries: int) -> str:
    """The edit format ``model`` gets kept most often, once it has ``min_tries`` attempts
    with an edit in a known format ("" before that, or if none was ever kept). Its
    record on ``kind`` decides when that alone is enough evidence, else every kind
    (``kind`` None: every kind)."""
    def by_format(wanted: str | None) -> dict[str, Score]:
        out: dict[str, Score] = {}
        for (m, k, fmt), cell in table.items():
            if m == model and fmt in FORMATS and (wanted is None or k == wanted):
                old = out.get(fmt, Score())
                out[fmt] = Score(old.tries + cell.tries, old.kept + cell.kept)
        return out

    record = by_format(kind)
    if kind is not None and sum(s.tries for s in record.values()) < min_tries:
        record = by_format(None)
    if sum(s.tries for s in record.values()) < min_tries:
        return ""
    tried = [f for f in FORMATS if f in record and record[f].tries]
    if not tried:
        return ""
    best = max(tried, key=lambda f: (record[f].rate, record[f].kept, -FORMATS.index(f)))
    return best if record[best].kept else ""


@dataclass(frozen=True, slots=True)
class Example:
    """An accepted fix, as a later prompt shows it."""

    heal_id: HealId
    path: str
    message: str
    diff: str
    hint: str = ""


def examples(items: Iterable[HealItem], applied_order: Mapping[HealId, int], kind: str,
             limit: int = MAX_EXAMPLES) -> list[Example]:
    """Fixes of ``kind`` in this project that are in the tree (healed or accepted, not
    undone, not a dry run), most recent first (``applied_order``: heal id -> its apply
    record's sequence number)."""
    found: list[tuple[tuple[int, HealId], Example]] = []
    for item in items:
        if not item.state.fixed or item.dry_run or item.kind != kind:
            continue
        attempt = applied_attempt(item)
        if attempt is None or not attempt.diff:
            continue
        message = item.failure.message.strip().splitlines()[0] if item.failure.message else ""
        found.append(((applied_order.get(item.id, 0), item.id),
                      Example(item.id, item.path, message[:160], attempt.diff, item.hint)))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [example for _, example in found[:limit]]


# -- `models --stats` ----------------------------------------------------------------------
_KINDS = ("syntax", "test", "command")


def rows(table: Table, ladder: Sequence[str] = ()) -> list[dict[str, object]]:
    """One row per model x kind x format: the counters, the kept rate (kept / tries),
    the mean seconds per answer, tokens and cost. Ladder order, then by name."""
    rung = {name: i for i, name in enumerate(ladder)}

    def order(key: Key) -> tuple[int, str, int, str, int]:
        model, kind, fmt = key
        return (rung.get(model, len(rung)), model,
                _KINDS.index(kind) if kind in _KINDS else len(_KINDS), kind,
                FORMATS.index(fmt) if fmt in FORMATS else len(FORMATS))

    out: list[dict[str, object]] = []
    for key in sorted(table, key=order):
        model, kind, fmt = key
        cell = table[key]
        out.append({
            "model": model, "kind": kind, "format": fmt or None, **cell.to_dict(),
            "seconds": round(cell.seconds, 3), "cost": round(cell.cost, 6),
            "tokens": cell.tokens_in + cell.tokens_out,
            "rate": round(cell.kept / cell.tries, 3) if cell.tries else None,
            "mean_seconds": round(cell.seconds / cell.tries, 3) if cell.tries else None,
        })
    return out


def summary(table: Table, ladder: Sequence[str], min_tries: int) -> list[dict[str, object]]:
    """Per model (every kind and format): tries, kept, kept rate, the learned rate
    (with its prior), mean seconds, tokens, cost, and the format a prompt asks it for."""
    rung = {name: i for i, name in enumerate(ladder)}
    models = sorted({m for m, _k, _f in table}, key=lambda m: (rung.get(m, len(rung)), m))
    out: list[dict[str, object]] = []
    for model in models:
        cells = [c for (m, _k, _f), c in table.items() if m == model]
        tries = sum(c.tries for c in cells)
        score = scores(table).get(model, Score())
        mean = score.mean_seconds
        out.append({
            "model": model, "tries": tries, "kept": score.kept,
            "rate": round(score.kept / tries, 3) if tries else None,
            "learned_rate": round(score.rate, 3),
            "mean_seconds": None if mean is None else round(mean, 3),
            "tokens": sum(c.tokens_in + c.tokens_out for c in cells),
            "cost": round(sum(c.cost for c in cells), 6),
            "best_format": best_format(table, model, None, min_tries) or None,
        })
    return out
