"""Per-file detail: functions with cc and rank, MI, raw counts, failure and heal history.

``u`` here undoes this file's latest applied heal (the dashboard's ``u`` undoes the
project's latest), ``e`` opens the file in $EDITOR.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header

from dreamscape_tui.core.events import FileResult
from widgets.file_detail import FileDetail

if TYPE_CHECKING:
    from dreamscape_tui.app import DreamscapeApp

UNDOABLE = ("healed", "accepted")


class DetailScreen(Screen[None]):
    """One file's metrics and history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "undo", "Undo heal", tooltip="Restore this file from its last heal's backup"),
        Binding("e", "edit", "Edit", tooltip="Open the file in $EDITOR"),
        Binding("escape", "close", "Back"),
    ]

    def __init__(self, path: str) -> None:
        super().__init__(id="detail")
        self.path = path
        self.items: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []

    @property
    def dreamscape(self) -> DreamscapeApp:
        return cast("DreamscapeApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield FileDetail(id="file-detail")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.reload()

    def history(self) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """This file's heal items, newest first, each with its attempts."""
        heals = self.dreamscape.engine.heals
        items = [i for i in heals.items() if i["path"] == self.path]
        items.sort(key=lambda i: -int(i["id"][1:]))
        return [(item, heals.attempts(item["id"])) for item in items]

    def reload(self) -> None:
        result = self.dreamscape.results.get(self.path)
        metrics = result.metrics if isinstance(result, FileResult) else None
        skipped = "" if result is None or isinstance(result, FileResult) else result.reason
        self.items = self.history()
        self.query_one(FileDetail).show(self.path, metrics, skipped, self.items)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo" and not any(i["state"] in UNDOABLE for i, _ in self.items):
            return None  # nothing to undo: shown disabled
        return True

    def decided(self, heal_id: str | None) -> None:
        self.reload()

    def action_undo(self) -> None:
        applied = [item for item, _ in self.items if item["state"] in UNDOABLE]
        if applied:
            self.dreamscape.decide("undo", applied[0]["id"])

    def action_edit(self) -> None:
        self.dreamscape.edit_file(self.path)
        self.reload()

    def action_close(self) -> None:
        self.app.pop_screen()
