"""Everything known about one file: radon metrics, their trend, its functions, failures
and heals.

Metrics come from the last scan, the trend from the recorded scans (``widgets/trend.py``)
and the history from the heal items, newest first, with each attempt's model and
outcome (all as the read model holds them), so a person can judge a file before undoing
or re-healing it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Static

from dreamscape_tui.core.healtypes import HealItem
from dreamscape_tui.core.metrics import FileMetrics
from dreamscape_tui.core.trends import FileTrend
from widgets.heal_style import state_style
from widgets.trend import TrendView


class FileDetail(VerticalScroll, can_focus=False):
    """Metrics summary, functions by complexity, and the heal history of one file."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-metrics")
        yield TrendView(id="detail-trend")
        yield DataTable(id="detail-functions", cursor_type="row")
        yield Static(id="detail-history", classes="review-section")

    def show(self, path: str, metrics: FileMetrics | None, skipped: str,
             history: list[HealItem], trend: FileTrend | None = None) -> None:
        """Fill in ``path``; ``history`` is its heal items, newest first; ``trend`` its
        values over the recorded scans (None: no history yet)."""
        self.border_title = path
        self.query_one("#detail-metrics", Static).update(self._metrics(metrics, skipped))
        self.query_one(TrendView).show(trend)
        table: DataTable[str] = self.query_one("#detail-functions", DataTable)
        table.clear(columns=True)
        table.display = bool(metrics and metrics.functions)
        if metrics and metrics.functions:
            table.add_column("Function", key="name")
            table.add_column("Line", key="line")
            table.add_column("cc", key="cc")
            table.add_column("Rank", key="rank")
            for f in sorted(metrics.functions, key=lambda f: (-f.cc, f.lineno)):
                table.add_row(f.name, str(f.lineno), str(f.cc), f.rank)
        self.query_one("#detail-history", Static).update(self._history(history))

    @staticmethod
    def _metrics(m: FileMetrics | None, skipped: str) -> Content:
        if m is None:
            reason = skipped or "not scanned yet"
            return Content.assemble(("Not analysed: ", "$error bold"), reason)
        return Content.assemble(
            ("Complexity ", "bold"), f"cc max {m.cc_max} (rank {m.cc_rank}), avg {m.cc_avg:.2f}",
            ("   Maintainability ", "bold"), f"MI {m.mi:.2f} (rank {m.mi_rank})\n",
            ("Lines ", "bold"), f"loc {m.loc} · lloc {m.lloc} · sloc {m.sloc} · comments "
            f"{m.comments} · multi {m.multi} · blank {m.blank}\n",
            ("Halstead volume ", "bold"), f"{m.halstead_volume:.1f}   ",
            ("Functions ", "bold"), str(len(m.functions)),
        )

    @staticmethod
    def _history(history: list[HealItem]) -> Content:
        lines = [Content.styled("Failures and heals", "bold underline")]
        if not history:
            lines.append(Content.styled("none: this file has never failed here", "dim"))
        for item in history:
            lines.append(Content.assemble(
                (f"{item.label:<5}", "bold"), (f"{item.state:<10}", state_style(item.state)),
                f" {item.kind}: ", (item.failure.message[:200], "$error")))
            if item.backup:
                lines.append(Content.styled(f"      backup {item.backup}", "dim"))
            for a in item.log:
                lines.append(Content.assemble(f"      {a.number}. {a.model or '-'} ",
                                              (a.outcome, "dim"), f" {a.reason}"))
        return Content("\n").join(lines)
