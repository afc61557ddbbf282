"""One escalation, laid out for a decision: the failure, every attempt, the best fix.

It only shows; the review screen owns the keys (accept, reject, retry with a hint,
edit, next, previous) and posts the decisions. The best candidate is shown as a unified
diff against the file as it is now, highlighted with the theme's colours.
"""

from __future__ import annotations

from pygments.token import Token  # type: ignore[import-untyped, unused-ignore]
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.highlight import HighlightTheme, highlight
from textual.widgets import Static

from dreamscape_tui.core.healtypes import Attempt, Candidate, HealItem

DETAILS_LINES = 30  # a long traceback is cut here; the file and the editor have the rest
OUTCOME_STYLES = {"validated": "$success", "failed": "$error", "escalated": "$warning"}


class DiffTheme(HighlightTheme):
    """The default highlight theme plus colours for added and removed lines."""

    STYLES = {
        **HighlightTheme.STYLES,
        Token.Generic.Inserted: "$text-success",
        Token.Generic.Deleted: "$text-error",
        Token.Generic.Subheading: "$text-accent",
        Token.Generic.Heading: "bold",
    }


def clip(text: str, lines: int) -> str:
    parts = text.rstrip().splitlines()
    if len(parts) <= lines:
        return "\n".join(parts)
    return "\n".join([*parts[:lines], f"… {len(parts) - lines} more lines"])


class ReviewPanel(VerticalScroll, can_focus=True):
    """The failure, the attempts and the best candidate of one escalated heal item."""

    def compose(self) -> ComposeResult:
        yield Static(id="review-summary")
        yield Static(id="review-diff", classes="review-section")
        yield Static(id="review-attempts", classes="review-section")
        yield Static(id="review-failure", classes="review-section")

    def show(self, item: HealItem, diff: str, position: int, total: int) -> None:
        """Lay out ``item`` as review ``position`` of ``total``; ``diff`` is its best
        candidate against the file as it is now.

        The candidate comes right after the summary, before the attempts and the
        traceback: it is what the decision is about, and at 80x24 it must be on the
        first screen.
        """
        failure = item.failure
        self.border_title = f"Review {position} of {total} · {item.path}"
        count = f"{len(item.log)} attempt{'s' if len(item.log) != 1 else ''}"
        self.query_one("#review-summary", Static).update(Content.assemble(
            (item.path, "bold"), f"  {item.kind} failure · {count} · heal ",
            (item.label, "dim"), "\n",
            ("Escalated: ", "$warning bold"), item.reason or "needs a decision", "\n",
            ("Failure: ", "bold"), (failure.message or "-", "$error"),
            *((("\nHint given: ", "bold"), item.hint) if item.hint else ()),
        ))
        self.query_one("#review-diff", Static).update(self._diff(item.best, diff))
        self.query_one("#review-attempts", Static).update(self._attempts(item.log))
        details = clip(failure.details, DETAILS_LINES)
        traceback = Content.assemble(
            ("Traceback", "bold underline"), f" ({failure.check or item.kind})\n",
            (details or "no details", "dim"))
        self.query_one("#review-failure", Static).update(traceback)
        self.scroll_home(animate=False)

    @staticmethod
    def _attempts(attempts: tuple[Attempt, ...]) -> Content:
        lines = [Content.styled("Attempts", "bold underline")]
        if not attempts:
            lines.append(Content.styled("none: it was escalated before any model ran", "dim"))
        for a in attempts:
            lines.append(Content.assemble(
                f"{a.number:>2}. ", (f"{a.model or '-':<14}", "bold"),
                (f"{a.outcome:<10}", OUTCOME_STYLES.get(a.outcome, "")), a.reason))
        return Content("\n").join(lines)

    @staticmethod
    def _diff(best: Candidate | None, diff: str) -> Content:
        title = Content.styled("Best candidate", "bold underline")
        if best is None:
            return title + Content.styled("\nno usable candidate: reject it, or retry with a "
                                          "hint", "dim")
        if best.passes:
            title += Content.styled("  passes the tests", "$success")
        else:
            failing = best.failing
            title += Content.styled(f"  still fails {failing} test{'s' if failing != 1 else ''}"
                                    ": retry with a hint, edit or reject", "$warning")
        if not diff:
            return title + Content.styled("\nthe candidate equals the file as it is now", "dim")
        return title + Content("\n") + highlight(diff.rstrip("\n"), language="diff",
                                                 theme=DiffTheme)
