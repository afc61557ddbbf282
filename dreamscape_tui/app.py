"""The Textual app: bridges engine events (from worker threads) to messages.

The engine (``dreamscape_tui.core``) knows nothing of Textual. The app runs blocking
engine work in thread workers, handing the engine a sink that wraps each event in an
``EngineEvent`` message with ``post_message`` (thread-safe), and widgets react to those
messages on the UI thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Footer, Header, ProgressBar, Static

from dreamscape_tui.core.config import Config
from dreamscape_tui.core.events import Event, FileScanned, ScanFinished, ScanStarted
from dreamscape_tui.core.scanner import ProjectScanner
from dreamscape_tui.core.store import Store
from widgets.file_table import FileTable


class EngineEvent(Message):
    """One engine event, carried to the UI thread."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class DreamscapeApp(App[None]):
    """The dashboard of one project."""

    CSS_PATH = "app.tcss"
    TITLE = "Dreamscape"
    BINDINGS = [("q", "quit", "Quit"), ("r", "rescan", "Rescan")]

    def __init__(self, root: Path, config: Config, *, store: Store | None = None) -> None:
        super().__init__()
        self.root = root
        self.config = config
        self.store = store
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        yield ProgressBar(id="scan-progress", show_eta=False)
        yield FileTable(id="files")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.root.name
        self.action_rescan()

    def action_rescan(self) -> None:
        self.query_one(FileTable).clear()
        self._scan()

    @work(thread=True, exclusive=True, group="scan")
    def _scan(self) -> None:
        scanner = ProjectScanner(self.root, self.config.scanner, self.store, cancel=self._cancel)
        for event in scanner.stream():
            self.post_message(EngineEvent(event))

    def on_engine_event(self, message: EngineEvent) -> None:
        event = message.event
        progress = self.query_one("#scan-progress", ProgressBar)
        status = self.query_one("#status", Static)
        if isinstance(event, ScanStarted):
            progress.update(total=event.total, progress=0)
            status.update(f"Scanning {event.total} files ({event.cached} cached)")
        elif isinstance(event, FileScanned):
            progress.advance(1)
            self.query_one(FileTable).add_result(event.result)
        elif isinstance(event, ScanFinished):
            self.query_one(FileTable).rank()
            status.update(f"{event.files} files: {event.analyzed} analysed, "
                          f"{event.skipped} skipped")

    async def action_quit(self) -> None:
        self._cancel.set()
        self.workers.cancel_all()
        self.exit()

    def on_unmount(self) -> None:
        self._cancel.set()
        if self.store is not None:
            self.store.close()


def create_app(root: Path, config: Config, *, use_store: bool = True) -> DreamscapeApp:
    """The one app factory: the CLI and the tests build the app the same way."""
    store = Store.for_project(root) if use_store and config.scanner.cache else None
    return DreamscapeApp(root, config, store=store)
