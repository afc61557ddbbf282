"""What the UI knows about the project, built from engine events alone.

See docs/architecture.md#read-model.

The engine reports everything it does as events, and each ``HealChanged`` carries the
whole heal item, attempts included. ``ReadModel.apply`` is the one place those events
become state: every screen is drawn from this model, so no screen reads the store, and
nothing on the UI thread waits on its lock. Free of Textual (a test imports it in a
fresh interpreter and checks), so it can be exercised without an app.

At load the engine replays the stored items (oldest first) and the app follows them
with ``ReplayFinished``. Replayed items that are done (healed, accepted, rejected,
undone) belong to the file histories, not to this session: the heal queue, the file
markers and the status line count only work in progress, escalations and whatever
changed since the replay.
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass

from dreamscape_tui.core.events import (
    ChecksFinished,
    Event,
    FileResult,
    FileScanned,
    HealChanged,
    HealSpend,
    ScanFinished,
    ScanStarted,
    SkippedFile,
    TrendsUpdated,
)
from dreamscape_tui.core.healtypes import HealId, HealItem, HealState
from dreamscape_tui.core.trends import FileTrend, TrendHistory
from widgets.heal_style import file_marker


@dataclass(frozen=True, slots=True)
class ReplayFinished:
    """Every stored item has been replayed: what changes from now on is this session's."""


ModelEvent = Event | ReplayFinished


class ReadModel:
    """Scan results, every heal item by id, markers and the engine's phase.

    ``checks``: whether a scan is followed by checks (not in read-only mode), so the
    phase does not claim "checking" when nothing will be checked.
    """

    def __init__(self, *, checks: bool = True) -> None:
        self.checks = checks
        self.results: dict[str, FileResult | SkippedFile] = {}
        self.items: dict[HealId, HealItem] = {}
        self.check_errors: tuple[str, ...] = ()  # checks that could not run, last pass
        self.spend: HealSpend | None = None  # the latest heal run's spend vs its budget
        self.trends: TrendHistory | None = None  # the recorded scans (core/trends.py)
        self.phase = "starting"  # starting, scanning, checking, healing, idle, stopping
        self.scanned = False
        self.replaying = True
        self._session: set[HealId] = set()  # in the queue: see the module docs
        self._by_path: dict[str, list[HealId]] = {}  # ids per file, oldest first
        self._escalated: list[HealId] = []  # ids waiting for review, oldest first
        self._markers: dict[str, str] = {}  # path -> marker of its latest session item

    # -- the one conversion from events to state -------------------------------------------
    def apply(self, event: ModelEvent) -> None:
        """Fold one event in (called on the UI thread, in the order events were sent)."""
        if isinstance(event, FileScanned):
            self.results[event.result.path] = event.result
        elif isinstance(event, HealChanged):
            self._heal_changed(event.item)
        elif isinstance(event, ScanStarted):
            self.results.clear()
            self.phase = "scanning"
        elif isinstance(event, ScanFinished):
            self.scanned = True
            if self.phase == "scanning" and self.checks:
                self.phase = "checking"
        elif isinstance(event, ChecksFinished):
            self.check_errors = event.errors
        elif isinstance(event, ReplayFinished):
            self.replaying = False
        elif isinstance(event, HealSpend):
            self.spend = event
        elif isinstance(event, TrendsUpdated):
            self.trends = event.history

    def _heal_changed(self, item: HealItem) -> None:
        old = self.items.get(item.id)
        self.items[item.id] = item
        if old is None:
            insort(self._by_path.setdefault(item.path, []), item.id)
        if (old is not None and old.state is HealState.ESCALATED) != (
                item.state is HealState.ESCALATED):
            if item.state is HealState.ESCALATED:
                insort(self._escalated, item.id)
            else:
                self._escalated.remove(item.id)
        if not self.replaying or item.state.active or item.state is HealState.ESCALATED:
            self._session.add(item.id)
            if not self.replaying and self.phase in ("scanning", "checking"):
                self.phase = "healing"
        latest = [i for i in self._by_path[item.path] if i in self._session]
        if latest:
            self._markers[item.path] = file_marker(self.items[latest[-1]].state)

    # -- what screens ask --------------------------------------------------------------------
    def item(self, heal_id: HealId | None) -> HealItem | None:
        return None if heal_id is None else self.items.get(heal_id)

    def escalations(self) -> list[HealId]:
        """Ids of the heal items waiting for review, oldest first."""
        return list(self._escalated)

    def in_session(self, heal_id: HealId) -> bool:
        """Whether the item belongs in the heal queue (see the module docs)."""
        return heal_id in self._session

    def session_states(self) -> list[HealState]:
        """The states of the heal queue's items, for the status line."""
        return [self.items[heal_id].state for heal_id in self._session]

    def marker(self, path: str) -> str:
        """The file tree's marker for ``path``: failing, healing, healed, review or ""."""
        return self._markers.get(path, "")

    def history(self, path: str) -> list[HealItem]:
        """Every heal item of one file, stored or live, newest first."""
        return [self.items[i] for i in reversed(self._by_path.get(path, ()))]

    def trend(self, path: str) -> FileTrend | None:
        """One file's values over the recorded scans; None before any history came."""
        return None if self.trends is None else self.trends.trend(path)

    def undoable(self, path: str) -> HealItem | None:
        """This file's latest heal whose fix is in the tree, with a backup to restore."""
        return next((i for i in self.history(path) if i.state.undoable), None)
