"""The heal queue, attempts, model statistics and apply records: the heal journal.

This module and its codec (``healcodec.py``) are the only places where heal items
are dicts: everything above them speaks ``HealItem``. State lives in memory and every
change is appended to ``.dreamscape/heals.jsonl`` and fsynced *before* it takes
effect (``journal.AppendLog``), so a process killed at any moment restarts with the
queue intact (``AutomationEngine.recover``), and a transition costs one short line
whatever the size of the project. The file is compacted to a snapshot on open and
whenever the appended lines outnumber the live records by enough.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from dreamscape_tui.core import learning
from dreamscape_tui.core.checks import Failure
from dreamscape_tui.core.healcodec import (
    attempt_to_dict,
    field_to_json,
    fix_to_dict,
    fold,
    fold_stats,
    item_to_dict,
    learn_entry,
    legacy_records,
    outcome_record,
    snapshot,
)
from dreamscape_tui.core.healtypes import (
    AppliedFix,
    Attempt,
    HealId,
    HealItem,
    HealState,
    new_item,
)
from dreamscape_tui.core.journal import AppendLog, Record
from dreamscape_tui.core.learning import Example, Table

STATE_DIR = ".dreamscape"
JOURNAL_FILE = "heals.jsonl"
_COMPACT_MIN = 500  # appended lines before compaction is considered
_FIELDS = [f.name for f in fields(HealItem) if f.name not in ("id", "log")]


class HealStore:
    """The heal journal of one project (or of a dry run, in a temp dir)."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._log = AppendLog(path, read_only=read_only)
        self._lock = threading.Lock()
        self._items: dict[HealId, HealItem] = {}
        self._next_id: HealId = 1
        self._open: dict[str, HealId] = {}  # failure id -> its item not yet settled
        self._history: Counter[str] = Counter()  # path -> items ever queued for it
        self._counted: set[HealId] = set()
        self._stats: Table = {}  # the learning statistics (learning.py)
        self._applied: dict[HealId, AppliedFix] = {}
        self._load()

    @classmethod
    def for_project(cls, root: Path, *, read_only: bool = False) -> HealStore:
        return cls(root / STATE_DIR / JOURNAL_FILE, read_only=read_only)

    @property
    def recovered_to(self) -> Path | None:
        """Where a corrupt journal was moved on open, if it was."""
        return self._log.recovered_to

    # -- queue -------------------------------------------------------------------------
    def enqueue(self, failure: Failure, cc_max: int) -> HealItem | None:
        """Queue ``failure`` unless an open item has it (being healed, or waiting for a
        person's review: a rescan must not heal it again behind the reviewer's back)."""
        with self._lock:
            current = self._open.get(failure.id)
            if current is not None and self._items[current].state.open:
                return None
            item = new_item(self._next_id, failure, cc_max, self._history[failure.path])
            self._log.append({"op": "item", "item": item_to_dict(item)})
            self._remember(item)
            self._maybe_compact()
        return item

    def claim_next(self) -> HealItem | None:
        """Atomically take the most urgent waiting item and mark it running."""
        with self._lock:
            waiting = [i for i in self._items.values() if i.state.waiting]
            if not waiting:
                return None
            item = min(waiting, key=lambda i: i.order)
            return self._save(replace(item, state=HealState.RUNNING))

    def save(self, item: HealItem) -> HealItem:
        """Persist whatever changed in ``item`` (one line), then it is the stored item."""
        with self._lock:
            return self._save(item)

    def update(self, heal_id: HealId, **changes: Any) -> HealItem:
        """Change fields of a stored item: ``update(3, state=HealState.QUEUED)``."""
        with self._lock:
            return self._save(replace(self._items[heal_id], **changes))

    def get(self, heal_id: HealId) -> HealItem | None:
        with self._lock:
            return self._items.get(heal_id)

    def items(self, states: Iterable[HealState] | None = None) -> list[HealItem]:
        """Stored items, oldest first (all, or those in ``states``)."""
        wanted = None if states is None else frozenset(states)
        with self._lock:
            return [i for _, i in sorted(self._items.items())
                    if wanted is None or i.state in wanted]

    def interrupted(self) -> list[HealItem]:
        """Items a stopped process left mid-flight (the engine resumes them)."""
        with self._lock:
            return [i for _, i in sorted(self._items.items()) if i.state.interrupted]

    # -- learning ----------------------------------------------------------------------
    def record_outcome(self, model: str, kind: str, validated: bool, *,
                       attempt: Attempt | None = None) -> None:
        """Count one attempt of ``model`` on a ``kind`` failure (the learning loop's
        memory): its edit format, seconds, tokens and cost come from ``attempt``."""
        attempt = attempt or Attempt(0, model, "validated" if validated else "failed", "")
        record = outcome_record(model, kind, replace(
            attempt, outcome="validated" if validated else "failed"))
        with self._lock:
            self._log.append(record)
            fold_stats(self._stats, record)
            self._maybe_compact()

    def record_verdict(self, model: str, kind: str, format: str, verdict: str,
                       hint: str = "") -> None:
        """Count what became of a fix made apart from an item change (item changes that
        apply, undo or decide a fix are counted by ``save`` itself, in the same line)."""
        if verdict not in learning.VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}")
        record = {"op": "verdict", **learn_entry(verdict, model, kind, format, hint)}
        with self._lock:
            self._log.append(record)
            fold_stats(self._stats, record)
            self._maybe_compact()

    def learned_order(self, kind: str, min_tries: int = 3,
                      ladder: Sequence[str] = ()) -> list[str]:
        """Models best first for ``kind``, once there is enough evidence (else []):
        ``learning.learned_order``."""
        with self._lock:
            return learning.learned_order(self._stats, kind, min_tries, ladder)

    def best_format(self, model: str, kind: str, min_tries: int = 3) -> str:
        """The edit format to ask ``model`` for ("" = any): ``learning.best_format``."""
        with self._lock:
            return learning.best_format(self._stats, model, kind, min_tries)

    def accepted_fixes(self, kind: str, limit: int = learning.MAX_EXAMPLES) -> list[Example]:
        """This project's fixes of ``kind`` still in the tree, most recent first."""
        with self._lock:
            order = {fix.heal_id: fix.seq for fix in self._applied.values()}
            return learning.examples(self._items.values(), order, kind, limit)

    def stats(self) -> Table:
        """A copy of the learning statistics (model, kind, format) -> Cell."""
        with self._lock:
            return {key: replace(cell) for key, cell in self._stats.items()}

    # -- apply records -------------------------------------------------------------------
    def record_apply(self, heal_id: HealId, **changes: Any) -> AppliedFix:
        """Create or change the apply record of ``heal_id`` (durable on return)."""
        with self._lock:
            old = self._applied.get(heal_id)
            if old is None:
                seq = max((a.seq for a in self._applied.values()), default=0) + 1
                fix = AppliedFix(heal_id=heal_id, seq=seq, **changes)
            else:
                fix = replace(old, **changes)
            self._log.append({"op": "apply", "fix": fix_to_dict(fix)})
            self._applied[heal_id] = fix
            self._maybe_compact()
            return fix

    def applied_fixes(self) -> list[AppliedFix]:
        """Every apply record, in the order the applies started."""
        with self._lock:
            return sorted(self._applied.values(), key=lambda a: a.seq)

    def close(self) -> None:
        with self._lock:
            self._log.close()

    # -- the journal -----------------------------------------------------------------------
    def _save(self, item: HealItem) -> HealItem:
        old = self._items[item.id]
        if item == old:
            return old
        changed = {name: field_to_json(name, getattr(item, name))
                   for name in _FIELDS if getattr(item, name) != getattr(old, name)}
        added = item.log[len(old.log):]
        if item.log[:len(old.log)] != old.log:
            raise ValueError(f"heal {item.label}: attempts are only ever added")
        record: Record = {"op": "set", "id": item.id, "fields": changed}
        if added:
            record["attempts"] = [attempt_to_dict(a) for a in added]
        verdict = learning.verdict_of(old, item)
        if verdict is not None:  # what became of a fix: counted in the same line
            name, attempt = verdict
            hint = item.hint if name in ("accepted", "rejected", "retried") else ""
            record["learn"] = learn_entry(name, attempt.model, item.kind, attempt.format, hint)
        self._log.append(record)
        fold_stats(self._stats, record)
        self._remember(item)
        self._maybe_compact()
        return item

    def _remember(self, item: HealItem) -> None:
        """Take ``item`` as the stored version (after its record is on disk)."""
        self._items[item.id] = item
        self._next_id = max(self._next_id, item.id + 1)
        if item.state.open:
            self._open[item.failure.id] = item.id
        if item.id not in self._counted:
            self._counted.add(item.id)
            self._history[item.path] += 1

    def _maybe_compact(self) -> None:
        """Once the appended lines far outnumber the live records: a snapshot (the
        state in memory already includes every appended line)."""
        live = len(self._items) + len(self._stats) + len(self._applied)
        if self._log.appended > max(_COMPACT_MIN, 4 * live):
            self._compact()

    def _load(self) -> None:
        records = self._log.replay()
        if not records and not self.read_only:
            records = legacy_records(self.path.parent)
        items, stats, applied = fold(records)
        for item in items.values():
            self._remember(item)
        self._stats = stats
        self._applied = applied
        live = len(items) + len(stats) + len(applied)
        if self._log.appended > 2 * live + 16 or (records and self._log.appended == 0):
            self._compact()

    def _compact(self) -> None:
        """Rewrite the journal as a snapshot of the live state (atomic)."""
        self._log.rewrite(snapshot(self._items, self._stats, self._applied))
