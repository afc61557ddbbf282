"""The pool's per-session record and the lease handle workers get (see pool.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dreamscape_tui.core.answer import Answer
from dreamscape_tui.core.errors import SessionUnavailable
from dreamscape_tui.core.interrupt import Interrupt

if TYPE_CHECKING:
    from dreamscape_tui.core.client import OpenAIClient
    from dreamscape_tui.core.pool import SessionPool

__all__ = ["PooledSession", "Slot"]


class Slot:
    """One seat of the pool: the client in it and what we know about it."""

    def __init__(self, session_id: str) -> None:
        self.id = session_id
        self.client: OpenAIClient | None = None
        self.busy = True  # until its first start finished
        self.state = "starting"
        self.health = "starting"  # last known health, shown again when released
        self.latency_ms: float | None = None
        self.prompts = 0
        self.detail = ""
        self.last_error = ""
        self.checked = 0.0  # time.monotonic() of the last health check


class PooledSession:
    """A leased session: use it from one thread until the lease ends."""

    def __init__(self, pool: SessionPool, slot: Slot) -> None:
        """Only :meth:`SessionPool.lease` makes these."""
        self._pool = pool
        self._slot = slot

    @property
    def id(self) -> str:
        """The session id ("s1", "s2", ...)."""
        return self._slot.id

    @property
    def client(self) -> OpenAIClient:
        """The browser client currently in this session's seat."""
        if self._slot.client is None:
            raise SessionUnavailable(f"browser session {self._slot.id} is not running")
        return self._slot.client

    @property
    def slot(self) -> Slot:
        """The pool's record of this session (for the pool; read-only for others)."""
        return self._slot

    def submit_prompt(self, prompt: str, model_url: str, *, timeout_s: float = 300.0,
                      profile: str = "auto", interrupt: Interrupt | None = None) -> Answer:
        """Ask through this session, counting the prompt towards its recycle limit;
        a set ``interrupt`` ends the wait with ModelCallInterrupted."""
        return self._pool._run(self._slot, prompt, model_url, timeout_s, profile, interrupt)
