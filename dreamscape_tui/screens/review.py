"""Review panels: the escalated heals, one at a time, with every decision on a key.

Only escalations come here: what healed on its own is in the activity log and the
queue. The screen is drawn from the read model it is given and posts each decision as
a ``Decision`` message; the app runs it in a thread worker (accept re-validates the
candidate, which runs the tests). While one is in flight its keys are disabled; when
the app's ``HealsChanged`` says it landed, the screen moves on to the next escalation,
or closes when none are left.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header

from dreamscape_tui.core.edits import unified_diff
from dreamscape_tui.core.healtypes import HealId, HealItem
from dreamscape_tui.messages import Decision, DecisionKind, HealsChanged
from dreamscape_tui.readmodel import ReadModel
from dreamscape_tui.screens.editor import open_in_editor
from dreamscape_tui.screens.hint import HintScreen
from widgets.review_panel import ReviewPanel

DECISIONS = ("accept", "reject", "retry")
VERBS = {"accept": "Validating and applying", "reject": "Rejecting", "retry": "Queueing"}


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

    def __init__(self, model: ReadModel, root: Path, heal_id: HealId | None = None, *,
                 read_only: bool = False) -> None:
        super().__init__(id="review")
        self.model = model
        self.root = root
        self.read_only = read_only
        self.current = heal_id
        self.busy: HealId | None = None  # the heal id whose decision is in flight
        self.can_accept = False
        self._shown: tuple[HealId, int, int] | None = None  # what the panel shows now

    def compose(self) -> ComposeResult:
        yield Header()
        yield ReviewPanel(id="review-panel")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.reload()
        self.query_one(ReviewPanel).focus()

    def on_heals_changed(self, message: HealsChanged) -> None:
        """The model changed, or a decision finished (successfully or not)."""
        if message.outcome is not None and message.outcome.heal_id == self.busy:
            self.busy = None
            panel = self.query_one(ReviewPanel)
            panel.remove_class("-busy")
            panel.border_subtitle = ""
        self.reload()

    def reload(self) -> None:
        """Show the current escalation (or the next one still waiting)."""
        waiting = self.model.escalations()
        if self.busy is not None:
            return
        if not waiting:
            if self.app.screen is self:
                self.app.pop_screen()
                self.notify("No more reviews waiting")
            return
        if self.current not in waiting:
            later = [h for h in waiting if self.current is not None and h > self.current]
            self.current = later[0] if later else waiting[0]
        self._show(waiting)

    def _show(self, waiting: list[HealId], force: bool = False) -> None:
        """Lay out the current escalation, unless it is already on screen.

        Heal events for other files arrive all the time while a person reads; redrawing
        for them would reset the scroll position under their eyes.
        """
        assert self.current is not None
        shown = (self.current, waiting.index(self.current), len(waiting))
        item = self.model.item(self.current)
        if item is None or (shown == self._shown and not force):
            return
        self._shown = shown
        # Accept applies only a candidate that passed validation (the engine re-checks).
        self.can_accept = item.best is not None and item.best.passes
        self.query_one(ReviewPanel).show(item, self._diff(item),
                                         waiting.index(self.current) + 1, len(waiting))
        self.refresh_bindings()

    def _diff(self, item: HealItem) -> str:
        """The best candidate against the file as it is now ("" without a candidate)."""
        if item.best is None:
            return ""
        try:
            now = (self.root / item.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            now = ""
        return unified_diff(now, item.best.content, item.path)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in (*DECISIONS, "edit") and (self.busy is not None or self.current is None):
            return None  # shown disabled while a decision is in flight
        if action in DECISIONS and self.read_only:
            return None  # another process owns the project: look, do not decide
        if action == "accept" and not self.can_accept:
            return None  # nothing that passes: reject, retry or edit
        return True

    def _decide(self, kind: DecisionKind, hint: str = "") -> None:
        if self.current is None or self.busy is not None or self.read_only:
            return
        if kind == "accept" and not self.can_accept:
            self.notify("No candidate that passes the tests: reject, retry with a hint, "
                        "or edit the file", severity="warning")
            return
        self.busy = self.current
        panel = self.query_one(ReviewPanel)
        panel.add_class("-busy")
        panel.border_subtitle = f"{VERBS[kind]}…"
        self.refresh_bindings()
        self.post_message(Decision(kind, self.current, hint))

    def action_accept(self) -> None:
        self._decide("accept")

    def action_reject(self) -> None:
        self._decide("reject")

    def action_retry(self) -> None:
        current = self.current
        item = self.model.item(current)
        if item is None or self.busy is not None or self.read_only:
            return

        def with_hint(hint: str | None) -> None:
            if hint and self.current == current:
                self._decide("retry", hint)

        self.app.push_screen(HintScreen(item.path), with_hint)

    def action_edit(self) -> None:
        item = self.model.item(self.current)
        if item is not None:
            open_in_editor(self.app, self.root / item.path)
            waiting = self.model.escalations()
            if self.current in waiting:
                self._show(waiting, force=True)  # the file changed: so did the diff

    def action_step(self, delta: int) -> None:
        waiting = self.model.escalations()
        if not waiting or self.busy is not None:
            return
        index = waiting.index(self.current) if self.current in waiting else -delta
        self.current = waiting[(index + delta) % len(waiting)]
        self._show(waiting)

    def action_close(self) -> None:
        self.app.pop_screen()
