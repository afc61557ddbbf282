"""PageSession: what one browser session does on a chat page, whatever drives the tab.

Checking a session's health, inspecting a page for ``doctor`` and putting a prompt to
a model need no selenium type: they work through a
:class:`~dreamscape_tui.core.chatflow.PageDriver` and the page modules. They live here,
as the base of :class:`~dreamscape_tui.core.client.OpenAIClient`, so that client.py
(the ONLY selenium importer, docs/architecture.md#layers) holds just the WebDriver:
starting and quitting it, its cookies, and the three hooks below that give this class
a page to work on.

A prompt or a health check given an :class:`~dreamscape_tui.core.interrupt.Interrupt`
raises ModelCallInterrupted within a poll tick once it is set (navigation itself,
one WebDriver call, is bounded by ``page_load_timeout_s`` only); an answer still
streaming is stopped, and the next prompt loads its page afresh, so it never reads
the interrupted answer.
"""

from __future__ import annotations

import abc
import time
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from dreamscape_tui.core import chatpage as chat
from dreamscape_tui.core import pagecheck
from dreamscape_tui.core.answer import Answer
from dreamscape_tui.core.browser import SessionHealth
from dreamscape_tui.core.chatflow import ChatFlow, Limits, PageDriver, interruptible
from dreamscape_tui.core.chatpage import PageState
from dreamscape_tui.core.config import SessionsConfig, WebchatConfig
from dreamscape_tui.core.errors import (
    ChallengeShown,
    ModelCallInterrupted,
    ModelError,
    PageError,
    SelectorMissing,
    SessionExpired,
)
from dreamscape_tui.core.interrupt import Interrupt
from dreamscape_tui.core.pagecheck import PageInspection
from dreamscape_tui.core.profiles import Profile

__all__ = ["PageSession"]


class PageSession(abc.ABC):
    """Health, inspection and prompts on a chat page; the subclass supplies the tab."""

    sessions: SessionsConfig
    webchat: WebchatConfig
    session_id: str

    # -- hooks (the browser driver's side) --------------------------------------------

    @abc.abstractmethod
    def _translate(self, action: str) -> AbstractContextManager[None]:
        """Turn the driver's failures during ``action`` into typed ``ModelError`` s."""

    @abc.abstractmethod
    def _load(self, url: str, profile: str, until: float,
              interrupt: Interrupt | None = None) -> tuple[PageDriver, Profile]:
        """Load ``url`` and find its DOM profile (the model's, or detected: ``auto``);
        the detection's wait ends at ``interrupt``. The tab returned is unchecked."""

    @abc.abstractmethod
    def _current_tab(self) -> PageDriver:
        """The tab as it is now, not reloaded (raises if no browser runs)."""

    # -- health -----------------------------------------------------------------------

    def validate_session(self, url: str | None = None, *,
                         interrupt: Interrupt | None = None) -> SessionHealth:
        """Load ``url`` (default home_url) once and say whether a prompt could be sent;
        a set ``interrupt`` ends the check with ModelCallInterrupted (no health known)."""
        target = url or self.sessions.home_url
        started = time.monotonic()

        def health(state: Any, detail: str) -> SessionHealth:
            return SessionHealth(state, (time.monotonic() - started) * 1000.0, detail)

        try:
            with self._translate("validating the session"):
                until = time.monotonic() + self.sessions.page_load_timeout_s
                try:
                    tab, profile = self._load(target, "auto", until, interrupt)
                except PageError as exc:  # connection refused, DNS, timeout
                    return health("unreachable", str(exc))
                state, detail = pagecheck.health(interruptible(tab, interrupt), profile,
                                                 target, until)
        except ModelError as exc:
            return health("error", str(exc))
        return health(state, detail)

    def inspect_page(self, url: str, profile: str = "auto", *,
                     after_answer: bool = False) -> PageInspection:
        """Report a page's profile, health and every selector (doctor): ``url`` freshly
        loaded, or (``after_answer``) the page as an answer just left it."""
        with self._translate("inspecting the page"):
            until = time.monotonic() + self.sessions.page_load_timeout_s
            if after_answer:
                tab = self._current_tab()
                found = pagecheck.detect_profile(tab, profile, self.webchat.selectors, until)
            else:
                tab, found = self._load(url, profile, until)
            state, detail = pagecheck.health(tab, found, url, until)
            required = pagecheck.answer_roles(found) if after_answer else pagecheck.IDLE_ROLES
            roles = pagecheck.inspect_roles(tab, found, required)
        return PageInspection(found.name, state, detail, roles, required)

    # -- prompts ----------------------------------------------------------------------

    def get_chatgpt_response(
        self, prompt: str, model_url: str = "https://chatgpt.com/", timeout_s: float = 300.0
    ) -> Answer:
        """The audit's name for :meth:`submit_prompt`, kept for callers that know it."""
        return self.submit_prompt(prompt, model_url, timeout_s=timeout_s)

    def submit_prompt(self, prompt: str, model_url: str, *, timeout_s: float = 300.0,
                      profile: str = "auto", interrupt: Interrupt | None = None) -> Answer:
        """Send ``prompt`` on the page at ``model_url`` and return the finished answer,
        driving the page with the DOM ``profile`` (``auto``: detected on the page).

        Once ``interrupt`` is set, any wait raises ModelCallInterrupted and the answer
        in progress is stopped (see the module docs)."""
        started = time.monotonic()
        deadline = started + timeout_s
        load_s = self.sessions.page_load_timeout_s
        with self._translate("submitting a prompt"):
            tab, chosen = self._load(model_url, profile,
                                     min(deadline, time.monotonic() + load_s), interrupt)
            flow = ChatFlow(tab, chosen, self.session_id, interrupt)
            limits = Limits(deadline=deadline, timeout_s=timeout_s,
                            start_s=self.webchat.stream_start_timeout_s, load_s=load_s)
            answer = self._ask(flow, prompt, model_url, limits)
        return replace(answer, seconds=time.monotonic() - started,
                       model=chat.model_from_url(model_url))

    def _ask(self, flow: ChatFlow, prompt: str, url: str, limits: Limits) -> Answer:
        """Wait for the composer and put the prompt; interrupted, stop the answer the
        tab may still be generating (it would go on using the account's quota)."""
        try:
            before = self._wait_for_composer(flow, url, limits.deadline)
            return flow.submit(prompt, before, limits)
        except ModelCallInterrupted:
            flow.stop()
            raise

    def _wait_for_composer(self, flow: ChatFlow, url: str, deadline: float) -> PageState:
        limit = min(deadline, time.monotonic() + self.sessions.page_load_timeout_s)
        page = pagecheck.wait_ready(flow.page, flow.profile, limit)
        if page is None:
            raise SelectorMissing(
                "prompt_input", flow.profile.selector("prompt_input"),
                f"not found within {self.sessions.page_load_timeout_s:g}s on {url} "
                f"(profile {flow.profile.name})",
            )
        if page.unreachable:
            raise PageError(f"could not load {url}: {chat.net_error(page)}")
        if page.challenge:
            raise ChallengeShown(pagecheck.challenge_message(url))
        if page.wall:
            raise SessionExpired(
                f"session {self.session_id} is logged out: the page shows its login wall "
                f"({flow.profile.selector('login_wall')!r}); import cookies with "
                "`dreamscape login`"
            )
        return page
