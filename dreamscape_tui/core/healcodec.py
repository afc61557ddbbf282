"""Heal items as journal records and back: the store's only dict boundary.

Record kinds, one JSON object per line of ``heals.jsonl``:
``item`` (a whole item: queued, or a snapshot), ``set`` (the fields of one item that
changed, plus the attempts it gained), ``outcome`` (one model result for the learning
statistics; ``stats`` in a snapshot), ``apply`` (an apply record, whole).
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

Record = dict[str, Any]
StatsTable = dict[tuple[str, str], tuple[int, int]]
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
                 "backup", "hint", "applying", "dry_run", "priority"):
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
                                             best.get("base_hash", "")),
        backup=data.get("backup", ""), hint=data.get("hint", ""),
        applying=data.get("applying"), dry_run=bool(data.get("dry_run", False)),
        priority=(int(priority[0]), int(priority[1]), int(priority[2])),
        log=tuple(attempt_from_dict(a) for a in data.get("log", ())),
    )


def attempt_to_dict(attempt: Attempt) -> Record:
    return asdict(attempt)


def attempt_from_dict(data: Record) -> Attempt:
    return Attempt(number=int(data["number"]), model=data.get("model", ""),
                   outcome=data.get("outcome", ""), reason=data.get("reason", ""),
                   diff=data.get("diff", ""), signature=data.get("signature", ""),
                   answered_by=data.get("answered_by", ""))


def fix_to_dict(fix: AppliedFix) -> Record:
    return asdict(fix)


def fold(records: Iterable[Record]
         ) -> tuple[dict[HealId, HealItem], StatsTable, dict[HealId, AppliedFix]]:
    """Replay records into the live state: items, statistics, apply records."""
    raw: dict[HealId, Record] = {}
    stats: dict[tuple[str, str], list[int]] = {}
    applied: dict[HealId, AppliedFix] = {}
    for record in records:
        op = record.get("op")
        if op == "item":
            raw[int(record["item"]["id"])] = dict(record["item"])
        elif op == "set" and int(record["id"]) in raw:
            data = raw[int(record["id"])]
            data.update(record.get("fields", {}))
            data["log"] = [*data.get("log", ()), *record.get("attempts", ())]
        elif op == "outcome":
            entry = stats.setdefault((record["model"], record["kind"]), [0, 0])
            entry[0] += 1
            entry[1] += int(bool(record["success"]))
        elif op == "stats":
            stats[(record["model"], record["kind"])] = [int(record["tries"]),
                                                       int(record["successes"])]
        elif op == "apply":
            fix = AppliedFix(**record["fix"])
            applied[fix.heal_id] = fix
    items = {heal_id: item_from_dict(data) for heal_id, data in raw.items()}
    return items, {k: (v[0], v[1]) for k, v in stats.items()}, applied


def snapshot(items: dict[HealId, HealItem], stats: StatsTable,
             applied: dict[HealId, AppliedFix]) -> Iterator[Record]:
    """The live state as records. A decided item drops its candidate: nobody can accept
    it any more, and it would keep the journal growing with every heal."""
    for _, item in sorted(items.items()):
        if item.state in _DONE and item.best is not None:
            item = replace(item, best=None)
        yield {"op": "item", "item": item_to_dict(item)}
    for (model, kind), (tries, successes) in sorted(stats.items()):
        yield {"op": "stats", "model": model, "kind": kind, "tries": tries,
               "successes": successes}
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
