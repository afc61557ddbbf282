"""One file's trend: sparklines of cc_max and MI over the recorded scans, and the
change since the previous scan (``core/trends.py`` records them; the read model holds
the history the engine sent after its scan, so nothing here reads a file).

One cell per recorded scan, oldest on the left, scaled between the series' own
minimum and maximum (a steady series is a flat middle line); as many of the latest
scans as the width allows. The numbers beside each line are the latest value and its
change since the previous scan, red when it got worse (cc_max up, MI down) and green
when it got better.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widget import Widget

from dreamscape_tui.core.trends import FileTrend, TrendPoint

BARS = "▁▂▃▄▅▆▇█"
LABEL_WIDTH = 8  # "cc max  "
VALUE_WIDTH = 16  # " 100.00 -40.00" after the sparkline: latest, change
MINUS = "\N{MINUS SIGN}"


def sparkline(values: Sequence[float]) -> str:
    """One block per value, ▁ the series' minimum and █ its maximum."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return BARS[3] * len(values)
    scale = (len(BARS) - 1) / (high - low)
    return "".join(BARS[round((v - low) * scale)] for v in values)


def signed(value: float, digits: int = 0) -> str:
    """``+3``, ``-4.20`` (shown with a real minus sign), ``0``."""
    text = f"{abs(value):.{digits}f}"
    if float(text) == 0:
        return "0" if digits == 0 else f"{0:.{digits}f}"
    return ("+" if value > 0 else MINUS) + text


def _change_style(change: float, higher_is_worse: bool | None) -> str:
    """Red for worse, green for better, plain for neither (None: size), dim for none."""
    if change == 0:
        return "dim"
    if higher_is_worse is None:
        return ""
    return "$error" if (change > 0) == higher_is_worse else "$success"


class TrendView(Widget, can_focus=False):
    """cc_max and MI sparklines of one file and its delta since the previous scan."""

    DEFAULT_CSS = """
    TrendView {
        height: auto;
        margin-bottom: 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.trend: FileTrend | None = None

    def show(self, trend: FileTrend | None) -> None:
        self.trend = trend
        self.refresh(layout=True)

    def render(self) -> Content:
        trend = self.trend
        title = Content.styled("Trend", "bold underline")
        if trend is None or not trend.points:
            return Content.assemble(title, ("  no scan of this file recorded yet", "dim"))
        points = trend.points
        if len(points) == 1:
            return Content.assemble(title, (f"  one scan recorded (#{points[0].scan}): the "
                                            "sparklines start with the next change", "dim"))
        room = max(self.size.width - LABEL_WIDTH - VALUE_WIDTH, 4)
        shown = points[-room:]
        span = (f"  the last {len(shown)} scans with this file "
                f"(#{shown[0].scan} to #{shown[-1].scan})")
        previous = points[-2] if points[-2].scan == points[-1].scan - 1 else None
        lines = [
            Content.assemble(title, (span, "dim")),
            self._line("cc max", [p.cc_max for p in shown], f"{points[-1].cc_max}",
                       None if previous is None else points[-1].cc_max - previous.cc_max,
                       0, higher_is_worse=True),
            self._line("MI", [p.mi for p in shown], f"{points[-1].mi:.2f}",
                       None if previous is None else points[-1].mi - previous.mi,
                       2, higher_is_worse=False),
            self._delta_line(trend, previous),
        ]
        return Content("\n").join(lines)

    @staticmethod
    def _line(label: str, values: list[float], latest: str, change: float | None,
              digits: int, *, higher_is_worse: bool) -> Content:
        parts: list[Content | tuple[str, str] | str] = [
            (f"{label:<{LABEL_WIDTH}}", "bold"), (sparkline(values), "$accent"),
            f" {latest:>6}"]
        if change is not None:
            parts.append((f" {signed(change, digits):>6}",
                          _change_style(change, higher_is_worse)))
        return Content.assemble(*parts)

    @staticmethod
    def _delta_line(trend: FileTrend, previous: TrendPoint | None) -> Content:
        latest = trend.points[-1]
        if previous is None:
            return Content.styled(f"New since the previous scan (#{latest.scan - 1})", "dim")
        if previous.values != latest.values:
            return Content.assemble(("Δ since the previous scan: ", "bold"),
                                    *_changes(previous, latest))
        change = trend.last_change()
        if change is None:
            return Content.styled("No change in the scans recorded", "dim")
        older, newer = change
        return Content.assemble(("No change since the previous scan", "dim"),
                                (f"; last changed in #{newer.scan}: ", "dim"),
                                *_changes(older, newer))


def _changes(before: TrendPoint, after: TrendPoint) -> list[Content | tuple[str, str] | str]:
    """``cc max +3 · MI -4.20 · sloc +12 · score +0.0310``, each coloured by direction."""
    items: list[tuple[str, float, int, bool | None]] = [
        ("cc max", after.cc_max - before.cc_max, 0, True),
        ("MI", after.mi - before.mi, 2, False),
        ("sloc", after.sloc - before.sloc, 0, None),
        ("score", after.score - before.score, 4, True)]
    parts: list[Content | tuple[str, str] | str] = []
    for label, change, digits, higher_is_worse in items:
        if parts:
            parts.append((" · ", "dim"))
        parts.append(f"{label} ")
        parts.append((signed(change, digits), _change_style(
            round(change, digits), higher_is_worse)))
    return parts
