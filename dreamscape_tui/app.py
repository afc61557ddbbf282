"""The Textual app: runs the engine in thread workers and bridges its events to the UI.

The engine (``dreamscape_tui.core``) knows nothing of Textual: the app hands it a sink
that posts each event as an ``EngineEvent`` message, and a cancel event; every blocking
engine call runs in a thread worker, so the UI never waits on a model, a browser or
pytest. The engine starts after the first frame: a project heals without anyone pressing
a key, and a person reviews only escalations.

Each event is folded into a Textual-free ``ReadModel`` (``readmodel.py``), the only
state screens are drawn from: no screen reads the store. Screens post ``Decision``
messages; ``on_decision`` is the one place they are carried out, and ``HealsChanged``
tells the screens on the stack that the model moved (``messages.py``).

``create_app`` is the one factory: the CLI, the demo, the tests and the benchmark all
build the app through it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from dreamscape_tui.core.config import Config
from dreamscape_tui.core.engine import AutomationEngine, SessionFactory
from dreamscape_tui.core.events import (
    ChecksFinished,
    EngineLog,
    Event,
    HealChanged,
    ScanFinished,
    TrendsUpdated,
)
from dreamscape_tui.core.healtypes import HealId, HealState
from dreamscape_tui.core.scanner import start_analysis_processes
from dreamscape_tui.core.store import Store
from dreamscape_tui.decisions import DecisionKind, DecisionOutcome, carry_out
from dreamscape_tui.memory import settle_memory
from dreamscape_tui.messages import Decision, EngineEvent, HealsChanged
from dreamscape_tui.palette import next_theme, project_commands
from dreamscape_tui.quitting import QUIT_WAIT_S, Quitter, hangup_driver
from dreamscape_tui.readmodel import ModelEvent, ReadModel, ReplayFinished
from dreamscape_tui.screens.dashboard import DashboardScreen
from dreamscape_tui.screens.detail import DetailScreen
from dreamscape_tui.screens.help import HelpScreen
from dreamscape_tui.screens.review import ReviewScreen
from dreamscape_tui.watching import FilesSaved, Watching
from widgets.file_tree import FileTree
from widgets.heal_queue import HealQueue

__all__ = ["DreamscapeApp", "EngineEvent", "create_app"]

FINISHED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)
READ_ONLY_OFF = frozenset({"rescan", "toggle_pause", "undo"})  # app actions that write
Run = Literal["all", "heal", "scan", "recheck"]


class DreamscapeApp(App[None]):
    """The dashboard of one project, with the engine healing it in the background."""

    CSS_PATH = "app.tcss"
    TITLE = "Dreamscape"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Cancel workers, stop the browsers and quit"),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
    ]

    def __init__(self, root: Path, config: Config, *, store: Store | None = None,
                 session_factory: SessionFactory | None = None, autostart: bool = True,
                 demo: bool = False, read_only: str | None = None) -> None:
        self.started_at = time.perf_counter()
        super().__init__()
        start_analysis_processes()  # before Textual replaces sys.stderr
        self.root = root
        self.config = config
        self.autostart = autostart
        self.demo = demo
        self.read_only = read_only  # why this session only looks, or None
        self.cancel = threading.Event()
        self.model = ReadModel(checks=read_only is None)
        self.engine = AutomationEngine(root, config, store=store, sink=self._sink,
                                       cancel=self.cancel, session_factory=session_factory,
                                       read_only=read_only is not None)
        self.paused = False
        self.closing = False
        self.first_paint_s: float | None = None  # seconds from construction to first frame
        self._restart = False  # rescan once the running engine pass has stopped
        self._heal_again = False  # run the heal queue again once the engine is free
        self._decisions: dict[Worker[Any], tuple[DecisionKind, HealId | None]] = {}
        self.watching = Watching(self)  # continuous healing (watching.py)
        if demo:
            self.title = "Dreamscape DEMO"

    # -- set-up ----------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        uses_browser = any(m.kind == "webchat" for m in self.config.models)
        return DashboardScreen(self.model, uses_browser=uses_browser)

    @property
    def dashboard(self) -> DashboardScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, DashboardScreen)
        return screen

    @property
    def phase(self) -> str:
        """What the engine is doing (the read model's; the app sets idle and stopping)."""
        return self.model.phase

    @phase.setter
    def phase(self, phase: str) -> None:
        self.model.phase = phase

    @property
    def scanned(self) -> bool:
        return self.model.scanned

    def get_driver_class(self) -> type[Driver]:
        """On Linux a driver that survives its terminal going away (``terminal.py``)."""
        return hangup_driver() or super().get_driver_class()

    def on_mount(self) -> None:
        if not self.is_headless and threading.current_thread() is threading.main_thread():
            self.quitter.install()  # SIGTERM, SIGHUP: e.g. the SSH session went away
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        """The first frame is on screen: only now start the engine, so it never delays it.

        Read-only, the engine only scans: another process owns the checks and heals.
        """
        self.first_paint_s = time.perf_counter() - self.started_at
        self._update_status()
        if self.demo:
            self.dashboard.apply(EngineLog("DEMO: a sample project in a temporary folder, "
                                           "healed by a practice chat page on this machine"))
        if self.read_only is not None:
            self.dashboard.apply(EngineLog(f"read-only: {self.read_only}", "warning"))
        run: Run = "scan" if self.read_only is not None else "all"
        self._engine_pass(load=True, run=run if self.autostart else None)
        self.watching.start()

    @cached_property
    def quitter(self) -> Quitter:
        """Made on first use: the driver may report a lost terminal before on_mount."""
        return Quitter(self)

    def terminal_lost(self) -> None:
        """The driver found the terminal gone (called on the loop): quit as on SIGHUP."""
        self.quitter.hangup()

    # -- engine events ---------------------------------------------------------------------
    def _sink(self, event: Event) -> None:
        """Called by the engine from any thread."""
        self.post_message(EngineEvent(event))

    def on_files_saved(self, message: FilesSaved) -> None:
        self.watching.saved(message.paths)

    def on_engine_event(self, message: EngineEvent) -> None:
        self.apply_event(message.event)

    def apply_event(self, event: ModelEvent) -> None:
        """Fold one event into the read model, then show it: the dashboard draws it, and
        a changed heal item is announced to every screen on the stack."""
        self.model.apply(event)
        self.dashboard.apply(event)
        if isinstance(event, ScanFinished):
            settle_memory()
        if isinstance(event, ScanFinished | ChecksFinished | HealChanged | ReplayFinished):
            self._update_status()
        if isinstance(event, HealChanged | TrendsUpdated):  # (an open detail: new trends)
            self._tell_screens(event.id if isinstance(event, HealChanged) else None)

    def _tell_screens(self, heal_id: HealId | None,
                      outcome: DecisionOutcome | None = None) -> None:
        """Post ``HealsChanged`` to each screen (one message each: a message has one
        target); the screens redraw themselves from the model."""
        for screen in self.screen_stack:
            screen.post_message(HealsChanged(heal_id, outcome))

    def _update_status(self) -> None:
        self.dashboard.show_status(paused=self.paused, read_only=self.read_only)
        self.dashboard.status_bar.set_watching(self.watching.status())
        waiting = len(self.model.escalations())
        plural = "s" if waiting != 1 else ""
        reviews = f" · {waiting} review{plural} waiting" if waiting else ""
        practice = " (practice project)" if self.demo else ""
        read_only = f" · read-only: {self.read_only}" if self.read_only is not None else ""
        self.sub_title = f"{self.root.name}{practice}{read_only}{reviews}"

    # -- engine passes ---------------------------------------------------------------------
    @work(thread=True, group="engine", exit_on_error=False)
    def _engine_pass(self, load: bool = False, run: Run | None = "all",
                     paths: tuple[str, ...] = ()) -> None:
        """One blocking engine pass: replay the stored heal items, then run, heal or scan."""
        if load:
            try:
                self.engine.replay()
            finally:  # after the replayed events: what changes next is this session's
                self.post_message(EngineEvent(ReplayFinished()))
        if run == "all":
            self.engine.run_all()
        elif run == "heal":
            self.engine.heal()
        elif run == "scan":
            self.engine.scan()
        elif run == "recheck":
            self.watching.run(paths)

    def engine_busy(self) -> bool:
        return any(w.group == "engine" and not w.is_finished for w in self.workers)

    def ensure_healing(self) -> None:
        """Work the heal queue now, or as soon as the running engine pass ends."""
        if self.engine_busy():
            self._heal_again = True
        else:
            self.phase = "healing"
            self._update_status()
            self._engine_pass(run="heal")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The message's state, not the worker's: a fast worker is already finished when
        # its PENDING and RUNNING messages arrive, and must be handled once.
        worker = event.worker
        if event.state not in FINISHED or self.closing:
            return
        if worker.group == "engine":
            self._engine_done(worker)
        elif worker in self._decisions:
            kind, heal_id = self._decisions.pop(worker)
            result = worker.result
            self._decided(result if event.state == WorkerState.SUCCESS
                          and isinstance(result, DecisionOutcome)
                          else DecisionOutcome.failure(kind, heal_id, worker.error))

    def _engine_done(self, worker: Worker[Any]) -> None:
        if worker.state == WorkerState.ERROR:
            message = str(worker.error)
            self.dashboard.apply(EngineLog(message, "error"))
            self.notify(message, title="Engine stopped", severity="error")
        if self._restart:
            self._restart = self._heal_again = False
            self.cancel.clear()
            self._engine_pass(run="all")
            return
        if self._heal_again:
            self._heal_again = False
            self._engine_pass(run="heal")
            return
        if self.watching.recheck():  # files saved while the engine was busy
            return
        self.phase = "idle"
        self._update_status()

    # -- decisions (review, undo): one place -----------------------------------------------
    def on_decision(self, message: Decision) -> None:
        """A screen decided (accept / reject / retry / undo)."""
        message.stop()
        self.decide(message.kind, message.heal_id, message.hint)

    def decide(self, kind: DecisionKind, heal_id: HealId | None,
               hint: str = "") -> Worker[DecisionOutcome] | None:
        """Carry out a decision in a thread worker; its outcome is notified and announced."""
        if self.closing:
            return None
        if self.read_only is not None:
            self._decided(DecisionOutcome(kind, heal_id, f"read-only: {self.read_only}",
                                          failed=True))
            return None
        worker = self._carry_out(kind, heal_id, hint)
        self._decisions[worker] = (kind, heal_id)
        return worker

    @work(thread=True, group="decision", exit_on_error=False)
    def _carry_out(self, kind: DecisionKind, heal_id: HealId | None,
                   hint: str) -> DecisionOutcome:
        return carry_out(self.engine, kind, heal_id, hint)

    def _decided(self, outcome: DecisionOutcome) -> None:
        """Tell the person, and the screens (a review waits for its decision to land).

        The engine emitted the changed item before returning, and its message was
        posted before the worker's, so the model already has it.
        """
        self.notify(outcome.text, title=outcome.kind.capitalize(),
                    severity="error" if outcome.failed else "information")
        if outcome.kind == "retry" and not outcome.failed:
            self.ensure_healing()
        self._tell_screens(outcome.heal_id, outcome)

    # -- actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.read_only is not None and action in READ_ONLY_OFF:
            return None  # shown disabled: another process owns the project
        return True

    def _refused(self, what: str) -> bool:
        """In read-only mode, say why ``what`` cannot run (the palette skips check_action)."""
        if self.read_only is None:
            return False
        self.notify(f"{what} is off in a read-only session ({self.read_only})",
                    title="Read-only", severity="warning")
        return True

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.BINDINGS))

    def action_reviews(self) -> None:
        """Open the review panels (escalations only)."""
        if isinstance(self.screen, ReviewScreen):
            return
        if not self.model.escalations():
            self.notify("No reviews waiting: everything so far healed on its own")
            return
        self.open_review(None)

    def on_file_tree_selected(self, message: FileTree.Selected) -> None:
        self.open_detail(message.path)

    def on_heal_queue_opened(self, message: HealQueue.Opened) -> None:
        if message.state is HealState.ESCALATED:
            self.open_review(message.heal_id)
        else:
            self.open_detail(message.path)

    def open_review(self, heal_id: HealId | None) -> None:
        self.push_screen(ReviewScreen(self.model, self.root, heal_id,
                                      read_only=self.read_only is not None))

    def open_detail(self, path: str) -> None:
        self.push_screen(DetailScreen(self.model, self.root, path,
                                      read_only=self.read_only is not None))

    def action_rescan(self) -> None:
        if self.closing or self._refused("Rescan"):
            return
        if self.engine_busy():
            self._restart = True
            self.cancel.set()
            self.dashboard.apply(EngineLog("stopping the current pass to rescan"))
        else:
            self._engine_pass(run="all")

    def action_toggle_pause(self) -> None:
        if self._refused("Pause"):
            return
        self.paused = not self.paused
        if self.paused:
            self.engine.pause()
        else:
            self.engine.resume()
            self.watching.resumed()
        self._update_status()

    def action_undo(self) -> None:
        """Undo the latest applied heal in the project."""
        if not self._refused("Undo"):
            self.decide("undo", None)

    def action_switch_theme(self) -> None:
        """Cycle to the next registered theme (the palette's Theme picker lists them)."""
        self.theme = next_theme(self.available_themes, self.theme)
        self.notify(f"Theme: {self.theme}", timeout=1.5)

    async def action_quit(self) -> None:
        """Cancel workers, stop the browser pool, flush the store, then exit."""
        await self.quitter.quit(QUIT_WAIT_S)

    def on_unmount(self) -> None:
        """Exiting some other way than ``q`` (a crash, ``App.exit``): still stop the engine.

        Textual joins its worker threads after this; without the cancel they would
        keep it waiting for a whole heal run, and browsers would outlive the app.
        """
        if not self.closing:
            self.closing = True
            self.engine.shutdown()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from project_commands(
            paused=self.paused, rescan=self.action_rescan, toggle_pause=self.action_toggle_pause,
            reviews=self.action_reviews, undo=self.action_undo,
            switch_theme=self.action_switch_theme, show_help=self.action_help)


def create_app(root: Path, config: Config, *, store: Store | None = None,
               session_factory: SessionFactory | None = None, autostart: bool = True,
               demo: bool = False, read_only: str | None = None) -> DreamscapeApp:
    """The one app factory: the CLI, the demo, the tests and the benchmark use it.

    ``session_factory`` builds the browser pool on first need (the CLI passes
    ``commands.common.pool_factory``); ``autostart=False`` opens the dashboard without
    running the engine (snapshot tests post events themselves). ``read_only``: the
    one-line reason this session may not write (e.g. who holds the project lock); the
    app then replays the store and scans, but runs no checks or heals, and refuses
    decisions, rescans, pause and undo.
    """
    return DreamscapeApp(root, config, store=store, session_factory=session_factory,
                         autostart=autostart, demo=demo, read_only=read_only)
