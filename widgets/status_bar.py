"""The bottom line: scan progress, what the engine is doing, and reviews waiting.

The count of reviews waiting is the one thing a person must never miss, so it is
always on screen, whatever the width; the progress bar shows only while a scan runs.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Label, ProgressBar

from dreamscape_tui.core.healtypes import HealState

PROGRESS_INTERVAL_S = 0.1  # a ProgressBar update costs ~0.5 ms: not once per file


class StatusBar(Horizontal):
    """Progress bar (while scanning), phase text and the reviews-waiting badge."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._progress = (0, 1)
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield ProgressBar(id="scan-progress", total=1, show_eta=False)
        yield Label("Starting…", id="phase")
        watching = Label("", id="watching")
        watching.display = False  # shown only while the engine waits for saved files
        watching.styles.margin = (0, 1, 0, 0)
        yield watching
        yield Label("", id="reviews")

    def on_mount(self) -> None:
        self.set_reviews(0)

    def scan_started(self, total: int) -> None:
        self.add_class("-scanning")
        self.query_one(ProgressBar).update(total=max(total, 1), progress=0)
        self.set_phase(f"Scanning {total} files")

    def scan_progress(self, done: int, total: int) -> None:
        """Record progress; the bar is redrawn at most every PROGRESS_INTERVAL_S."""
        self._progress = (done, total)
        if done >= total:
            self._show_progress()
        elif self._timer is None:
            self._timer = self.set_timer(PROGRESS_INTERVAL_S, self._show_progress)

    def _show_progress(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        done, total = self._progress
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)
        self.set_phase(f"Scanning {done}/{total}")

    def scan_finished(self) -> None:
        if self._timer is not None:
            self._show_progress()
        self.remove_class("-scanning")

    def show_engine(self, phase: str, scanned: bool, paused: bool, states: list[HealState],
                    check_errors: tuple[str, ...] = (), read_only: str | None = None) -> None:
        """Word what the engine is doing; ``states`` are those of this session's heals.

        ``check_errors``: checks that could not run. Then "no failing files" would be a
        lie, so the line says which checks did not run instead. ``read_only``: why this
        session only looks (another process holds the project); said instead of a
        verdict on checks that never ran.
        """
        healed = sum(s.fixed for s in states)
        waiting = states.count(HealState.ESCALATED)
        text = {
            "starting": "Starting…", "checking": "Checking for failures…",
            "stopping": "Shutting down: cancelling workers, stopping browsers…",
        }.get(phase, "")
        if read_only is not None and phase in ("starting", "idle"):
            text = f"read-only: {read_only}"
        elif phase == "healing":
            active = sum(s.active for s in states)
            text = f"Healing: {active} in progress, {healed} healed"
        elif phase == "idle" and not scanned:
            text = "Idle: r scans the project"
        elif phase == "idle" and check_errors:
            text = (f"Done: {healed} healed · " if states else "Done · ") + \
                f"checks could not run: {check_errors[0]}"
        elif phase == "idle":
            text = f"Done: {healed} healed" if states else "Done: no failing files"
        if paused and phase != "stopping":
            text += " · healing paused (p resumes)"
        if phase != "scanning":  # while scanning, the progress owns the phase text
            self.set_phase(text)
        self.set_reviews(waiting)

    def set_watching(self, text: str) -> None:
        """Continuous healing waits for saved files: say so ("" hides it)."""
        label = self.query_one("#watching", Label)
        label.update(text)
        label.display = bool(text)

    def set_phase(self, text: str) -> None:
        self.query_one("#phase", Label).update(text)

    def set_reviews(self, count: int) -> None:
        badge = self.query_one("#reviews", Label)
        badge.set_class(count > 0, "-waiting")
        if count == 0:
            badge.update("No reviews waiting")
        else:
            badge.update(f"{count} review{'s' if count != 1 else ''} waiting · v")
