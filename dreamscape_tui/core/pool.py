"""SessionPool: a few persistent browser sessions shared by many workers.

The audit found a full browser started per worker (and per prompt); a browser costs
about a second to start and ~250 MiB to keep, so the pool starts ``sessions.size``
browsers once and leases them: one worker per session at a time. It keeps them fit
without the workers noticing: a session is health-checked when its last check is
stale, a dead browser is replaced and the prompt retried once, and a session is
recycled after page errors (reload) or after ``max_prompts_per_session`` prompts
(restart, so a long-lived tab cannot grow without bound).

A caller may pass an :class:`~dreamscape_tui.core.interrupt.Interrupt`: waiting for a
free session, its health check and the prompt then end with ModelCallInterrupted
once it is set. An interrupted lease is released as it is (the session is healthy:
no recycle); starting a browser, one blocking call, is not interrupted.

Every state change is reported as a :class:`SessionState` event to ``sink`` (the TUI's
health panel). This module never imports selenium: browsers come from a client factory
(tests inject fakes), the default one being :class:`OpenAIClient`. It runs the browsers
and threads; the books of its slots (states, events, who holds which) are kept by a
:class:`~dreamscape_tui.core.slotboard.SlotBoard`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from dreamscape_tui.core import display
from dreamscape_tui.core.answer import Answer
from dreamscape_tui.core.config import SessionsConfig, WebchatConfig
from dreamscape_tui.core.cookies import cookies_by_site
from dreamscape_tui.core.errors import (
    AnswerTimeout,
    BadResponse,
    ModelCallInterrupted,
    ModelError,
    PageError,
    SelectorMissing,
    SessionExpired,
    SessionUnavailable,
)
from dreamscape_tui.core.events import Event, SessionState
from dreamscape_tui.core.interrupt import Interrupt, raise_if_set
from dreamscape_tui.core.lease import PooledSession, Slot
from dreamscape_tui.core.signals import Stoppable, install_signal_handlers
from dreamscape_tui.core.slotboard import SlotBoard

if TYPE_CHECKING:
    from dreamscape_tui.core.client import OpenAIClient

__all__ = ["PooledSession", "SessionPool", "Stoppable", "install_signal_handlers"]

logger = logging.getLogger(__name__)

_RELOAD_AFTER = (PageError, AnswerTimeout, BadResponse)
"""Errors that may leave the page in a bad state: reload it before the next prompt."""


class SessionPool:
    """Persistent browser sessions, leased one worker at a time (see module docs)."""

    def __init__(
        self,
        sessions: SessionsConfig,
        webchat: WebchatConfig,
        sink: Callable[[Event], None] | None = None,
        *,
        client_factory: Callable[[str], OpenAIClient] | None = None,
        cookies: list[dict[str, Any]] | None = None,
        sites: Sequence[str] = (),
    ) -> None:
        """Configure the pool; browsers start with :meth:`start` (or the first lease).

        ``sites`` are the chat pages the models are on (default: ``home_url``): each
        new browser gets, on each site, the saved cookies whose domain fits it.
        """
        self._sessions = sessions
        self._sites = list(sites) or [sessions.home_url]
        self._webchat = webchat
        self._factory = client_factory or self._default_factory
        self._cookies = list(cookies or [])
        self._driver = "remote" if sessions.driver == "remote" else "local"
        # One browser cannot be attached to by several sessions meaningfully.
        size = 1 if sessions.debugger_address and self._driver == "local" else sessions.size
        self._board = SlotBoard(size, self._driver, sink)
        self._started = False
        self._holds_display = False
        self._stop = threading.Event()
        self._threads: set[threading.Thread] = set()

    def _default_factory(self, session_id: str) -> OpenAIClient:
        from dreamscape_tui.core.client import OpenAIClient  # selenium only when needed

        return OpenAIClient(self._sessions, self._webchat, session_id=session_id)

    @property
    def size(self) -> int:
        """How many sessions the pool keeps."""
        return len(self._board.slots)

    # -- lifecycle --------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], *args: Any, name: str) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            finally:
                with self._board.lock:
                    self._threads.discard(thread)

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._board.lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def start(self, wait: bool = True) -> None:
        """Start every session in parallel; with ``wait`` return when all are up (or failed)."""
        with self._board.lock:
            if self._board.closed:
                raise SessionUnavailable("the session pool is shut down")
            first = not self._started
            self._started = True
            if first:
                self._holds_display = self._hold_display()
        if first:
            for slot in self._board.slots:
                self._board.set(slot, "starting")
            for slot in self._board.slots:
                self._spawn(self._boot, slot, name=f"pool-start-{slot.id}")
            self._spawn(self._health_loop, name="pool-health")
        if wait:
            self._board.wait_started()

    def _hold_display(self) -> bool:
        """Hold the virtual display for the pool's lifetime when its browsers use one
        (``headless = "auto"``, no $DISPLAY, Xvfb installed): one Xvfb serves every
        session and outlives their restarts. A failure is each session's to report."""
        if (self._driver != "local" or self._sessions.debugger_address
                or display.browser_mode(self._sessions.headless) != "xvfb"):
            return False
        try:
            display.acquire_display()
        except SessionUnavailable as exc:
            logger.warning("%s", exc)
            return False
        return True

    def _boot(self, slot: Slot) -> None:
        """First start of a slot (in its own thread); the slot is busy until it ends."""
        try:
            self._replace_client(slot)
        except ModelError:
            pass  # recorded on the slot; a lease will try again
        finally:
            self._release(slot, None)

    def _replace_client(self, slot: Slot) -> None:
        """Quit the slot's browser (if any) and start a fresh one: start, cookies, check."""
        old, slot.client = slot.client, None
        if old is not None:
            old.quit()
        client = self._factory(slot.id)
        try:
            client.start()
            for site, cookies in cookies_by_site(self._cookies, self._sites):
                try:
                    client.add_cookies(cookies, site)
                except SessionUnavailable:
                    raise
                except ModelError as exc:
                    slot.last_error = str(exc)
            health = client.validate_session()
        except ModelError as exc:
            client.quit()
            self._board.set(slot, None, health="error", detail=str(exc), last_error=str(exc),
                            checked=time.monotonic())
            raise
        with self._board.lock:
            closed = self._board.closed
            if not closed:
                slot.client, slot.prompts = client, 0
        if closed:
            client.quit()
            raise SessionUnavailable("the session pool is shut down")
        self._board.record_health(slot, health.state, health.latency_ms, health.detail)

    def shutdown(self) -> None:
        """Quit every browser (busy ones too) and stop the health thread; idempotent."""
        with self._board.cond:
            if self._board.closed:
                return
            self._board.closed = True
            self._stop.set()
            clients = [(slot, slot.client) for slot in self._board.slots]
            for slot in self._board.slots:
                slot.client = None
            threads = [t for t in self._threads if t is not threading.current_thread()]
            self._board.cond.notify_all()
        quitters = [threading.Thread(target=c.quit, daemon=True) for _, c in clients if c]
        for quitter in quitters:
            quitter.start()
        for quitter in quitters:
            quitter.join(30.0)
        for thread in threads:  # starts/recycles in flight quit what they made
            thread.join(self._sessions.start_timeout_s + self._sessions.page_load_timeout_s)
        if self._holds_display:  # the browsers are gone: Xvfb stops with the last holder
            self._holds_display = False
            display.release_display()
        for slot, _ in clients:
            self._board.set(slot, "stopped", detail="", health="stopped")

    def __enter__(self) -> SessionPool:
        """Use as ``with SessionPool(...) as pool:``; browsers start on first use."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Shut down however the block ends (KeyboardInterrupt included)."""
        self.shutdown()

    # -- leasing ----------------------------------------------------------------------

    @contextmanager
    def lease(self, timeout: float | None = None, *,
              interrupt: Interrupt | None = None) -> Iterator[PooledSession]:
        """Hold one session exclusively; blocks until one is free (``timeout`` seconds)
        or ``interrupt`` is set (ModelCallInterrupted)."""
        if not self._started:
            self.start(wait=False)
        slot = self._board.acquire(timeout, interrupt)
        error: BaseException | None = None
        try:
            self._make_fit(slot, interrupt)
            self._board.set(slot, "busy")
            yield PooledSession(self, slot)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._release(slot, error)

    def _make_fit(self, slot: Slot, interrupt: Interrupt | None = None) -> None:
        """Before handing a session out: start it if it failed, check it if stale, replace
        it if the browser died. ``interrupt`` ends the check, and prevents a start."""
        client = slot.client
        if client is None:
            raise_if_set(interrupt, "waiting for a browser session")
            self._board.set(slot, "recycling", detail="restarting after a failed start")
            self._replace_client(slot)
            return
        if time.monotonic() - slot.checked >= self._sessions.health_interval_s:
            health = (client.validate_session() if interrupt is None
                      else client.validate_session(interrupt=interrupt))
            self._board.record_health(slot, health.state, health.latency_ms, health.detail)
            if health.state == "healthy" or client.is_alive():
                return
        elif client.is_alive():
            return
        raise_if_set(interrupt, "waiting for a browser session")
        self._board.set(slot, "recycling", detail="browser died; replacing it")
        self._replace_client(slot)

    def _release(self, slot: Slot, error: BaseException | None) -> None:
        """End a lease: recycle in the background if needed, else free the slot."""
        kind = reason = ""
        if not self._board.closed and slot.client is not None:
            if isinstance(error, SessionUnavailable):
                kind, reason = "restart", "browser died"
            elif slot.prompts >= self._sessions.max_prompts_per_session:
                kind, reason = "restart", "prompt limit reached"
            elif isinstance(error, _RELOAD_AFTER):
                kind, reason = "reload", type(error).__name__
        if kind:
            self._board.set(slot, "recycling", detail=f"{kind}: {reason}")
            self._spawn(self._recycle, slot, kind, name=f"pool-recycle-{slot.id}")
            return
        with self._board.cond:
            leftover = slot.client if self._board.closed else None
            if leftover is not None:
                slot.client = None
        if leftover is not None:
            leftover.quit()
        self._board.set(slot, self._board.idle_state(slot), free=True)

    def _recycle(self, slot: Slot, kind: str) -> None:
        try:
            client = slot.client
            if kind == "reload" and client is not None:
                health = client.validate_session()
                if health.state in ("healthy", "logged_out") or client.is_alive():
                    self._board.record_health(slot, health.state, health.latency_ms, health.detail)
                    return
            self._replace_client(slot)
        except ModelError:
            pass  # recorded on the slot
        finally:
            self._board.set(slot, self._board.idle_state(slot), free=True)

    # -- prompts ----------------------------------------------------------------------

    def submit(self, prompt: str, model_url: str, *, timeout_s: float = 300.0,
               profile: str = "auto", interrupt: Interrupt | None = None) -> Answer:
        """Lease a session and ask; a browser that died is replaced and asked once more.
        A set ``interrupt`` ends any of it with ModelCallInterrupted."""
        with self.lease(interrupt=interrupt) as session:
            try:
                return session.submit_prompt(prompt, model_url, timeout_s=timeout_s,
                                             profile=profile, interrupt=interrupt)
            except SessionUnavailable as exc:
                if self._board.closed:
                    raise
                if interrupt is not None and interrupt.is_set():
                    # the next lease replaces the dead browser (it is not alive)
                    raise ModelCallInterrupted("the model call was interrupted") from exc
                logger.warning("session %s died mid-prompt; replacing it and retrying", session.id)
                self._board.set(session.slot, "recycling", detail="browser died; replacing it")
                self._replace_client(session.slot)
                self._board.set(session.slot, "busy")
                return session.submit_prompt(prompt, model_url, timeout_s=timeout_s,
                                             profile=profile, interrupt=interrupt)

    def submit_prompt(self, prompt: str, model_url: str, *, timeout_s: float = 300.0,
                      profile: str = "auto", interrupt: Interrupt | None = None) -> Answer:
        """:meth:`submit` under the client's name, so a pool serves wherever one session
        would (the registry's ``PromptSession``)."""
        return self.submit(prompt, model_url, timeout_s=timeout_s, profile=profile,
                           interrupt=interrupt)

    def _run(self, slot: Slot, prompt: str, model_url: str, timeout_s: float,
             profile: str = "auto", interrupt: Interrupt | None = None) -> Answer:
        """Ask the slot's client. An interrupted prompt (ModelCallInterrupted) leaves the
        slot's health as it was: the session did nothing wrong."""
        client = slot.client
        if client is None:
            raise SessionUnavailable(f"browser session {slot.id} is not running")
        self._board.set(slot, "busy", prompts=slot.prompts + 1)
        try:
            if interrupt is None:
                answer = client.submit_prompt(prompt, model_url, timeout_s=timeout_s,
                                              profile=profile)
            else:
                answer = client.submit_prompt(prompt, model_url, timeout_s=timeout_s,
                                              profile=profile, interrupt=interrupt)
        except ModelError as exc:
            health = {SessionExpired: "logged_out", SelectorMissing: "error"}.get(
                type(exc), slot.health
            )
            self._board.set(slot, "busy", health=health, last_error=str(exc))
            raise
        with self._board.lock:
            slot.health = "healthy"
        return answer

    # -- health -----------------------------------------------------------------------

    def _check(self, slot: Slot) -> None:
        """Validate one slot the caller has marked busy, then free it."""
        try:
            client = slot.client
            if client is None:  # its start failed earlier: try again
                self._replace_client(slot)
                return
            health = client.validate_session()
            self._board.record_health(slot, health.state, health.latency_ms, health.detail)
            if health.state != "healthy" and not client.is_alive() and not self._board.closed:
                self._replace_client(slot)
        except ModelError:
            pass  # recorded on the slot
        finally:
            self._release(slot, None)

    def check_health(self) -> list[SessionState]:
        """Validate every idle session now (in parallel) and return all statuses."""
        if not self._started:
            self.start(wait=True)
        threads = [
            threading.Thread(target=self._check, args=(s,), daemon=True)
            for s in self._board.slots if self._board.claim(s)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.statuses()

    def _health_loop(self) -> None:
        """Every health_interval_s, re-check (or restart) idle sessions whose check is stale."""
        interval = self._sessions.health_interval_s
        while not self._stop.wait(interval):
            for slot in self._board.slots:
                if self._board.claim(slot, stale_after_s=interval):
                    self._check(slot)

    def statuses(self) -> list[SessionState]:
        """A snapshot of every session's state."""
        return self._board.statuses()
