"""Interrupt: how a caller cancels a model call that is in flight (issue 11, item 6).

A model call waits a long time (a webchat answer streams for minutes; an HTTP model
may not answer at all), and ``q``, SIGTERM or a pause must end it within a second.
Every wait inside a model call therefore polls an :class:`Interrupt` at about
:data:`POLL_S` and raises :class:`~dreamscape_tui.core.errors.ModelCallInterrupted`
once it is set. Kept apart from the registry and the clients, so both import it
without an import cycle.
"""

from __future__ import annotations

import time
from typing import Protocol

from dreamscape_tui.core.errors import ModelCallInterrupted

__all__ = ["POLL_S", "Interrupt", "ModelCallInterrupted", "raise_if_set", "wait_or_interrupt"]

POLL_S = 0.1
"""How often a wait looks at its interrupt: well inside the 1 s the contract allows."""


class Interrupt(Protocol):
    """Anything that says whether the call should stop (a ``threading.Event`` does)."""

    def is_set(self) -> bool: ...


def raise_if_set(interrupt: Interrupt | None, what: str = "the model call") -> None:
    """Raise ModelCallInterrupted if ``interrupt`` is set; None is never set."""
    if interrupt is not None and interrupt.is_set():
        raise ModelCallInterrupted(f"{what} was interrupted")


def wait_or_interrupt(seconds: float, interrupt: Interrupt | None,
                      what: str = "the model call") -> None:
    """Sleep ``seconds``, looking at ``interrupt`` every :data:`POLL_S`, so a sleep
    (a back-off, a poll interval) never delays a cancel by more than a tick."""
    until = time.monotonic() + seconds
    while True:
        raise_if_set(interrupt, what)
        left = until - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(POLL_S, left))
