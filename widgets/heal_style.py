"""How a heal state looks, in one table: its colour and the file tree's marker.

The heal queue, the file detail and the file tree used to keep a table each, and they
drifted (an escalation was accent in one and warning in another). Every widget, and the
read model that works out each file's marker, reads this one. Free of Textual: the
styles are plain strings that Textual's ``Content`` parses, so the read model can
import it without loading the UI.
"""

from __future__ import annotations

from dataclasses import dataclass

from dreamscape_tui.core.healtypes import HealState


@dataclass(frozen=True, slots=True)
class Look:
    """``style``: the state's name as drawn; ``marker``: the tree's mark for a file
    whose latest heal item is in this state (failing, healing, healed or review)."""

    style: str
    marker: str


def _look(state: HealState) -> Look:
    """Derived from the state's properties, so a new state cannot be forgotten."""
    if state is HealState.ESCALATED:
        return Look("$accent bold", "review")
    if state.fixed:
        return Look("$success", "healed")
    if state is HealState.QUEUED:
        return Look("$error", "failing")
    if state.active:
        return Look("$warning", "healing")
    return Look("dim", "failing")  # rejected, undone: the file still fails


LOOKS: dict[HealState, Look] = {state: _look(state) for state in HealState}


def state_style(state: HealState) -> str:
    return LOOKS[state].style


def file_marker(state: HealState) -> str:
    return LOOKS[state].marker
