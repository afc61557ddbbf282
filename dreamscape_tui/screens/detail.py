"""Per-file detail: functions with cc and rank, MI, raw counts, the cc_max and MI trend
over the recorded scans, failure and heal history.

``u`` here undoes this file's latest applied heal (the dashboard's ``u`` undoes the
project's latest), ``e`` opens the file in $EDITOR. Everything shown comes from the
read model it is given; the undo is a ``Decision`` message, and ``HealsChanged``
tells the screen to draw again, as after a scan with new trends.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header

from dreamscape_tui.core.events import FileResult
from dreamscape_tui.messages import Decision, HealsChanged
from dreamscape_tui.readmodel import ReadModel
from dreamscape_tui.screens.editor import open_in_editor
from widgets.file_detail import FileDetail


class DetailScreen(Screen[None]):
    """One file's metrics and history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "undo", "Undo heal", tooltip="Restore this file from its last heal's backup"),
        Binding("e", "edit", "Edit", tooltip="Open the file in $EDITOR"),
        Binding("escape", "close", "Back"),
    ]

    def __init__(self, model: ReadModel, root: Path, path: str, *,
                 read_only: bool = False) -> None:
        super().__init__(id="detail")
        self.model = model
        self.root = root
        self.path = path
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        yield Header()
        yield FileDetail(id="file-detail")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        result = self.model.results.get(self.path)
        metrics = result.metrics if isinstance(result, FileResult) else None
        skipped = "" if result is None or isinstance(result, FileResult) else result.reason
        self.query_one(FileDetail).show(self.path, metrics, skipped,
                                        self.model.history(self.path),
                                        self.model.trend(self.path))
        self.refresh_bindings()

    def on_heals_changed(self, message: HealsChanged) -> None:
        item = self.model.item(message.heal_id)
        if message.outcome is not None or item is None or item.path == self.path:
            self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo" and (self.read_only or self.model.undoable(self.path) is None):
            return None  # nothing to undo (or a read-only session): shown disabled
        return True

    def action_undo(self) -> None:
        applied = self.model.undoable(self.path)
        if applied is not None and not self.read_only:
            self.post_message(Decision("undo", applied.id))

    def action_edit(self) -> None:
        open_in_editor(self.app, self.root / self.path)
        self.reload()

    def action_close(self) -> None:
        self.app.pop_screen()
