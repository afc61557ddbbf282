"""The live heal queue: every heal item with its file, failure kind, state, attempt, model.

Rows are keyed by heal id and updated in place as ``HealChanged`` events bring new
versions of their items, so the cursor stays put while workers move items along.
Enter on a row asks to open it (a review panel for an escalation, the file's detail
otherwise). The border's subtitle shows what the running heal has spent against its
budget (attempts, seconds, tokens, cost), from its ``HealSpend`` events.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from dreamscape_tui.core.budget import describe
from dreamscape_tui.core.events import HealSpend
from dreamscape_tui.core.healtypes import HealId, HealItem, HealState
from widgets.heal_style import state_style

COLUMNS = (("file", "File", 28), ("kind", "Kind", 7), ("state", "State", 10),
           ("attempt", "Try", 3), ("model", "Model", 14))


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

        def __init__(self, heal_id: HealId, path: str, state: HealState) -> None:
            super().__init__()
            self.heal_id, self.path, self.state = heal_id, path, state

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.items: dict[HealId, HealItem] = {}

    def on_mount(self) -> None:
        self.border_title = "Heal queue"
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    @staticmethod
    def _cells(item: HealItem) -> list[Content]:
        return [
            Content(short_path(item.path, COLUMNS[0][2])),
            Content(item.kind),
            Content.styled(item.state, state_style(item.state)),
            Content(str(item.attempts) if item.attempts else "-"),
            Content(item.model or "-"),
        ]

    def update_item(self, item: HealItem) -> None:
        """Add the item or update its row in place (rows are keyed by its label)."""
        self.items[item.id] = item
        cells = self._cells(item)
        try:
            self.get_row_index(item.label)
        except RowDoesNotExist:
            self.add_row(*cells, key=item.label)
        else:
            for (key, _label, _width), cell in zip(COLUMNS, cells, strict=True):
                self.update_cell(item.label, key, cell)
        self.border_title = f"Heal queue {len(self.items)}"

    def show_spend(self, spend: HealSpend) -> None:
        """The run's spend against its budget, in the border's subtitle."""
        self.border_subtitle = describe(spend.spent.run, spend.limits, spend.over,
                                        spend.exhausted)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        item = next((i for i in self.items.values() if i.label == event.row_key.value), None)
        if item is not None:
            self.post_message(self.Opened(item.id, item.path, item.state))
