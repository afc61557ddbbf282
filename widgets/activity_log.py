"""The activity log: one line per thing the engine did, newest at the bottom.

Lines carry no timestamps on purpose: the order says enough, and the screen stays
deterministic for snapshot tests. Long lines wrap rather than hide their end, which
is usually the interesting part ("... needs review: the same error twice").
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import RichLog

PREFIX = {"info": "", "warning": "⚠ ", "error": "✗ "}
STYLE = {"info": "", "warning": "bold", "error": "bold reverse"}


class ActivityLog(RichLog):
    """Engine log lines (``EngineLog`` events) and the app's own notes."""

    def __init__(self, *, id: str | None = None, max_lines: int = 2000) -> None:
        super().__init__(id=id, max_lines=max_lines, wrap=True, markup=False,
                         highlight=False, min_width=20)

    def on_mount(self) -> None:
        self.border_title = "Activity"

    def add(self, text: str, level: str = "info") -> None:
        line = Text(PREFIX.get(level, ""), style=STYLE.get(level, ""))
        line.append(text)
        self.write(line, scroll_end=False)
        # RichLog's own auto-scroll runs before the layout that shows the scrollbar, and
        # is skipped then; it left the newest lines below the fold at 80x24.
        self.call_after_refresh(self._follow)

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        self.call_after_refresh(self._follow)  # the sessions panel grew: keep the end in view

    def _follow(self) -> None:
        self.scroll_end(animate=False, immediate=True, force=True)
