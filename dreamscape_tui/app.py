"""The Textual app: runs the engine in thread workers and bridges its events to the UI.

The engine (``dreamscape_tui.core``) knows nothing of Textual. The app hands it a sink
that wraps each event in an ``EngineEvent`` message with ``post_message`` (thread-safe)
and a cancel event; every blocking engine call (the scan-check-heal run, accept, reject,
retry, undo, shutdown) runs in a Textual thread worker, so the UI never waits on a model,
a browser or pytest. The engine starts on its own after the first frame is painted: a
project heals without anyone pressing a key, and a person reviews only escalations.

``create_app`` is the one factory: the CLI, the demo, the tests and the benchmark all
build the app through it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, cast

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from dreamscape_tui.core.config import Config
from dreamscape_tui.core.engine import AutomationEngine, SessionFactory, item_event
from dreamscape_tui.core.errors import UserError
from dreamscape_tui.core.events import (
    ChecksFinished,
    EngineLog,
    Event,
    FileResult,
    FileScanned,
    HealChanged,
    ScanFinished,
    ScanStarted,
    SkippedFile,
)
from dreamscape_tui.core.healstore import ACTIVE
from dreamscape_tui.core.scanner import start_analysis_processes
from dreamscape_tui.core.store import Store
from dreamscape_tui.memory import settle_memory
from dreamscape_tui.quitting import QUIT_WAIT_S, Quitter, hangup_driver
from dreamscape_tui.screens.dashboard import DashboardScreen
from dreamscape_tui.screens.detail import DetailScreen
from dreamscape_tui.screens.editor import open_in_editor
from dreamscape_tui.screens.help import HelpScreen
from dreamscape_tui.screens.review import ReviewScreen
from widgets.file_tree import FileTree
from widgets.file_tree_model import STATUS_OF_STATE
from widgets.heal_queue import HealQueue

FINISHED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)


class EngineEvent(Message):
    """One engine event, carried from a worker thread to the UI thread."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


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
                 demo: bool = False) -> None:
        self.started_at = time.perf_counter()
        super().__init__()
        start_analysis_processes()  # before Textual replaces sys.stderr
        self.root = root
        self.config = config
        self.autostart = autostart
        self.demo = demo
        self.cancel = threading.Event()
        self.engine = AutomationEngine(root, config, store=store, sink=self._sink,
                                       cancel=self.cancel, session_factory=session_factory)
        self.results: dict[str, FileResult | SkippedFile] = {}
        self.heal_items: dict[str, HealChanged] = {}
        self.check_errors: tuple[str, ...] = ()  # checks that could not run, last pass
        self.file_status: dict[str, str] = {}  # path -> marker of its latest heal item
        self.phase = "starting"
        self.scanned = False
        self.paused = False
        self.closing = False
        self.first_paint_s: float | None = None  # seconds from construction to first frame
        self._restart = False  # rescan once the running engine pass has stopped
        self._heal_again = False  # run the heal queue again once the engine is free
        if demo:
            self.title = "Dreamscape DEMO"

    # -- set-up ----------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        uses_browser = any(m.kind == "webchat" for m in self.config.models)
        return DashboardScreen(uses_browser=uses_browser)

    @property
    def dashboard(self) -> DashboardScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, DashboardScreen)
        return screen

    def get_driver_class(self) -> type[Driver]:
        """On Linux a driver that survives its terminal going away (``terminal.py``)."""
        return hangup_driver() or super().get_driver_class()

    def on_mount(self) -> None:
        if not self.is_headless and threading.current_thread() is threading.main_thread():
            self.quitter.install()  # SIGTERM, SIGHUP: e.g. the SSH session went away
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        """The first frame is on screen: only now start the engine, so it never delays it."""
        self.first_paint_s = time.perf_counter() - self.started_at
        self._update_status()
        if self.demo:
            self.dashboard.apply(EngineLog("DEMO: a sample project in a temporary folder, "
                                           "healed by a practice chat page on this machine"))
        self._engine_pass(load=True, run="all" if self.autostart else None)

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

    def on_engine_event(self, message: EngineEvent) -> None:
        self.apply_event(message.event)

    def apply_event(self, event: Event) -> None:
        """Fold one engine event into the app's state and the dashboard."""
        if isinstance(event, FileScanned):
            self.results[event.result.path] = event.result
        elif isinstance(event, ScanStarted):
            self.results.clear()
            self.phase = "scanning"
        elif isinstance(event, ScanFinished):
            self.scanned = True
            self.phase = "checking" if self.phase == "scanning" else self.phase
            settle_memory()
        elif isinstance(event, ChecksFinished):
            self.check_errors = event.errors
        elif isinstance(event, HealChanged):
            self.heal_items[event.id] = event
            if self.phase in ("checking", "scanning"):
                self.phase = "healing"
            latest = max((i for i in self.heal_items.values() if i.path == event.path),
                         key=lambda i: int(i.id[1:]))
            self.file_status[event.path] = STATUS_OF_STATE.get(latest.state, "")
            self.dashboard.file_tree.set_status(event.path, self.file_status[event.path])
        self.dashboard.apply(event)
        if isinstance(event, FileScanned) and event.result.path in self.file_status:
            # a rescan clears the tree: put the file's marker back
            self.dashboard.file_tree.set_status(event.result.path,
                                                self.file_status[event.result.path])
        if isinstance(event, ScanFinished | ChecksFinished | HealChanged):
            self._update_status()
            if isinstance(event, HealChanged) and isinstance(self.screen, ReviewScreen):
                self.screen.reload()

    def escalations(self) -> list[str]:
        """Ids of the heal items waiting for review, oldest first."""
        return sorted((i.id for i in self.heal_items.values() if i.state == "escalated"),
                      key=lambda heal_id: int(heal_id[1:]))

    def _update_status(self) -> None:
        states = [i.state for i in self.heal_items.values()]
        waiting = states.count("escalated")
        self.dashboard.status_bar.show_engine(self.phase, self.scanned, self.paused, states,
                                              self.check_errors)
        plural = "s" if waiting != 1 else ""
        reviews = f" · {waiting} review{plural} waiting" if waiting else ""
        self.sub_title = f"{self.root.name}{' (practice project)' if self.demo else ''}{reviews}"

    # -- engine passes ---------------------------------------------------------------------
    @work(thread=True, group="engine", exit_on_error=False)
    def _engine_pass(self, load: bool = False, run: str | None = "all") -> None:
        """One blocking engine pass: restore stored heal items, then run or heal."""
        if load:
            for item in self.engine.heals.items((*ACTIVE, "escalated")):
                self._sink(item_event(item))
        if run == "all":
            self.engine.run_all()
        elif run == "heal":
            self.engine.heal()

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
        elif worker.group == "decision":
            self._decision_done(worker)

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
        self.phase = "idle"
        self._update_status()

    # -- decisions (review, undo) ----------------------------------------------------------
    def decide(self, kind: str, heal_id: str | None, hint: str = "") -> None:
        """Run accept / reject / retry / undo in a thread worker; the result is notified."""
        self.run_worker(lambda: self._decision(kind, heal_id, hint), thread=True,
                        group="decision", name=f"{kind}:{heal_id or ''}", exit_on_error=False)

    def _decision(self, kind: str, heal_id: str | None, hint: str) -> tuple[str, str, str]:
        if kind == "accept" and heal_id:
            backup = self.engine.accept(heal_id)
            return (kind, heal_id, f"Applied the fix; the original is in "
                                   f"{backup.relative_to(self.root)}")
        if kind == "reject" and heal_id:
            self.engine.reject(heal_id)
            return (kind, heal_id, "Rejected: the file is left as it is")
        if kind == "retry" and heal_id:
            self.engine.retry(heal_id, hint)
            return (kind, heal_id, "Queued again with your hint")
        undone, path = self.engine.undo(heal_id)
        return (kind, undone, f"Restored {path} from its backup (heal {undone})")

    def _decision_done(self, worker: Worker[Any]) -> None:
        kind, _, rest = (worker.name or "").partition(":")
        if worker.state == WorkerState.SUCCESS:
            _, heal_id, message = cast(tuple[str, str, str], worker.result)
            self.notify(message, title=kind.capitalize())
        else:
            heal_id = rest
            error = worker.error
            text = str(error) if isinstance(error, UserError) else f"{kind} failed: {error!r}"
            self.notify(text, title=kind.capitalize(), severity="error")
        if heal_id:
            self._refresh_item(heal_id)
        if kind == "retry" and worker.state == WorkerState.SUCCESS:
            self.ensure_healing()
        if isinstance(self.screen, ReviewScreen | DetailScreen):
            self.screen.decided(heal_id)

    def _refresh_item(self, heal_id: str) -> None:
        item = self.engine.heals.get(heal_id)
        if item is not None:
            self.apply_event(item_event(item))

    def edit_file(self, path: str) -> None:
        """Open ``path`` (project-relative) in $VISUAL / $EDITOR; the app suspends."""
        open_in_editor(self, self.root / path)

    # -- actions ---------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_reviews(self) -> None:
        """Open the review panels (escalations only)."""
        if isinstance(self.screen, ReviewScreen):
            return
        if not self.escalations():
            self.notify("No reviews waiting: everything so far healed on its own")
            return
        self.push_screen(ReviewScreen())

    def on_file_tree_selected(self, message: FileTree.Selected) -> None:
        self.open_detail(message.path)

    def on_heal_queue_opened(self, message: HealQueue.Opened) -> None:
        if message.state == "escalated":
            self.open_review(message.heal_id)
        else:
            self.open_detail(message.path)

    def open_review(self, heal_id: str) -> None:
        self.push_screen(ReviewScreen(heal_id))

    def open_detail(self, path: str) -> None:
        self.push_screen(DetailScreen(path))

    def action_rescan(self) -> None:
        if self.closing:
            return
        if self.engine_busy():
            self._restart = True
            self.cancel.set()
            self.dashboard.apply(EngineLog("stopping the current pass to rescan"))
        else:
            self._engine_pass(run="all")

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self.engine.pause()
        else:
            self.engine.resume()
        self._update_status()

    def action_undo(self) -> None:
        """Undo the latest applied heal in the project."""
        self.decide("undo", None)

    def action_switch_theme(self) -> None:
        """Cycle to the next registered theme (the palette's Theme picker lists them)."""
        names = sorted(self.available_themes)
        self.theme = names[(names.index(self.theme) + 1) % len(names)]
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
        yield SystemCommand("Rescan", "Scan the project again, then check and heal",
                            self.action_rescan)
        yield SystemCommand("Resume healing" if self.paused else "Pause healing",
                            "Workers finish their current attempt, then wait",
                            self.action_toggle_pause)
        yield SystemCommand("Open reviews", "Review the escalated heals", self.action_reviews)
        yield SystemCommand("Undo last heal", "Restore the latest healed file from its backup",
                            self.action_undo)
        yield SystemCommand("Switch theme", "Cycle to the next colour theme",
                            self.action_switch_theme)
        yield SystemCommand("Help", "Every key binding", self.action_help)


def create_app(root: Path, config: Config, *, store: Store | None = None,
               session_factory: SessionFactory | None = None, autostart: bool = True,
               demo: bool = False) -> DreamscapeApp:
    """The one app factory: the CLI, the demo, the tests and the benchmark use it.

    ``session_factory`` builds the browser pool on first need (the CLI passes
    ``commands.common.pool_factory``); ``autostart=False`` opens the dashboard without
    running the engine (snapshot tests post events themselves).
    """
    return DreamscapeApp(root, config, store=store, session_factory=session_factory,
                         autostart=autostart, demo=demo)
