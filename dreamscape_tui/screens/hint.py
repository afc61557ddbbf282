"""The prompt for a retry hint: one line that goes into the next heal prompt."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class HintScreen(ModalScreen[str | None]):
    """Ask for a hint; dismisses with the text, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, path: str) -> None:
        super().__init__(id="hint-screen")
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="hint-box"):
            yield Label(f"Retry {self.path} with a hint for the model")
            yield Input(placeholder="e.g. restock must add the amount to the stock",
                        id="hint-input")
            yield Label("Enter retries · Escape cancels", classes="hint-help")

    @on(Input.Submitted, "#hint-input")
    def _submitted(self, event: Input.Submitted) -> None:
        hint = event.value.strip()
        if hint:
            self.dismiss(hint)
        else:
            self.notify("Type a hint first (or Escape to cancel)", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)
