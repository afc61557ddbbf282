"""The radon-ranked file tree: folders and files with rank, cc, MI, churn and a heal marker.

A Line API widget (``ScrollView``) rather than Textual's ``Tree``: a project can have
tens of thousands of files, and the tree is re-sorted and re-filtered while a scan
streams in. Here the model (``file_tree_model``) turns the files into a flat list of
rows, and only the rows in view are rendered, so a key press costs the same with ten
files or ten thousand. The first line is a sticky column header.

The churn column ("Chg": commits in the ``[scanner] churn_days`` window, a folder shows
its busiest file's) and the hotspot order appear only where some file has churn (a git
work tree); the column is dropped when it would leave the names less than
``NAME_MIN`` cells.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from dreamscape_tui.core.events import FileResult, SkippedFile
from widgets.file_tree_model import (
    SORT_LABELS,
    SORTS,
    Entry,
    FileTreeModel,
    FolderEntry,
    Row,
)

MARKS = {"failing": "✗", "healing": "↻", "healed": "✓", "review": "!", "": " "}
RIGHT_HEADER = "Rank  cc    MI   "
CHURN_HEADER = "Rank  cc    MI  Chg   "  # the same with the churn column
NAME_MIN = 16  # cells the indent and name keep before the churn column is dropped
REBUILD_DELAY_S = 0.1  # while results stream in, re-rank at most this often


def risk_band(score: float) -> str:
    """low / medium / high: the colour a file's name is drawn in."""
    return "high" if score >= 0.5 else "medium" if score >= 0.3 else "low"


def rank_band(rank: str) -> str:
    return {"A": "good", "B": "good", "C": "fair", "D": "fair"}.get(rank, "poor")


def compact_count(n: int) -> str:
    """A commit count in at most four cells: 7, 1234, 12k; "-" for none."""
    return "-" if n <= 0 else str(n) if n < 10_000 else f"{min(n // 1000, 999)}k"


class FileTree(ScrollView, can_focus=True):
    """Scanned files by folder, riskiest first; markers show failing/healing/healed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", tooltip="Open the file's detail or fold a folder"),
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("left", "collapse", "Collapse / parent", show=False),
        Binding("right", "expand", "Expand", show=False),
        Binding("space", "fold", "Fold", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "file-tree--header", "file-tree--cursor", "file-tree--folder", "file-tree--metric",
        "file-tree--skipped", "file-tree--risk-low", "file-tree--risk-medium",
        "file-tree--risk-high", "file-tree--rank-good", "file-tree--rank-fair",
        "file-tree--rank-poor", "file-tree--failing", "file-tree--healing",
        "file-tree--healed", "file-tree--review",
    }

    class Selected(Message):
        """Enter on a file: open its detail."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.model = FileTreeModel()
        self.rows: list[Row] = []
        self.cursor = 0
        self.sort = "score"
        self.filter_text = ""
        self._timer: Timer | None = None
        self._moved = False  # the user moved the cursor: keep it on its entry
        self._churn = False  # some file has churn (as of the last rebuild)

    # -- feeding ---------------------------------------------------------------------------
    def clear(self) -> None:
        self.model.clear()
        self.cursor, self._moved = 0, False
        self.rebuild()

    def add(self, result: FileResult | SkippedFile) -> None:
        """Add one streamed result; the rows are re-ranked shortly (coalesced)."""
        self.model.add(result)
        self._schedule()

    def set_status(self, path: str, status: str) -> None:
        """Set a file's marker (failing, healing, healed, review or "")."""
        if self.model.set_status(path, status) is not None:
            self._schedule()

    @property
    def file_count(self) -> int:
        return len(self.model.files)

    @property
    def cursor_entry(self) -> Entry | None:
        return self.rows[self.cursor][1] if 0 <= self.cursor < len(self.rows) else None

    def set_sort(self, sort: str) -> None:
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}; expected one of {', '.join(SORTS)}")
        self.sort = sort
        self.rebuild()

    def cycle_sort(self) -> str:
        """Switch to the next order (score, hotspot, cc, MI, name) and return it; the
        hotspot order only where some file has churn."""
        orders = SORTS if self.model.has_churn else tuple(s for s in SORTS if s != "hotspot")
        index = orders.index(self.sort) if self.sort in orders else -1
        self.set_sort(orders[(index + 1) % len(orders)])
        return self.sort

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.rebuild()

    # -- rows ------------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._timer is None:
            self._timer = self.set_timer(REBUILD_DELAY_S, self.rebuild)

    def rebuild(self) -> None:
        """Recompute the visible rows now, keeping the cursor on its entry."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        current = self.cursor_entry
        self.rows = self.model.rows(self.sort, self.filter_text)
        self._churn = self.model.has_churn
        if self._moved and current is not None:
            self.cursor = self._index_of(current)
        self.cursor = max(0, min(self.cursor, len(self.rows) - 1))
        width = self.scrollable_content_region.width
        self.virtual_size = Size(width, len(self.rows) + 1)
        self._update_title()
        self._scroll_to_cursor()
        self.refresh()

    def _index_of(self, entry: Entry) -> int:
        kind = type(entry)
        for index, (_depth, row) in enumerate(self.rows):
            if row.path == entry.path and type(row) is kind:
                return index
        return self.cursor

    def _update_title(self) -> None:
        title = f"Files {self.model.root.count or len(self.model.files)}"
        title += f" · by {SORT_LABELS[self.sort]}"
        if self.filter_text:
            title += f" · filter “{self.filter_text}”"
        self.border_title = title

    # -- cursor ----------------------------------------------------------------------------
    def _move_to(self, index: int) -> None:
        if not self.rows:
            return
        index = max(0, min(index, len(self.rows) - 1))
        if index == self.cursor:
            return
        old, self.cursor, self._moved = self.cursor, index, True
        if not self._scroll_to_cursor():
            self._refresh_row(old)
            self._refresh_row(index)

    def _visible_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> bool:
        """Scroll so the cursor row is in view; True when it scrolled."""
        top, height = round(self.scroll_offset.y), self._visible_rows()
        target = top
        if self.cursor < top:
            target = self.cursor
        elif self.cursor >= top + height:
            target = self.cursor - height + 1
        if target == top:
            return False
        self.scroll_to(y=target, animate=False, immediate=True)
        self.refresh()
        return True

    def _refresh_row(self, index: int) -> None:
        y = index - round(self.scroll_offset.y) + 1
        self.refresh(Region(0, y, self.size.width, 1))

    def action_cursor(self, delta: int) -> None:
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * self._visible_rows())

    def action_jump(self, index: int) -> None:
        self._move_to(index if index >= 0 else len(self.rows) - 1)

    def action_select(self) -> None:
        entry = self.cursor_entry
        if isinstance(entry, FolderEntry):
            self.action_fold()
        elif entry is not None:
            self.post_message(self.Selected(entry.path))

    def action_fold(self) -> None:
        """Fold or unfold the folder under the cursor, splicing only its rows."""
        entry = self.cursor_entry
        if not isinstance(entry, FolderEntry) or self.filter_text:
            return
        entry.expanded = not entry.expanded
        self._moved = True
        if self._timer is not None or self.model.stale:
            self.rebuild()  # other changes are pending: take them in too
            return
        index, (depth, _entry) = self.cursor, self.rows[self.cursor]
        if entry.expanded:
            self.rows[index + 1:index + 1] = self.model.subtree(entry, depth + 1, self.sort)
        else:
            end = index + 1
            while end < len(self.rows) and self.rows[end][0] > depth:
                end += 1
            del self.rows[index + 1:end]
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows) + 1)
        self.refresh()

    def action_expand(self) -> None:
        entry = self.cursor_entry
        if isinstance(entry, FolderEntry):
            if entry.expanded or self.filter_text:
                self._move_to(self.cursor + 1)
            else:
                self.action_fold()

    def action_collapse(self) -> None:
        entry = self.cursor_entry
        if isinstance(entry, FolderEntry) and entry.expanded and not self.filter_text:
            self.action_fold()
            return
        depth = self.rows[self.cursor][0] if self.rows else 0
        for index in range(self.cursor - 1, -1, -1):  # up to the parent folder
            if self.rows[index][0] < depth:
                self._move_to(index)
                return

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)  # None on the border or scrollbar
        if offset is None or offset.y == 0:  # line 0 is the column header
            return
        index = round(self.scroll_offset.y) + offset.y - 1
        if not 0 <= index < len(self.rows):
            return
        if index == self.cursor or event.chain > 1:
            self.cursor = index
            self.action_select()
        else:
            self._move_to(index)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows) + 1)
        self._scroll_to_cursor()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- rendering -------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"file-tree--{name}", partial=True)

    def _right_header(self, width: int) -> str:
        """The metric columns' header: with the churn column when there is churn and
        room for it."""
        if self._churn and width - len(CHURN_HEADER) >= NAME_MIN:
            return CHURN_HEADER
        return RIGHT_HEADER

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._header(width, base)
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, base)
        depth, entry = self.rows[index]
        strip = self._row(depth, entry, width)
        if index == self.cursor and self.has_focus:
            strip = Strip(Segment.apply_style(strip, post_style=self._style("cursor")))
        elif index == self.cursor:
            strip = strip.apply_style(self._style("cursor"))
        return strip.apply_style(base)

    def _header(self, width: int, base: Style) -> Strip:
        style = self._style("header")
        if not self.rows:
            text = " Waiting for the scan…" if not self.model.files else " No file matches"
            return Strip([Segment(text.ljust(width)[:width], style)]).apply_style(base)
        right = self._right_header(width)
        left = " Name".ljust(max(0, width - len(right)))
        return Strip([Segment((left + right)[:width], style)]).apply_style(base)

    def _row(self, depth: int, entry: Entry, width: int) -> Strip:
        metric = self._style("metric")
        rank = entry.rank if entry.rank else "-"
        cc = "-" if entry.cc is None else str(entry.cc)
        mi = "-" if entry.mi is None else f"{entry.mi:.1f}"
        if isinstance(entry, FolderEntry):
            icon = "▾ " if entry.expanded or self.filter_text else "▸ "
            name, name_style = f"{icon}{entry.name}/", self._style("folder")
        else:
            name = f"  {entry.name}"
            band = "skipped" if entry.skipped else f"risk-{risk_band(entry.score)}"
            name_style = self._style(band)
        indent = " " + "  " * depth
        right = self._right_header(width)
        room = max(1, width - len(indent) - len(right))
        if len(name) > room:
            name = name[:max(0, room - 1)] + "…"
        mark = MARKS.get(entry.status, " ")
        segments = [
            Segment(indent),
            Segment(name.ljust(room), name_style),
            Segment(f"{rank:>4}", self._style(f"rank-{rank_band(rank)}")
                    if rank != "-" else metric),
            Segment(f"{cc:>4}{mi:>6} ", metric),
            *([Segment(f"{compact_count(entry.commits):>4} ", metric)]
              if right is CHURN_HEADER else []),
            Segment(mark, self._style(entry.status) if entry.status else metric),
            Segment(" "),
        ]
        return Strip(segments).crop(0, width)
