"""The app's own entries in the command palette (Ctrl+P), and theme cycling.

Kept apart from ``app.py`` so the app module holds the engine bridge and the actions,
not their wording in the palette.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from textual.app import SystemCommand

Action = Callable[[], object]


def project_commands(*, paused: bool, rescan: Action, toggle_pause: Action, reviews: Action,
                     undo: Action, switch_theme: Action, show_help: Action
                     ) -> Iterator[SystemCommand]:
    """Every app action a person may want without remembering its key."""
    yield SystemCommand("Rescan", "Scan the project again, then check and heal", rescan)
    yield SystemCommand("Resume healing" if paused else "Pause healing",
                        "Answers in flight are dropped (not counted); resume picks up",
                        toggle_pause)
    yield SystemCommand("Open reviews", "Review the escalated heals", reviews)
    yield SystemCommand("Undo last heal", "Restore the latest healed file from its backup",
                        undo)
    yield SystemCommand("Switch theme", "Cycle to the next colour theme", switch_theme)
    yield SystemCommand("Help", "Every key binding", show_help)


def next_theme(names: Iterable[str], current: str) -> str:
    """The theme after ``current`` in name order (the first after the last)."""
    ordered = sorted(names)
    return ordered[(ordered.index(current) + 1) % len(ordered)] if current in ordered \
        else ordered[0]
