"""The messages between the engine bridge, the app and its screens.

Screens never call the app and the app never calls screen methods: a screen posts a
``Decision`` (it bubbles up to the app, which handles every decision in one place), and
the app posts ``HealsChanged`` to each screen on the stack when the read model changed
or a decision finished. Neither side imports the other.
"""

from __future__ import annotations

from textual.message import Message

from dreamscape_tui.core.healtypes import HealId
from dreamscape_tui.decisions import DecisionKind, DecisionOutcome
from dreamscape_tui.readmodel import ModelEvent

__all__ = ["Decision", "DecisionKind", "DecisionOutcome", "EngineEvent", "HealsChanged"]


class EngineEvent(Message, bubble=False):
    """One engine event, carried from a worker thread to the UI thread."""

    def __init__(self, event: ModelEvent) -> None:
        super().__init__()
        self.event = event


class Decision(Message):
    """A person decided about a heal item; ``heal_id`` None undoes the project's latest.

    ``hint`` goes with ``retry`` into the next prompt.
    """

    def __init__(self, kind: DecisionKind, heal_id: HealId | None, hint: str = "") -> None:
        super().__init__()
        self.kind: DecisionKind = kind
        self.heal_id = heal_id
        self.hint = hint


class HealsChanged(Message, bubble=False):
    """The read model changed: heal ``heal_id`` changed, or (``outcome`` set) a decision
    about it finished, successfully or not."""

    def __init__(self, heal_id: HealId | None, outcome: DecisionOutcome | None = None) -> None:
        super().__init__()
        self.heal_id = heal_id
        self.outcome = outcome
