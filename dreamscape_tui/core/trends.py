"""Trends: a bounded history of every file's key metrics, one record per scan that
changed them. Comparing two states (``scan --since``) is ``since.py``'s; the file and
its writers are ``trendlog.py``'s.

What is kept. Per file four numbers, ``Values = (cc_max, mi, sloc, score)`` with MI
rounded to 2 decimals and the score to 4 (its own precision). The score here is the
*static* risk score, ``risk.risk_score(metrics)`` of the code alone: the scan's own
score also weighs git churn and failure history, which change while the file does not
(the churn window slides every day), so they would fill the history with records no
edit caused, make a CI ratchet fail on commit activity, and could not be compared with
files analysed at a git ref. A scan's *state* is the mapping path -> values of every
analysed file (skipped files are absent).

Where. ``.dreamscape/history.jsonl``, beside the scan cache but not inside it: the
cache (``scan.json``) is parsed whole on every warm scan, and a history of 50 scans
would make that parse slower for nothing; the history is an append-only JSON-lines
file (``journal.AppendLog``: fsynced appends, torn-tail repair, corruption set
aside, atomic compaction), read whole only when someone needs it.

Compact. A record holds only the files whose values changed since the previous
record (``null``: gone or no longer analysable), plus its scan number, wall-clock time
(seconds), HEAD commit (if the project is in a git repository) and the scan's digest:
a hash of every analysed file's path, cc_max, MI, sloc and lloc (what the values are
computed from). The first record of the file is ``full``: the whole state. A scan whose
state equals the last record's appends nothing, so "scans" below means *recorded*
scans, each one different from the one before: rescans, watch passes and TUI starts
of an unchanged project neither cost a write nor push real changes out of the window.

Bounded. ``[scanner] history_scans`` (N, default 50) recorded scans are kept: readers
fold everything older into the first kept scan's state. The file is compacted (the
first kept scan rewritten as a full record, then the N - 1 after it) once it holds
2N records, so a compaction's cost is shared by N appends.

Fast when nothing changed. The digest is the last key of every line, so
``trendlog.TrendLog.tail_digest`` reads the file's last 200 bytes; a warm scan compares it with
its own digest (a sort and one hash of a tuple per file: 0.5 ms for Django's 885
files) and, equal, neither reads the rest of the file, nor computes the values, nor
writes. Nothing is imported on that path.

Who writes. Only a process that may write the scan cache: the engine that holds the
project lock (TUI, ``heal --headless``; ``TrendKeeper``), and ``dreamscape scan`` once
it has claimed the lock (``record_scan``). A read-only engine, a scan beside a held
lock, ``--no-cache`` (``[scanner] cache = false``) and cancelled scans write nothing;
a dry run writes into its own temporary store.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from dreamscape_tui.core.events import FileResult
from dreamscape_tui.core.risk import risk_score

if TYPE_CHECKING:
    pass

__all__ = [
    "HISTORY_FILE",
    "FileTrend",
    "ScanMark",
    "TrendHistory",
    "TrendPoint",
    "read_records",
    "record_of",
    "scan_digest",
    "state_of",
    "values_delta",
]

HISTORY_FILE = "history.jsonl"
FORMAT = 1
METRICS = ("cc_max", "mi", "sloc", "score")

Values = tuple[int, float, int, float]  # cc_max, mi (2 dp), sloc, score (4 dp)
State = Mapping[str, Values]
Change = Mapping[str, Values | None]  # None: the file left the state



def values_delta(before: Values, after: Values) -> dict[str, int | float]:
    """``after - before`` per metric (MI and score at their stored precision)."""
    return {"cc_max": after[0] - before[0], "mi": round(after[1] - before[1], 2),
            "sloc": after[2] - before[2], "score": round(after[3] - before[3], 4)}


def values_of(result: FileResult) -> Values:
    """A file's trend values; the score is the static one (see the module docs)."""
    m = result.metrics
    return (m.cc_max, round(m.mi, 2), m.sloc, risk_score(m))


def state_of(files: Iterable[FileResult]) -> dict[str, Values]:
    """A scan's state: each analysed file's values."""
    return {f.path: values_of(f) for f in files}


_PATH, _METRICS = attrgetter("path"), attrgetter("metrics")
_RAW = attrgetter("cc_max", "mi", "sloc", "lloc")  # what Values are computed from


def scan_digest(files: Sequence[FileResult]) -> str:
    """A digest of what a scan's state is made of: equal digests, equal states (the
    order of ``files`` does not matter)."""
    from hashlib import blake2b

    rows = list(zip(map(_PATH, files), map(_RAW, map(_METRICS, files)), strict=True))
    rows.sort()
    return blake2b(marshal.dumps(rows), digest_size=12).hexdigest()


# -- what the history holds ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScanMark:
    """One recorded scan: its number (1, 2, ...), when (epoch seconds), HEAD and the
    digest of its whole state."""

    id: int
    time: int
    head: str | None
    digest: str = ""


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """A file's values at one recorded scan."""

    scan: int
    cc_max: int
    mi: float
    sloc: int
    score: float

    @property
    def values(self) -> Values:
        return (self.cc_max, self.mi, self.sloc, self.score)


@dataclass(frozen=True, slots=True)
class FileTrend:
    """One file over the recorded scans it was in, oldest first.

    ``scans`` is how many scans the history holds (the file may be in fewer).
    ``delta`` is the change since the previous recorded scan (None if the file was
    not in it); ``last_change`` the newest pair of consecutive points that differ.
    """

    path: str
    points: tuple[TrendPoint, ...]
    scans: int

    @property
    def latest(self) -> TrendPoint | None:
        return self.points[-1] if self.points else None

    def delta(self) -> dict[str, int | float] | None:
        if len(self.points) < 2 or self.points[-2].scan != self.points[-1].scan - 1:
            return None
        return values_delta(self.points[-2].values, self.points[-1].values)

    def last_change(self) -> tuple[TrendPoint, TrendPoint] | None:
        for i in range(len(self.points) - 1, 0, -1):
            older, newer = self.points[i - 1], self.points[i]
            if older.values != newer.values:
                return older, newer
        return None


@dataclass(frozen=True)
class TrendHistory:
    """The recorded scans in the window, oldest first: the first one's whole state
    (``base``) and each later one's changes. Immutable: a new scan makes a new one, so
    it crosses threads safely (the engine sends it in ``TrendsUpdated``)."""

    marks: tuple[ScanMark, ...] = ()
    base: State = field(default_factory=lambda: MappingProxyType({}))
    changes: tuple[Change, ...] = ()

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, Any]], limit: int) -> TrendHistory:
        """Fold history records (as stored) into the window of the last ``limit`` scans.

        A malformed record (or one of another format) ends the history: the records
        before it are kept.
        """
        return read_records(records, limit)[0]

    def __len__(self) -> int:
        return len(self.marks)

    @property
    def latest(self) -> ScanMark | None:
        return self.marks[-1] if self.marks else None

    @property
    def digest(self) -> str:
        """The latest scan's digest ("" without scans)."""
        return self.marks[-1].digest if self.marks else ""

    def state(self, index: int = -1) -> dict[str, Values]:
        """The whole state at one recorded scan (by position; -1: the latest)."""
        if not self.marks:
            return {}
        stop = index % len(self.marks)
        state = dict(self.base)
        for change in self.changes[:stop]:
            _fold(state, change)
        return state

    def trend(self, path: str) -> FileTrend:
        """One file's points, one per recorded scan it was analysed in."""
        points: list[TrendPoint] = []
        value = self.base.get(path)
        for i, mark in enumerate(self.marks):
            if i:
                change = self.changes[i - 1]
                if path in change:
                    value = change[path]
            if value is not None:
                points.append(TrendPoint(mark.id, *value))
        return FileTrend(path, tuple(points), len(self.marks))

    def appended(self, mark: ScanMark, change: Change, limit: int) -> TrendHistory:
        """This history with one more scan, the oldest folded away past ``limit``."""
        marks = [*self.marks, mark]
        if not self.marks:
            base = {p: v for p, v in change.items() if v is not None}
            return TrendHistory((mark,), MappingProxyType(base), ())
        changes = [*self.changes, change]
        base_map: State = self.base
        while len(marks) > limit:
            folded = dict(base_map)
            _fold(folded, changes.pop(0))
            base_map = MappingProxyType(folded)
            marks.pop(0)
        return TrendHistory(tuple(marks), base_map, tuple(changes))

    def records(self) -> list[dict[str, Any]]:
        """The window as records to store: the first one full, then the changes."""
        if not self.marks:
            return []
        out = [record_of(self.marks[0], self.base, full=True)]
        out += [record_of(mark, change)
                for mark, change in zip(self.marks[1:], self.changes, strict=True)]
        return out


def read_records(records: Sequence[Mapping[str, Any]],
                  limit: int) -> tuple[TrendHistory, int]:
    """``TrendHistory.from_records``, and how many records it could read."""
    marks: list[ScanMark] = []
    changes: list[dict[str, Values | None]] = []
    used = 0
    for record in records:
        parsed = _parse_record(record)
        if parsed is None:
            break
        used += 1
        mark, files, full = parsed
        if full:
            marks.clear()
            changes.clear()
        marks.append(mark)
        changes.append(files)
    if not marks:
        return TrendHistory(), used
    start = max(0, len(marks) - limit)
    base: dict[str, Values] = {}
    for change in changes[:start + 1]:
        _fold(base, change)
    history = TrendHistory(tuple(marks[start:]), MappingProxyType(base),
                           tuple(MappingProxyType(c) for c in changes[start + 1:]))
    return history, used


def _fold(state: dict[str, Values], change: Change) -> None:
    for path, value in change.items():
        if value is None:
            state.pop(path, None)
        else:
            state[path] = value


def _values(raw: Any) -> Values:
    if (type(raw) is not list or len(raw) != 4 or type(raw[0]) is not int
            or type(raw[2]) is not int or not isinstance(raw[1], int | float)
            or not isinstance(raw[3], int | float)):
        raise ValueError("bad values")
    return (raw[0], float(raw[1]), raw[2], float(raw[3]))


def _parse_record(record: Mapping[str, Any]) -> tuple[ScanMark, dict[str, Values | None],
                                                        bool] | None:
    try:
        if record.get("v") != FORMAT:
            return None
        files = record["files"]
        if not isinstance(files, dict):
            return None
        change = {str(p): None if v is None else _values(v) for p, v in files.items()}
        head, digest = record.get("head"), record.get("digest")
        mark = ScanMark(int(record["scan"]), int(record["time"]),
                        head if isinstance(head, str) else None,
                        digest if isinstance(digest, str) else "")
        return mark, change, bool(record.get("full"))
    except (KeyError, TypeError, ValueError):
        return None


def record_of(mark: ScanMark, files: Mapping[str, Values | None], *,
            full: bool = False) -> dict[str, Any]:
    """A record as stored; the digest is its last key (``TrendLog.tail_digest``)."""
    record: dict[str, Any] = {"v": FORMAT, "scan": mark.id, "time": mark.time,
                              "head": mark.head}
    if full:
        record["full"] = True
    record["files"] = {p: None if v is None else list(v) for p, v in sorted(files.items())}
    record["digest"] = mark.digest
    return record
