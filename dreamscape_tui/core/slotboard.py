"""SlotBoard: the pool's slots, the one lock over them, and the events they send.

:class:`~dreamscape_tui.core.pool.SessionPool` does two things: it runs browsers and
threads (start, replace, recycle, quit, the health loop) and it keeps the books of its
slots (who holds which, what state each shows). The books are here, so that every
rule about them sits in one place and no browser call happens while they are read:

* every change to a slot is made under one re-entrant lock and reported to the sink
  as a :class:`~dreamscape_tui.core.events.SessionState` while the lock is still held,
  so the events of one slot reach the sink in the order the changes happened;
* a lease is taken (and a slot claimed for a health check) under the same lock, and
  every change notifies the condition, so a waiting worker wakes when a slot frees.

Nothing here starts a browser or a thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from dreamscape_tui.core.errors import SessionUnavailable
from dreamscape_tui.core.events import Event, SessionState
from dreamscape_tui.core.interrupt import POLL_S, Interrupt, raise_if_set
from dreamscape_tui.core.lease import Slot

__all__ = ["SlotBoard"]

logger = logging.getLogger(__name__)


class SlotBoard:
    """The slots of one pool and their bookkeeping (see module docs)."""

    def __init__(self, size: int, driver: str, sink: Callable[[Event], None] | None) -> None:
        """``size`` slots ("s1", "s2", ...), all busy "starting" until their first start
        ends; ``driver`` ("local"/"remote") is reported in every event."""
        self.slots = [Slot(f"s{i + 1}") for i in range(size)]
        self.lock = threading.RLock()  # re-entrant: shutdown may run in a signal handler
        self.cond = threading.Condition(self.lock)
        self.closed = False  # set once, under the lock, by the pool's shutdown
        self._driver = driver
        self._sink = sink

    # -- events -----------------------------------------------------------------------

    def snapshot(self, slot: Slot) -> SessionState:
        """The event that shows ``slot`` as it is now."""
        return SessionState(
            id=slot.id, state=slot.state, driver=self._driver, latency_ms=slot.latency_ms,
            prompts=slot.prompts, detail=slot.detail, last_error=slot.last_error,
        )

    def set(self, slot: Slot, state: str | None, *, free: bool = False, **changes: Any) -> None:
        """Change a slot (``state`` None: keep it; ``free``: end its lease) and tell the sink.

        The sink is called under the (re-entrant) lock so that events of one slot
        reach it in the order the changes happened, even across threads.
        """
        with self.cond:
            for key, value in changes.items():
                setattr(slot, key, value)
            if free:
                slot.busy = False
            if state is not None:
                slot.state = state
            event = self.snapshot(slot)
            self.cond.notify_all()
            if self._sink is not None:
                try:
                    self._sink(event)
                except Exception:
                    logger.exception("session event sink failed")

    def record_health(self, slot: Slot, state: str, latency_ms: float, detail: str) -> None:
        """Store a check's result; it shows as the slot's state once its lease ends."""
        self.set(slot, None, health=state, latency_ms=latency_ms, detail=detail,
                 checked=time.monotonic())

    def idle_state(self, slot: Slot) -> str:
        """What a slot shows once its lease ends: its last health, or why it has none."""
        if self.closed:
            return "stopped"
        return slot.health if slot.client is not None else "error"

    def statuses(self) -> list[SessionState]:
        """A snapshot of every session's state."""
        with self.lock:
            return [self.snapshot(slot) for slot in self.slots]

    # -- taking slots -----------------------------------------------------------------

    def wait_started(self) -> None:
        """Block until no slot is still on its first start (or the pool shut down)."""
        with self.cond:
            self.cond.wait_for(
                lambda: self.closed or all(s.state != "starting" for s in self.slots)
            )

    def acquire(self, timeout: float | None, interrupt: Interrupt | None = None) -> Slot:
        """Mark a free slot busy and return it, waiting up to ``timeout`` seconds for one;
        a slot with a healthy browser comes first. A set ``interrupt`` ends the wait
        (``ModelCallInterrupted``) within POLL_S: a Condition cannot wait on it too."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cond:
            while True:
                raise_if_set(interrupt, "waiting for a browser session")
                if self.closed:
                    raise SessionUnavailable("the session pool is shut down")
                free = [s for s in self.slots if not s.busy]
                ready = sorted((s for s in free if s.client is not None),
                               key=lambda s: s.health != "healthy")
                # A session that failed to start is retried only when no other one
                # is about to become free (busy with a browser, or starting).
                coming = any(s.busy and (s.client is not None or s.state != "error")
                             for s in self.slots)
                pick = ready[0] if ready else (free[0] if free and not coming else None)
                if pick is not None:
                    pick.busy = True
                    return pick
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise SessionUnavailable(f"no browser session became free within {timeout:g}s")
                if interrupt is not None:
                    remaining = POLL_S if remaining is None else min(POLL_S, remaining)
                self.cond.wait(remaining)

    def claim(self, slot: Slot, stale_after_s: float | None = None) -> bool:
        """Mark an idle slot busy for a check (True), unless it is in use or (with
        ``stale_after_s``) its last check is younger than that."""
        with self.lock:
            stale = stale_after_s is None or time.monotonic() - slot.checked >= stale_after_s
            if slot.busy or self.closed or not stale:
                return False
            slot.busy = True
            return True
