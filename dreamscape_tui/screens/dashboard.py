"""The dashboard: ranked file tree, session health, heal queue, activity and status.

It is the default screen and lives for the whole session (review and detail screens
stack on top of it), so it keeps receiving engine events while the person reviews.
The app folds each event into the read model, then calls ``apply``: the screen routes
the event to the widget that draws it, reading markers and the heal queue's membership
from the model (the one place events become state).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input

from dreamscape_tui.core.events import (
    EngineLog,
    FileScanned,
    HealChanged,
    HealSpend,
    ScanFinished,
    ScanStarted,
    SessionState,
)
from dreamscape_tui.readmodel import ModelEvent, ReadModel
from widgets.activity_log import ActivityLog
from widgets.file_tree import FileTree
from widgets.file_tree_model import SORT_LABELS
from widgets.heal_queue import HealQueue
from widgets.session_panel import SessionPanel
from widgets.status_bar import StatusBar

FILTER_DELAY_S = 0.15  # re-filter once typing pauses, not on every key of a fast typist


class DashboardScreen(Screen[None]):
    """The main screen of one project."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", tooltip="Filter the files by typing"),
        Binding("s", "sort", "Sort", tooltip="Sort by score, cc, MI, name or hotspot"),
        Binding("v", "app.reviews", "Review", tooltip="Review the escalated heals"),
        Binding("p", "app.toggle_pause", "Pause", tooltip="Pause or resume healing"),
        Binding("r", "app.rescan", "Scan", tooltip="Scan, check and heal again"),
        Binding("u", "app.undo", "Undo", tooltip="Undo the latest heal (restore its backup)"),
        Binding("t", "app.switch_theme", "Theme", show=False,
                tooltip="Switch to the next colour theme"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, model: ReadModel, *, uses_browser: bool) -> None:
        super().__init__(id="dashboard")
        self.model = model
        self.uses_browser = uses_browser
        self._filter_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="files-pane"):
                yield Input(placeholder="filter files…", id="filter")
                yield FileTree(id="tree")
            with Vertical(id="side"):
                yield SessionPanel(uses_browser=self.uses_browser, id="sessions")
                yield ActivityLog(id="activity")
        yield HealQueue(id="queue")
        yield StatusBar(id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        # Looked up once: a scan sends thousands of events, and a query per event shows.
        self.file_tree = self.query_one(FileTree)
        self.status_bar = self.query_one(StatusBar)
        self.heal_queue = self.query_one(HealQueue)
        self.session_panel = self.query_one(SessionPanel)
        self.activity_log = self.query_one(ActivityLog)
        self.file_tree.focus()

    # -- engine events ---------------------------------------------------------------------
    def apply(self, event: ModelEvent) -> None:
        """Route one event, already in the model, to the widget that draws it."""
        if isinstance(event, FileScanned):
            path = event.result.path
            self.file_tree.add(event.result)
            if self.model.marker(path):  # a rescan cleared the tree: put the marker back
                self.file_tree.set_status(path, self.model.marker(path))
            self.status_bar.scan_progress(event.done, event.total)
        elif isinstance(event, HealChanged):
            if self.model.in_session(event.id):
                self.heal_queue.update_item(event.item)
                self.file_tree.set_status(event.path, self.model.marker(event.path))
        elif isinstance(event, SessionState):
            self.session_panel.update_session(event)
        elif isinstance(event, HealSpend):
            self.heal_queue.show_spend(event)
        elif isinstance(event, EngineLog):
            self.activity_log.add(event.text, event.level)
        elif isinstance(event, ScanStarted):
            self.file_tree.clear()
            self.status_bar.scan_started(event.total)
            self.activity_log.add(f"scanning {event.total} files ({event.cached} cached)")
        elif isinstance(event, ScanFinished):
            self.file_tree.rebuild()
            self.status_bar.scan_finished()
            word = "cancelled" if event.cancelled else "done"
            self.activity_log.add(
                f"scan {word}: {event.analyzed} analysed, {event.cached} cached, "
                f"{event.skipped} skipped")

    def show_status(self, *, paused: bool, read_only: str | None) -> None:
        """Word the engine's phase and the reviews waiting, from the model."""
        model = self.model
        self.status_bar.show_engine(model.phase, model.scanned, paused, model.session_states(),
                                    model.check_errors, read_only)

    # -- keys ------------------------------------------------------------------------------
    def action_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        filter_input = self.query_one("#filter", Input)
        filter_input.value = ""
        self.remove_class("-filtering")
        self._apply_filter()
        self.file_tree.focus()

    def action_sort(self) -> None:
        sort = self.file_tree.cycle_sort()
        self.notify(f"Sorted by {SORT_LABELS[sort]}", timeout=1.5)

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY_S, self._apply_filter)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self._apply_filter()
        if not self.query_one("#filter", Input).value:
            self.remove_class("-filtering")
        self.file_tree.focus()

    def _apply_filter(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        tree = self.file_tree
        text = self.query_one("#filter", Input).value.strip()
        if text != tree.filter_text:
            tree.set_filter(text)
