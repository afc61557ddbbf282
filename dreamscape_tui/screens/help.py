"""The help screen: every key, per screen, read from the bindings themselves.

Built from the ``BINDINGS`` of the app, its screens and widgets, so it cannot drift
from what the keys actually do. The app hands over its own bindings when it opens the
screen: this module never imports the app (the app imports it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from dreamscape_tui.screens.dashboard import DashboardScreen
from dreamscape_tui.screens.detail import DetailScreen
from dreamscape_tui.screens.review import ReviewScreen
from widgets.file_tree import FileTree
from widgets.heal_queue import HealQueue

INTRO = ("Dreamscape scans, checks and heals the project in the background. "
         "Only fixes that exceed the thresholds wait for you, as reviews.")


def _bindings(entries: Iterable[BindingType]) -> list[Binding]:
    found = []
    for entry in entries:
        if isinstance(entry, Binding):
            found.append(entry)
        elif isinstance(entry, tuple):
            found.append(Binding(*entry))
    return found


def _key_label(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    names = {"question_mark": "?", "slash": "/", "escape": "esc", "pageup": "pgup",
             "pagedown": "pgdn"}
    return ",".join(names.get(k, k) for k in binding.key.split(","))


def sections(everywhere: Iterable[BindingType]) -> list[tuple[str, list[Binding]]]:
    """(title, bindings) for each place keys work, in the order a person meets them;
    ``everywhere``: the app's own bindings."""
    return [
        ("Everywhere", [*_bindings(everywhere),
                        Binding("ctrl+p", "command_palette", "Commands: rescan, pause, "
                                "reviews, undo, theme…"),
                        Binding("tab", "focus_next", "Next panel")]),
        ("Dashboard", _bindings(DashboardScreen.BINDINGS)),
        ("File tree", _bindings(FileTree.BINDINGS)),
        ("Heal queue", _bindings(HealQueue.BINDINGS)),
        ("Review panel (escalations)", _bindings(ReviewScreen.BINDINGS)),
        ("File detail", _bindings(DetailScreen.BINDINGS)),
    ]


class HelpScreen(ModalScreen[None]):
    """Every binding, grouped by where it works; ``everywhere``: the app's bindings."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,f1", "close", "Close", key_display="esc"),
    ]

    def __init__(self, everywhere: Iterable[BindingType]) -> None:
        super().__init__()
        self.everywhere = list(everywhere)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(self._content(), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Help"
        self.query_one("#help-box").border_subtitle = "esc closes"

    def _content(self) -> Content:
        lines = [Content.styled(INTRO, "dim")]
        for title, bindings in sections(self.everywhere):
            lines.append(Content(""))
            lines.append(Content.styled(title, "bold $accent"))
            for binding in bindings:
                tooltip = (": " + binding.tooltip[0].lower() + binding.tooltip[1:]
                           if binding.tooltip else "")
                lines.append(Content.assemble((f"  {_key_label(binding):<9}", "bold"),
                                              binding.description, (tooltip, "dim")))
        return Content("\n").join(lines)

    def action_close(self) -> None:
        self.dismiss()
