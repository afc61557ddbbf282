"""The heal queue, attempts, model statistics and apply journal, persisted in the store.

Every state change is written and flushed *before* it takes effect, so a process killed
at any moment restarts with the queue intact (``recover()``). Items are plain dicts in
TinyDB tables; this module is the only one that knows their shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tinydb import Query

from dreamscape_tui.core.checks import Failure
from dreamscape_tui.core.store import Store

HEALS, ATTEMPTS, STATS, JOURNAL, META = "heals", "attempts", "model_stats", "journal", "meta"
ACTIVE = ("queued", "running", "validating", "retrying", "applying")
SEVERITY = {"syntax": 0, "test": 1, "command": 2}
Q = Query()


class HealStore:
    """Typed access to the heal tables; every write is flushed to disk at once."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- queue -------------------------------------------------------------------------
    def _next_id(self) -> str:
        meta = self.store.table(META)
        doc = meta.get(Q.key == "heal_seq")
        seq = (doc["value"] if doc else 0) + 1
        meta.upsert({"key": "heal_seq", "value": seq}, Q.key == "heal_seq")
        return f"h{seq}"

    def enqueue(self, failure: Failure, cc_max: int, history: int) -> str | None:
        """Queue ``failure`` unless an active item already heals it; returns its id."""
        with self.store.tables() as db:
            heals = db.table(HEALS)
            if heals.get((Q.failure_id == failure.id) & Q.state.one_of(ACTIVE)):
                return None
            heal_id = self._next_id()
            heals.insert({
                "id": heal_id, "failure_id": failure.id, "failure": failure.to_json(),
                "path": failure.path, "kind": failure.kind, "state": "queued", "attempts": 0,
                "model": "", "reason": "", "base_hash": "", "best": None, "best_failing": None,
                "best_base": "", "backup": "", "hint": "", "candidate": None, "dry_run": False,
                "priority": [SEVERITY.get(failure.kind, 3), -history, -cc_max],
            })
        self.store.flush()
        return heal_id

    def claim_next(self) -> dict[str, Any] | None:
        """Atomically take the most urgent queued item and mark it running."""
        with self.store.tables() as db:
            heals = db.table(HEALS)
            waiting = heals.search(Q.state.one_of(("queued", "retrying")))
            if not waiting:
                return None
            item = min(waiting, key=lambda d: (d["priority"], int(d["id"][1:])))
            heals.update({"state": "running"}, Q.id == item["id"])
            claimed = dict(item, state="running")
        self.store.flush()
        return claimed

    def update(self, heal_id: str, **fields: Any) -> None:
        with self.store.tables() as db:
            db.table(HEALS).update(fields, Q.id == heal_id)
        self.store.flush()

    def get(self, heal_id: str) -> dict[str, Any] | None:
        with self.store.tables() as db:
            doc = db.table(HEALS).get(Q.id == heal_id)
        return dict(doc) if doc else None

    def items(self, states: Iterable[str] | None = None) -> list[dict[str, Any]]:
        with self.store.tables() as db:
            heals = db.table(HEALS)
            docs = heals.all() if states is None else heals.search(Q.state.one_of(list(states)))
        return sorted((dict(d) for d in docs), key=lambda d: int(d["id"][1:]))

    def history(self, path: str) -> int:
        """How many heals this file has had: failure history raises its priority."""
        with self.store.tables() as db:
            return len(db.table(HEALS).search(Q.path == path))

    def interrupted(self) -> list[dict[str, Any]]:
        """Items a killed process left mid-flight (to be resumed by the engine)."""
        return self.items(("running", "validating", "retrying", "applying"))

    # -- attempts and learning -------------------------------------------------------------
    def add_attempt(self, heal_id: str, record: dict[str, Any]) -> None:
        with self.store.tables() as db:
            db.table(ATTEMPTS).insert({"heal_id": heal_id, **record})
        self.store.flush()

    def attempts(self, heal_id: str) -> list[dict[str, Any]]:
        with self.store.tables() as db:
            docs = db.table(ATTEMPTS).search(Q.heal_id == heal_id)
        return sorted((dict(d) for d in docs), key=lambda d: d["number"])

    def record_outcome(self, model: str, kind: str, success: bool) -> None:
        """Per model x failure-kind statistics: the learning loop's memory."""
        with self.store.tables() as db:
            stats = db.table(STATS)
            cond = (Q.model == model) & (Q.kind == kind)
            doc = stats.get(cond)
            tries = int(doc["tries"]) if doc else 0
            successes = int(doc["successes"]) if doc else 0
            stats.upsert({"model": model, "kind": kind, "tries": tries + 1,
                          "successes": successes + int(success)}, cond)

    def learned_order(self, kind: str, min_tries: int = 3) -> list[str]:
        """Models best first for ``kind``, once there is enough evidence (else [])."""
        with self.store.tables() as db:
            docs = db.table(STATS).search(Q.kind == kind)
        if sum(d["tries"] for d in docs) < min_tries:
            return []
        rate = {d["model"]: (d["successes"] + 1) / (d["tries"] + 2) for d in docs}
        return sorted(rate, key=lambda m: -rate[m])

    # -- journal ---------------------------------------------------------------------------
    def journal(self, heal_id: str, **fields: Any) -> None:
        with self.store.tables() as db:
            journal = db.table(JOURNAL)
            if journal.get(Q.heal_id == heal_id):
                journal.update(fields, Q.heal_id == heal_id)
            else:
                seq = len(journal) + 1
                journal.insert({"heal_id": heal_id, "seq": seq, **fields})
        self.store.flush()

    def journal_entries(self) -> list[dict[str, Any]]:
        with self.store.tables() as db:
            docs = db.table(JOURNAL).all()
        return sorted((dict(d) for d in docs), key=lambda d: d["seq"])
