"""Review panels: the escalated heals, one at a time, with every decision on a key.

Only escalations come here: what healed on its own is in the activity log and the
queue. Decisions run in thread workers (accept re-validates the candidate, which runs
the tests); while one is in flight its keys are disabled, and when it lands the screen
moves on to the next escalation, or closes when none are left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header

from dreamscape_tui.core.edits import unified_diff
from widgets.review_panel import ReviewPanel

if TYPE_CHECKING:
    from dreamscape_tui.app import DreamscapeApp

DECISIONS = ("accept", "reject", "retry", "edit")


class ReviewScreen(Screen[None]):
    """Walk the escalations: accept, reject, retry with a hint, edit, next, previous."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept", "Accept", tooltip="Re-validate, then apply with a backup"),
        Binding("x", "reject", "Reject", tooltip="Leave the file as it is; remember it"),
        Binding("h", "retry", "Retry", tooltip="Retry with a hint you type for the next prompt"),
        Binding("e", "edit", "Edit", tooltip="Open the file in $EDITOR"),
        Binding("n", "step(1)", "Next"),
        Binding("b", "step(-1)", "Prev"),
        Binding("escape", "close", "Back"),
    ]

    def __init__(self, heal_id: str | None = None) -> None:
        super().__init__(id="review")
        self.current = heal_id
        self.busy: str | None = None  # the heal id whose decision is in flight
        self.can_accept = False
        self._shown: tuple[str, int, int] | None = None  # what the panel shows now

    @property
    def dreamscape(self) -> DreamscapeApp:
        return cast("DreamscapeApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ReviewPanel(id="review-panel")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.reload()
        self.query_one(ReviewPanel).focus()

    def reload(self) -> None:
        """Show the current escalation (or the next one still waiting)."""
        waiting = self.dreamscape.escalations()
        if self.busy is not None:
            return
        if not waiting:
            if self.app.screen is self:
                self.app.pop_screen()
                self.notify("No more reviews waiting")
            return
        if self.current not in waiting:
            later = [h for h in waiting if self.current and int(h[1:]) > int(self.current[1:])]
            self.current = later[0] if later else waiting[0]
        self._show(waiting)

    def _show(self, waiting: list[str], force: bool = False) -> None:
        """Lay out the current escalation, unless it is already on screen.

        Heal events for other files arrive all the time while a person reads; redrawing
        for them would reset the scroll position under their eyes.
        """
        assert self.current is not None
        shown = (self.current, waiting.index(self.current), len(waiting))
        if shown == self._shown and not force:
            return
        self._shown = shown
        heals = self.dreamscape.engine.heals
        item = heals.get(self.current)
        if item is None:
            return
        diff = ""
        # Accept applies only a candidate that passed validation (the engine re-checks).
        self.can_accept = bool(item.get("best")) and item.get("best_failing") in (0, None)
        if item.get("best"):
            try:
                now = (self.dreamscape.root / item["path"]).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                now = ""
            diff = unified_diff(now, item["best"], item["path"])
        self.query_one(ReviewPanel).show(item, heals.attempts(self.current), diff,
                                         waiting.index(self.current) + 1, len(waiting))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DECISIONS and (self.busy is not None or self.current is None):
            return None  # shown disabled while a decision is in flight
        if action == "accept" and not self.can_accept:
            return None  # nothing that passes: reject, retry or edit
        return True

    def decided(self, heal_id: str | None) -> None:
        """A decision finished (successfully or not): show what is waiting now."""
        if heal_id == self.busy:
            self.busy = None
            panel = self.query_one(ReviewPanel)
            panel.remove_class("-busy")
            panel.border_subtitle = ""
        self.reload()

    def _decide(self, kind: str, hint: str = "") -> None:
        if self.current is None or self.busy is not None:
            return
        if kind == "accept" and not self.can_accept:
            self.notify("No candidate that passes the tests: reject, retry with a hint, "
                        "or edit the file", severity="warning")
            return
        self.busy = self.current
        self.query_one(ReviewPanel).add_class("-busy")
        self.refresh_bindings()
        verb = {"accept": "Validating and applying", "reject": "Rejecting",
                "retry": "Queueing"}[kind]
        self.query_one(ReviewPanel).border_subtitle = f"{verb}…"
        self.dreamscape.decide(kind, self.current, hint)

    def action_accept(self) -> None:
        self._decide("accept")

    def action_reject(self) -> None:
        self._decide("reject")

    def action_retry(self) -> None:
        from dreamscape_tui.screens.hint import HintScreen

        current = self.current
        if current is None or self.busy is not None:
            return
        item = self.dreamscape.heal_items.get(current)

        def with_hint(hint: str | None) -> None:
            if hint and self.current == current:
                self._decide("retry", hint)

        self.app.push_screen(HintScreen(item.path if item else current), with_hint)

    def action_edit(self) -> None:
        item = self.dreamscape.heal_items.get(self.current or "")
        if item is not None:
            self.dreamscape.edit_file(item.path)
            waiting = self.dreamscape.escalations()
            if self.current in waiting:
                self._show(waiting, force=True)  # the file changed: so did the diff

    def action_step(self, delta: int) -> None:
        waiting = self.dreamscape.escalations()
        if not waiting or self.busy is not None:
            return
        index = waiting.index(self.current) if self.current in waiting else -delta
        self.current = waiting[(index + delta) % len(waiting)]
        self._show(waiting)

    def action_close(self) -> None:
        self.app.pop_screen()
