"""The live heal queue: every heal item with its file, failure kind, state, attempt, model.

Rows are keyed by heal id and updated in place as ``HealChanged`` events arrive, so the
cursor stays put while workers move items along. Enter on a row asks to open it (a
review panel for an escalation, the file's detail otherwise).
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from dreamscape_tui.core.events import HealChanged

COLUMNS = (("file", "File", 28), ("kind", "Kind", 7), ("state", "State", 10),
           ("attempt", "Try", 3), ("model", "Model", 14))
STATE_STYLES = {
    "queued": "$error", "running": "$warning", "validating": "$warning",
    "retrying": "$warning", "applying": "$warning", "healed": "$success",
    "accepted": "$success", "escalated": "$accent bold", "rejected": "dim", "undone": "dim",
}


def short_path(path: str, width: int) -> str:
    """The path's tail when it does not fit: the file name matters most."""
    return path if len(path) <= width else "…" + path[-(width - 1):]


class HealQueue(DataTable[Content]):
    """Heal items, oldest first, updated live."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", tooltip="Review an escalation or open the file"),
    ]

    class Opened(Message):
        """Enter on a heal item."""

        def __init__(self, heal_id: str, path: str, state: str) -> None:
            super().__init__()
            self.heal_id, self.path, self.state = heal_id, path, state

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.items: dict[str, HealChanged] = {}

    def on_mount(self) -> None:
        self.border_title = "Heal queue"
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def _cells(self, event: HealChanged) -> list[Content]:
        return [
            Content(short_path(event.path, COLUMNS[0][2])),
            Content(event.kind),
            Content.styled(event.state, STATE_STYLES.get(event.state, "")),
            Content(str(event.attempt) if event.attempt else "-"),
            Content(event.model or "-"),
        ]

    def update_item(self, event: HealChanged) -> None:
        """Add the item or update its row in place."""
        self.items[event.id] = event
        cells = self._cells(event)
        try:
            self.get_row_index(event.id)
        except RowDoesNotExist:
            self.add_row(*cells, key=event.id)
        else:
            for (key, _label, _width), cell in zip(COLUMNS, cells, strict=True):
                self.update_cell(event.id, key, cell)
        self.border_title = f"Heal queue {len(self.items)}"

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        item = self.items.get(str(event.row_key.value))
        if item is not None:
            self.post_message(self.Opened(item.id, item.path, item.state))
