"""Heal items as journal records and back: the store's only dict boundary.

Record kinds, one JSON object per line of ``heals.jsonl``:
``item`` (a whole item: queued, or a snapshot), ``set`` (the fields of one item that
changed, plus the attempts it gained, plus ``learn`` when the change applied, undid or
decided a fix: what became of which model's fix, in which format), ``outcome`` (one
attempt for the learning statistics: model, kind, edit format, validated, seconds,
tokens, cost; ``stats`` in a snapshot, one per model x kind x format), ``apply`` (an
apply record, whole). Records written before a field existed fold with its default;
an ``outcome`` or ``stats`` record without a ``format`` is from before verdicts were
journaled: its successes count as kept (``learning.add_outcome``).
``legacy_records`` reads the heal tables of the old single-file store (``state.json``)
once, so an upgrade keeps its queue, history and undo.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from dreamscape_tui.core.checks import Failure
from dreamscape_tui.core.errors import UserError
from dreamscape_tui.core.healtypes import (
    AppliedFix,
    Attempt,
    Candidate,
    HealId,
    HealItem,
    HealState,
    parse_heal_id,
)
from dreamscape_tui.core.learning import Cell, Table, add_outcome, add_verdict

Record = dict[str, Any]
_DONE = frozenset({HealState.HEALED, HealState.ACCEPTED, HealState.REJECTED,
                   HealState.UNDONE})


def field_to_json(name: str, value: Any) -> Any:
    """One HealItem field as JSON."""
    if name == "failure":
        return value.to_json()
    if name == "best":
        return None if value is None else asdict(value)
    if name == "priority":
        return list(value)
    return value


def item_to_dict(item: HealItem) -> Record:
    data: Record = {"id": item.id, "log": [attempt_to_dict(a) for a in item.log]}
    for name in ("failure", "state", "attempts", "model", "reason", "base_hash", "best",
                 "backup", "hint", "applying", "dry_run", "priority", "fixed_by"):
        data[name] = field_to_json(name, getattr(item, name))
    return data


def item_from_dict(data: Record) -> HealItem:
    best = data.get("best")
    priority = data.get("priority") or (3, 0, 0)
    return HealItem(
        id=int(data["id"]), failure=Failure.from_json(data["failure"]),
        state=HealState(data.get("state", "queued")), attempts=int(data.get("attempts", 0)),
        model=data.get("model", ""), reason=data.get("reason", ""),
        base_hash=data.get("base_hash", ""),
        best=None if not best else Candidate(best["content"], int(best["failing"]),
                                             best.get("base_hash", ""),
                                             int(best.get("attempt", 0))),
        backup=data.get("backup", ""), hint=data.get("hint", ""),
        applying=data.get("applying"), dry_run=bool(data.get("dry_run", False)),
        priority=(int(priority[0]), int(priority[1]), int(priority[2])),
        log=tuple(attempt_from_dict(a) for a in data.get("log", ())),
        fixed_by=int(data.get("fixed_by", 0)),
    )


def attempt_to_dict(attempt: Attempt) -> Record:
    return asdict(attempt)


def attempt_from_dict(data: Record) -> Attempt:
    return Attempt(number=int(data["number"]), model=data.get("model", ""),
                   outcome=data.get("outcome", ""), reason=data.get("reason", ""),
                   diff=data.get("diff", ""), signature=data.get("signature", ""),
                   answered_by=data.get("answered_by", ""), format=data.get("format", ""),
                   seconds=float(data.get("seconds", 0.0)),
                   tokens_in=int(data.get("tokens_in", 0)),
                   tokens_out=int(data.get("tokens_out", 0)),
                   cost=float(data.get("cost", 0.0)))


def fix_to_dict(fix: AppliedFix) -> Record:
    return asdict(fix)


def outcome_record(model: str, kind: str, attempt: Attempt) -> Record:
    """The ``outcome`` record of one attempt (``success``: it validated)."""
    return {"op": "outcome", "model": model, "kind": kind, "format": attempt.format,
            "success": attempt.outcome == "validated", "seconds": round(attempt.seconds, 3),
            "tokens_in": attempt.tokens_in, "tokens_out": attempt.tokens_out,
            "cost": attempt.cost}


def learn_entry(verdict: str, model: str, kind: str, format: str, hint: str = "") -> Record:
    """The ``learn`` part of a ``set`` record (or a ``verdict`` record's body)."""
    entry: Record = {"verdict": verdict, "model": model, "kind": kind, "format": format}
    if hint:
        entry["hint"] = hint
    return entry


def fold_stats(table: Table, record: Record) -> None:
    """Count one ``outcome``, ``stats``, ``verdict`` or learning ``set`` record in."""
    op = record.get("op")
    if op == "outcome":
        key = (record["model"], record["kind"], record.get("format", ""))
        add_outcome(table, key, bool(record["success"]),
                    seconds=float(record.get("seconds", 0.0)),
                    tokens_in=int(record.get("tokens_in", 0)),
                    tokens_out=int(record.get("tokens_out", 0)),
                    cost=float(record.get("cost", 0.0)), legacy="format" not in record)
    elif op == "stats":
        cell = Cell.from_dict(record)
        if "format" not in record:  # the old (tries, successes) pair: successes were kept
            cell.validated = cell.applied = cell.kept = int(record.get("successes", 0))
        table[(record["model"], record["kind"], record.get("format", ""))] = cell
    else:
        learn = record.get("learn") if op == "set" else record if op == "verdict" else None
        if learn:
            add_verdict(table, (learn["model"], learn["kind"], learn.get("format", "")),
                        learn["verdict"])


def fold(records: Iterable[Record]
         ) -> tuple[dict[HealId, HealItem], Table, dict[HealId, AppliedFix]]:
    """Replay records into the live state: items, statistics, apply records."""
    raw: dict[HealId, Record] = {}
    stats: Table = {}
    applied: dict[HealId, AppliedFix] = {}
    for record in records:
        op = record.get("op")
        if op == "item":
            raw[int(record["item"]["id"])] = dict(record["item"])
        elif op == "set" and int(record["id"]) in raw:
            data = raw[int(record["id"])]
            data.update(record.get("fields", {}))
            data["log"] = [*data.get("log", ()), *record.get("attempts", ())]
            fold_stats(stats, record)
        elif op in ("outcome", "stats", "verdict"):
            fold_stats(stats, record)
        elif op == "apply":
            fix = AppliedFix(**record["fix"])
            applied[fix.heal_id] = fix
    items = {heal_id: item_from_dict(data) for heal_id, data in raw.items()}
    return items, stats, applied


def snapshot(items: dict[HealId, HealItem], stats: Table,
             applied: dict[HealId, AppliedFix]) -> Iterator[Record]:
    """The live state as records. A decided item drops its candidate: nobody can accept
    it any more, and it would keep the journal growing with every heal."""
    for _, item in sorted(items.items()):
        if item.state in _DONE and item.best is not None:
            item = replace(item, best=None)
        yield {"op": "item", "item": item_to_dict(item)}
    for (model, kind, format), cell in sorted(stats.items()):
        # "successes" (validated) keeps the record readable as the old pair
        yield {"op": "stats", "model": model, "kind": kind, "format": format,
               "successes": cell.validated, **cell.to_dict()}
    for fix in sorted(applied.values(), key=lambda a: a.seq):
        yield {"op": "apply", "fix": fix_to_dict(fix)}


def legacy_records(state_dir: Path) -> list[Record]:
    """The heal tables of an older ``state.json``, as journal records ([] if none)."""
    try:
        tables = json.loads((state_dir / "state.json").read_bytes())
    except (OSError, ValueError, UnicodeDecodeError):
        return []
    if not isinstance(tables, dict) or not tables.get("heals"):
        return []
    try:
        return list(_legacy(tables))
    except (KeyError, TypeError, ValueError, UserError):
        return []  # a shape we do not know: start a fresh journal rather than guess


def _legacy(tables: dict[str, Any]) -> Iterator[Record]:
    attempts: dict[str, list[Record]] = {}
    for doc in tables.get("attempts", {}).values():
        attempts.setdefault(doc["heal_id"], []).append(doc)
    for doc in tables["heals"].values():
        best = doc.get("best")
        item = {**doc, "id": parse_heal_id(doc["id"]),
                "best": None if best is None else {
                    "content": best, "failing": doc.get("best_failing") or 0,
                    "base_hash": doc.get("best_base", "")},
                "applying": doc.get("candidate"),
                "log": sorted(attempts.get(doc["id"], []), key=lambda a: a["number"])}
        yield {"op": "item", "item": item}
    for doc in tables.get("model_stats", {}).values():
        yield {"op": "stats", **{k: doc[k] for k in ("model", "kind", "tries", "successes")}}
    for doc in tables.get("journal", {}).values():
        yield {"op": "apply", "fix": {
            "heal_id": parse_heal_id(doc["heal_id"]), "seq": doc["seq"], "path": doc["path"],
            "backup": doc["backup"], "state": doc["state"],
            "before_hash": doc["before_hash"], "after_hash": doc["after_hash"]}}
