"""The trend history on disk: ``.dreamscape/history.jsonl`` read, appended, compacted.

``trends.py`` says what a history is (scans, per-file values, records) and how it is
read; this module is the file and its writers: ``TrendLog`` (load it whole, or add a
scan unless its state equals the latest, judged from the file's last bytes),
``record_scan`` (what ``dreamscape scan`` calls once it holds the project lock) and
``TrendKeeper`` (the engine's, kept in memory across scans). The storage itself is
``journal.AppendLog``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dreamscape_tui.core.errors import UserError
from dreamscape_tui.core.events import EngineLog, Event, FileResult, TrendsUpdated
from dreamscape_tui.core.gitrepo import git_head
from dreamscape_tui.core.trends import (
    HISTORY_FILE,
    ScanMark,
    TrendHistory,
    Values,
    read_records,
    record_of,
    scan_digest,
    state_of,
)

if TYPE_CHECKING:
    from dreamscape_tui.core.journal import AppendLog
    from dreamscape_tui.core.scanreport import ScanReport

TAIL_BYTES = 200
TAIL_DIGEST = re.compile(rb'"digest":"([0-9a-f]{1,64})"\}\s*$')


# -- the file ----------------------------------------------------------------------------------
class TrendLog:
    """``.dreamscape/history.jsonl``: load it, or add one scan's state to it."""

    def __init__(self, path: Path, limit: int, *, read_only: bool = False) -> None:
        self.path = path
        self.limit = max(1, limit)
        self.read_only = read_only
        self._log: AppendLog | None = None
        self._history: TrendHistory | None = None
        self._unread = False  # the file holds records this version cannot read

    @classmethod
    def beside(cls, store_path: Path, limit: int, **kwargs: Any) -> TrendLog:
        """The history next to a scan cache file (``.dreamscape/scan.json``)."""
        return cls(store_path.parent / HISTORY_FILE, limit, **kwargs)

    @property
    def recovered_to(self) -> Path | None:
        """Where a corrupt history was moved when it was loaded, if it was."""
        return self._log.recovered_to if self._log is not None else None

    def tail_digest(self) -> str | None:
        """The latest record's state digest, from the file's last bytes (None: none)."""
        try:
            with open(self.path, "rb") as fh:
                size = fh.seek(0, 2)
                fh.seek(max(0, size - TAIL_BYTES))
                tail = fh.read()
        except OSError:
            return None
        found = TAIL_DIGEST.search(tail)
        return found.group(1).decode("ascii") if found else None

    def load(self) -> TrendHistory:
        """Read the whole file once (later calls return what this log holds)."""
        if self._history is None:
            from dreamscape_tui.core.journal import AppendLog  # not on a warm scan's path

            self._log = AppendLog(self.path, read_only=self.read_only)
            records = self._log.replay()
            self._history, used = read_records(records, self.limit)
            self._unread = used < len(records)
        return self._history

    def record(self, files: Sequence[FileResult], *, when: float,
               head: Callable[[], str | None], digest: str | None = None) -> bool:
        """Add the scan of ``files`` as the next one unless its state equals the
        latest; whether it did. ``head`` is called only when a record is written (it
        may run git). ``digest``: ``scan_digest(files)``, if the caller has it.
        """
        digest = digest or scan_digest(files)
        history = self.load()
        if history.marks and history.digest == digest:
            return False
        state = state_of(files)
        previous = history.state()
        change: dict[str, Values | None] = {p: v for p, v in state.items()
                                            if previous.get(p) != v}
        change.update((p, None) for p in previous if p not in state)
        assert self._log is not None
        if history.marks and not change:
            # the same values from other raw numbers (an MI change below the rounding):
            # keep the new digest, or every later scan would read the whole file again
            latest = replace(history.marks[-1], digest=digest)
            new = TrendHistory((*history.marks[:-1], latest), history.base, history.changes)
            self._log.rewrite(new.records())
            self._history = new
            return False
        number = history.latest.id + 1 if history.latest else 1
        mark = ScanMark(number, int(when), head(), digest)
        new = history.appended(mark, change, self.limit)
        if self._log.appended >= 2 * self.limit or self._unread:
            self._log.rewrite(new.records())  # compact (or replace the unreadable)
            self._unread = False
        else:
            self._log.append(record_of(mark, change, full=not history.marks))
        self._history = new  # written: a failed write is tried again by the next scan
        return True

    def close(self) -> None:
        if self._log is not None:
            self._log.close()


# -- writing after a scan ----------------------------------------------------------------------
def record_scan(history_path: Path, report: ScanReport, limit: int, *,
                writable: Callable[[], bool], clock: Callable[[], float] = time.time,
                head: Callable[[], str | None] | None = None) -> bool:
    """After ``dreamscape scan``: add its state to the history; whether it wrote.

    Nothing when the scan was cancelled, when the state equals the latest record's (the
    file's last bytes say so) or when ``writable()`` (taking the project lock) refuses.
    """
    if report.stats is None or report.stats.cancelled:
        return False
    digest = scan_digest(report.files)
    log = TrendLog(history_path, limit)
    if log.tail_digest() == digest or not writable():
        return False
    try:
        return log.record(report.files, when=clock(), digest=digest,
                          head=head or (lambda: git_head(report.root)))
    finally:
        log.close()


class TrendKeeper:
    """The engine's history: loaded on its first scan, kept in memory after.

    ``after_scan`` records the scan (unless read-only, disabled or cancelled) and
    returns the events to send: ``TrendsUpdated`` with the whole window (the UI folds
    one file's trend from it when asked), preceded by a warning if the file could not
    be written. A read-only keeper re-reads the file every time: the lock holder
    writes it.
    """

    def __init__(self, path: Path, limit: int, *, read_only: bool = False,
                 enabled: bool = True, clock: Callable[[], float] = time.time,
                 head: Callable[[Path], str | None] = git_head) -> None:
        self.path, self.limit = path, limit
        self.read_only, self.enabled = read_only, enabled
        self.clock, self.head = clock, head
        self._log: TrendLog | None = None
        self._warned = False

    def after_scan(self, report: ScanReport) -> list[Event]:
        if not self.enabled:
            return []
        events: list[Event] = []
        try:
            if self.read_only:
                log = TrendLog(self.path, self.limit, read_only=True)
                history = log.load()
            else:
                log = self._log = self._log or TrendLog(self.path, self.limit)
                if report.stats is not None and not report.stats.cancelled:
                    log.record(report.files, when=self.clock(),
                               head=lambda: self.head(report.root))
                history = log.load()
                if log.recovered_to is not None and not self._warned:
                    self._warned = True
                    events.append(EngineLog(f"{self.path} was corrupt; moved to "
                                            f"{log.recovered_to}", "warning"))
        except (OSError, UserError) as exc:  # a full disk must not stop the engine
            return [EngineLog(f"trend history not updated: {exc}", "warning")]
        return [*events, TrendsUpdated(history)]

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
