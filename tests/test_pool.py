"""SessionPool: leasing, replacement, recycling, health, events and shutdown.

The pool logic is tested first with fake clients (fast, deterministic), then with
real headless Chromium against the practice page for what only real browsers prove:
concurrent prompts, a browser killed mid-answer, and nothing left behind on shutdown.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from dreamscape_tui.core.answer import Answer
from dreamscape_tui.core.browser import SessionHealth, is_running
from dreamscape_tui.core.client import OpenAIClient
from dreamscape_tui.core.config import Config
from dreamscape_tui.core.errors import PageError, SessionUnavailable
from dreamscape_tui.core.events import Event, SessionState
from dreamscape_tui.core.pool import SessionPool, install_signal_handlers
from dreamscape_tui.practice import ChatServer, Reply
from tests.browser_fixtures import browser_configs, browser_test, our_browser_pids

# -- fakes -------------------------------------------------------------------------------


class FakeClient:
    """Stands in for OpenAIClient: answers "<id>#<n>:<prompt>", fails when scripted to."""

    def __init__(self, session_id: str, serial: int, plan: Plan) -> None:
        self.session_id, self.serial, self.plan = session_id, serial, plan
        self.alive = False
        self.quits = 0
        self.validations = 0
        self.cookies: list[tuple[list[dict[str, Any]], str | None]] = []
        self.active = 0

    def start(self) -> None:
        if self.plan.fail_start:
            raise SessionUnavailable(f"could not start browser session {self.session_id}")
        self.alive = True

    def validate_session(self, url: str | None = None) -> SessionHealth:
        self.validations += 1
        return SessionHealth("healthy" if self.alive else "error", 1.0, "")

    def add_cookies(self, cookies: list[dict[str, Any]], url: str | None = None) -> None:
        self.cookies.append((cookies, url))

    def submit_prompt(self, prompt: str, model_url: str, *, timeout_s: float = 300.0,
                      profile: str = "auto") -> Answer:
        self.active += 1
        try:
            assert self.active == 1, "two workers in one session"
            failure = self.plan.failures.pop(0) if self.plan.failures else None
            if failure == "die":
                self.alive = False
                raise SessionUnavailable(f"browser session {self.session_id} is gone")
            if failure == "page":
                raise PageError("the chat page reported an error: Something went wrong")
            time.sleep(self.plan.delay_s)  # simulated answer time, not a wait
            return Answer(text=f"{self.session_id}#{self.serial}:{prompt}")
        finally:
            self.active -= 1

    def is_alive(self) -> bool:
        return self.alive

    def quit(self) -> None:
        self.alive = False
        self.quits += 1


class Plan:
    """What the fakes do: scripted failures (in order), start failures, answer delay."""

    def __init__(self, failures: list[str] | None = None, *, fail_start: bool = False,
                 delay_s: float = 0.0) -> None:
        self.failures = list(failures or [])
        self.fail_start = fail_start
        self.delay_s = delay_s
        self.made: list[FakeClient] = []

    def factory(self, session_id: str) -> OpenAIClient:
        client = FakeClient(session_id, len(self.made) + 1, self)
        self.made.append(client)
        return cast(OpenAIClient, client)


def fake_pool(plan: Plan, *, events: list[Event] | None = None, **sessions: Any) -> SessionPool:
    """A pool of fakes (size 1, no background checks unless asked) with one cookie."""
    config = Config()
    fields: dict[str, Any] = {"size": 1, "health_interval_s": 3600.0, **sessions}
    return SessionPool(
        dataclasses.replace(config.sessions, **fields),
        config.webchat,
        events.append if events is not None else None,
        client_factory=plan.factory,
        cookies=[{"name": "sid", "value": "v"}],
    )


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition`` (background threads make the change)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.01)


# -- pool logic with fakes ---------------------------------------------------------------


def test_one_worker_per_session_and_all_answered() -> None:
    plan = Plan(delay_s=0.02)
    with fake_pool(plan, size=2) as pool:
        results: dict[int, str] = {}

        def ask(i: int) -> None:
            results[i] = pool.submit(f"p{i}", "http://x/").text

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == list(range(10))
        assert all(text.endswith(f":p{i}") for i, text in results.items())
        assert {text.split("#")[0] for text in results.values()} == {"s1", "s2"}
        home = Config().sessions.home_url
        assert all(c.cookies == [([{"name": "sid", "value": "v"}], home)] for c in plan.made)
    assert all(c.quits >= 1 for c in plan.made)


def test_dead_browser_is_replaced_and_the_prompt_retried_once() -> None:
    plan = Plan(["die"])
    events: list[Event] = []
    with fake_pool(plan, events=events) as pool:
        assert pool.submit("hello", "http://x/").text == "s1#2:hello"
        assert [c.serial for c in plan.made] == [1, 2] and plan.made[0].quits >= 1
        assert "recycling" in [e.state for e in events if isinstance(e, SessionState)]

        plan.failures = ["die", "die"]
        with pytest.raises(SessionUnavailable):
            pool.submit("again", "http://x/")
        assert len(plan.made) == 4  # one replacement for the retry, one after it failed
        wait_for(lambda: pool.statuses()[0].state == "healthy")
        assert pool.submit("recovered", "http://x/").text == "s1#4:recovered"


def test_recycle_after_max_prompts_and_reload_after_page_error() -> None:
    plan = Plan()
    with fake_pool(plan, max_prompts_per_session=2) as pool:
        answers = [pool.submit(f"p{i}", "http://x/").text for i in range(4)]
        assert [a.split(":")[0] for a in answers] == ["s1#1", "s1#1", "s1#2", "s1#2"]
        wait_for(lambda: len(plan.made) == 3 and pool.statuses()[0].state == "healthy")
        assert plan.made[0].quits == 1 and plan.made[1].quits == 1

        plan.failures = ["page"]
        before = plan.made[-1].validations
        with pytest.raises(PageError):
            pool.submit("boom", "http://x/")
        wait_for(lambda: plan.made[-1].validations == before + 1)  # reloaded ...
        wait_for(lambda: pool.statuses()[0].state == "healthy")
        assert len(plan.made) == 3  # ... not restarted
        assert pool.statuses()[0].last_error.startswith("the chat page reported an error")


def test_failed_start_is_reported_and_retried_on_lease() -> None:
    plan = Plan(fail_start=True)
    with fake_pool(plan, size=2) as pool:
        pool.start(wait=True)
        states = pool.statuses()
        assert [s.state for s in states] == ["error", "error"]
        assert "could not start" in states[0].detail
        assert states[0].to_json()["state"] == "error"
        with pytest.raises(SessionUnavailable, match="could not start"):
            pool.submit("x", "http://x/")
        plan.fail_start = False
        assert pool.submit("x", "http://x/").text.endswith(":x")


def test_lease_timeout_and_statuses_json() -> None:
    plan = Plan()
    with fake_pool(plan) as pool, pool.lease() as session:
        assert session.id == "s1"
        assert pool.statuses()[0].state == "busy"
        assert pool.statuses()[0].to_json() == {
            "id": "s1", "state": "healthy", "driver": "local", "latency_ms": 1.0,
            "prompts": 0, "detail": "busy"}
        with pytest.raises(SessionUnavailable, match="free within"), pool.lease(timeout=0.1):
            pass


def test_health_thread_rechecks_idle_sessions() -> None:
    plan = Plan()
    with fake_pool(plan, health_interval_s=0.1) as pool:
        pool.start()
        wait_for(lambda: plan.made[0].validations >= 3)
        plan.made[0].alive = False  # died while idle: replaced by the health thread
        wait_for(lambda: len(plan.made) == 2 and pool.statuses()[0].state == "healthy")
    assert len(plan.made) == 2


def test_keyboard_interrupt_shuts_down_and_shutdown_is_idempotent() -> None:
    plan = Plan()
    events: list[Event] = []
    with pytest.raises(KeyboardInterrupt), fake_pool(plan, size=2, events=events) as pool:
        pool.start()
        raise KeyboardInterrupt
    assert all(c.quits == 1 for c in plan.made) and len(plan.made) == 2
    assert [s.state for s in pool.statuses()] == ["stopped", "stopped"]
    pool.shutdown()
    assert all(c.quits == 1 for c in plan.made)
    with pytest.raises(SessionUnavailable, match="shut down"):
        pool.submit("late", "http://x/")
    seen = Counter(e.state for e in events if isinstance(e, SessionState))
    assert seen["starting"] >= 2 and seen["healthy"] >= 2 and seen["stopped"] >= 2


def test_sigterm_shuts_the_pool_down_and_exits_143() -> None:
    plan = Plan()
    pool = fake_pool(plan)
    pool.start()
    previous = signal.getsignal(signal.SIGTERM)
    install_signal_handlers(pool)
    with pytest.raises(SystemExit) as caught:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100):  # the handler runs between bytecodes of the main thread
            time.sleep(0.01)
    assert caught.value.code == 128 + signal.SIGTERM
    assert plan.made[0].quits == 1
    assert signal.getsignal(signal.SIGTERM) == previous


# -- real browsers -------------------------------------------------------------------------


@browser_test
def test_pool_of_two_serves_six_concurrent_prompts(practice: ChatServer) -> None:
    practice.set_responder(lambda prompt, model: Reply(
        text=f"answer to {prompt} ({model})", chunk_chars=4, chunk_delay_s=0.03))
    sessions, webchat = browser_configs(practice, size=2)
    events: list[Event] = []
    made: list[OpenAIClient] = []

    def factory(session_id: str) -> OpenAIClient:
        made.append(OpenAIClient(sessions, webchat, session_id=session_id))
        return made[-1]

    before = set(our_browser_pids())
    pool = SessionPool(sessions, webchat, events.append, client_factory=factory)
    with pool:
        pool.start()
        assert [s.state for s in pool.statuses()] == ["healthy", "healthy"]
        results: dict[int, Answer] = {}
        errors: list[BaseException] = []

        def ask(i: int) -> None:
            try:
                results[i] = pool.submit(f"prompt {i}", practice.url + f"?model=m{i}")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors
        assert {i: a.text for i, a in results.items()} == {
            i: f"answer to prompt {i} (m{i})" for i in range(6)}
        assert sorted((p.text, p.model) for p in practice.prompts) == [
            (f"prompt {i}", f"m{i}") for i in range(6)]
        statuses = pool.statuses()
        assert sum(s.prompts for s in statuses) == 6 and all(s.prompts for s in statuses)
        profiles = [client.profile_dir for client in made]
        assert len(profiles) == 2
        pids = [p for p in our_browser_pids() if p not in before]
        assert len(pids) >= 4
    assert not [p for p in pids if is_running(p)]
    assert all(isinstance(p, Path) and not p.exists() for p in profiles)
    assert [s.state for s in pool.statuses()] == ["stopped", "stopped"]
    states = {e.state for e in events if isinstance(e, SessionState)}
    assert {"starting", "healthy", "busy", "stopped"} <= states


@browser_test
def test_browser_killed_mid_answer_is_replaced_and_the_prompt_answered(
    practice: ChatServer,
) -> None:
    practice.set_responder(lambda prompt, model: Reply(
        text="the complete answer", chunk_chars=1, chunk_delay_s=0.1))
    sessions, webchat = browser_configs(practice, size=1)
    made: list[OpenAIClient] = []

    def factory(session_id: str) -> OpenAIClient:
        made.append(OpenAIClient(sessions, webchat, session_id=session_id))
        return made[-1]

    with SessionPool(sessions, webchat, client_factory=factory) as pool:
        pool.start()
        result: list[Answer] = []
        worker = threading.Thread(target=lambda: result.append(pool.submit("q", practice.url)))
        worker.start()
        practice.wait_for_prompts(1)
        doomed = made[0].process_ids()
        for pid in doomed[1:]:  # all Chromium processes of the session
            os.kill(pid, signal.SIGKILL)
        worker.join(60)
        assert [a.text for a in result] == ["the complete answer"]
        assert len(made) == 2 and len(practice.prompts) == 2
        assert not [p for p in doomed if is_running(p)]
        assert pool.statuses()[0].prompts == 1  # counted afresh on the new browser


@browser_test
def test_max_prompts_per_session_recycles_the_browser(practice: ChatServer) -> None:
    sessions, webchat = browser_configs(practice, size=1, max_prompts_per_session=2)
    events: list[Event] = []
    with SessionPool(sessions, webchat, events.append) as pool:
        first = [pool.submit(f"p{i}", practice.url).text for i in range(2)]
        wait_for(lambda: pool.statuses()[0].state == "healthy", timeout=30)
        third = pool.submit("p2", practice.url).text
        assert all(t.startswith("You said 2 characters") for t in [*first, third])
        recycled = [e for e in events if isinstance(e, SessionState) and e.state == "recycling"]
        assert recycled and "prompt limit" in recycled[0].detail
        assert pool.statuses()[0].prompts == 1
