"""Live health of the browser session pool: state, driver, latency sparkline, prompts.

The pool reports every change as a ``SessionState`` event; this panel keeps the last
few latencies of each session so a slowing chat site shows as a rising sparkline
before it shows as failed heals.
"""

from __future__ import annotations

from collections import deque

from textual.content import Content
from textual.widget import Widget

from dreamscape_tui.core.events import SessionState

BARS = "▁▂▃▄▅▆▇█"
HISTORY = 8
MEDIUM, WIDE = 41, 48  # panel widths from which the longer line formats fit
STATE_STYLES = {
    "healthy": "$success", "busy": "$accent", "starting": "$warning", "recycling": "$warning",
    "logged_out": "$error", "unreachable": "$error", "error": "$error", "stopped": "dim",
}


def sparkline(values: list[float], width: int = HISTORY) -> str:
    """The last ``width`` values as block characters, scaled between their min and max.

    Min-max scaling (not zero-max) so that a session drifting from 400 to 900 ms shows
    a clear rise; equal values draw a flat middle line.
    """
    values = values[-width:]
    low, high = (min(values), max(values)) if values else (0.0, 0.0)
    if high - low < 1e-9:
        return (BARS[3] * len(values)).ljust(width)
    top = len(BARS) - 1
    return "".join(BARS[round((v - low) / (high - low) * top)] for v in values).ljust(width)


def latency_text(latency_ms: float | None) -> str:
    if latency_ms is None:
        return "-"
    return f"{latency_ms:.0f}ms" if latency_ms < 1000 else f"{latency_ms / 1000:.1f}s"


class SessionPanel(Widget):
    """One line per browser session (plus its last error), updated from pool events.

    The line adapts to the panel's width: at 80 columns the driver is abbreviated and
    the sparkline shortened rather than wrapping each session over two lines.
    """

    def __init__(self, *, uses_browser: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.uses_browser = uses_browser
        self.sessions: dict[str, SessionState] = {}
        self.latencies: dict[str, deque[float]] = {}

    def on_mount(self) -> None:
        self.border_title = "Sessions"

    def update_session(self, event: SessionState) -> None:
        history = self.latencies.setdefault(event.id, deque(maxlen=HISTORY))
        previous = self.sessions.get(event.id)
        if event.latency_ms is not None and (
                previous is None or previous.latency_ms != event.latency_ms
                or previous.prompts != event.prompts):
            history.append(event.latency_ms)
        self.sessions[event.id] = event
        self.refresh(layout=True)

    def render(self) -> Content:
        if not self.sessions:
            return Content.styled(
                "Browsers start when a chat page is first needed." if self.uses_browser
                else "No browser sessions: the models are HTTP APIs.", "dim")
        width = self.size.width or 40
        medium, wide = width >= MEDIUM, width >= WIDE
        lines: list[Content] = []
        for sid in sorted(self.sessions, key=lambda s: (len(s), s)):
            s = self.sessions[sid]
            spark = sparkline(list(self.latencies.get(sid, ())), HISTORY if medium else 4)
            state = f"{s.state:<11}" if medium else f"{s.state[:9]:<10}"
            line = Content.assemble(
                (f"{sid:<3}", "bold"), (state, STATE_STYLES.get(s.state, "")),
                f"{s.driver:<7}" if medium else f"{s.driver[:3]:<4}", (spark, "$accent"),
                f"{latency_text(s.latency_ms):>7}",
                (f" {s.prompts:>3} prompts" if wide else f" {s.prompts:>2}p", "dim"))
            lines.append(line.truncate(width, ellipsis=True))
            if s.last_error:
                error = Content.styled(f"   {s.last_error}", "$error")
                lines.append(error.truncate(width, ellipsis=True))
        return Content("\n").join(lines)
