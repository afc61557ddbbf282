"""A person's decisions about heal items, carried out on the engine (no Textual here).

The app runs :func:`carry_out` in a thread worker (accept re-validates the candidate,
which runs the tests) and reports the :class:`DecisionOutcome` it returns, or the one
:meth:`DecisionOutcome.failure` makes from the error it raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dreamscape_tui.core.engine import AutomationEngine
from dreamscape_tui.core.errors import UserError
from dreamscape_tui.core.healtypes import HealId

DecisionKind = Literal["accept", "reject", "retry", "undo"]


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    """How a decision ended: ``text`` is what the person is told; ``heal_id`` is the item
    decided (for an undo, the item undone; None when it failed before one was found)."""

    kind: DecisionKind
    heal_id: HealId | None
    text: str
    failed: bool = False

    @classmethod
    def failure(cls, kind: DecisionKind, heal_id: HealId | None,
                error: BaseException | None) -> DecisionOutcome:
        """A refusal says its one line; anything else says what went wrong."""
        text = str(error) if isinstance(error, UserError) else f"{kind} failed: {error!r}"
        return cls(kind, heal_id, text, failed=True)


def carry_out(engine: AutomationEngine, kind: DecisionKind, heal_id: HealId | None,
              hint: str = "") -> DecisionOutcome:
    """Blocking: accept / reject / retry ``heal_id``, or undo it (None: the latest).

    The engine emits the changed item before returning, so the read model has it by
    the time the outcome is reported. Refusals raise ``UserError``.
    """
    if kind == "undo":
        item = engine.undo(heal_id)
        return DecisionOutcome(kind, item.id, f"Restored {item.path} from its backup "
                                              f"(heal {item.label})")
    if heal_id is None:
        raise UserError(f"{kind}: which heal? none was given")
    if kind == "accept":
        backup = engine.accept(heal_id)
        return DecisionOutcome(kind, heal_id, f"Applied the fix; the original is in "
                                              f"{_relative(backup, engine.root)}")
    if kind == "reject":
        engine.reject(heal_id)
        return DecisionOutcome(kind, heal_id, "Rejected: the file is left as it is")
    engine.retry(heal_id, hint)
    return DecisionOutcome(kind, heal_id, "Queued again with your hint")


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path
