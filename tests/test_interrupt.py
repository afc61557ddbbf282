"""Interruptible model calls (issue 11, item 6): a cancel ends a call in flight in < 1 s.

Real parts only: loopback HTTP servers that never answer (or trickle an answer) for the
openai-api kind, and the real pool with headless Chromium on the practice page for the
webchat kind. Each interrupt is set by a timer thread after 0.5 s; the call must raise
``ModelCallInterrupted`` (not a ModelError) within 1 s of the set.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from dreamscape_tui.core.config import Config, ModelConfig
from dreamscape_tui.core.errors import ModelCallInterrupted, ModelError, RateLimited
from dreamscape_tui.core.interrupt import raise_if_set, wait_or_interrupt
from dreamscape_tui.core.pool import SessionPool
from dreamscape_tui.core.registry import ModelRegistry
from dreamscape_tui.practice import ChatServer, Reply
from tests.browser_fixtures import browser_configs, browser_test
from tests.fake_openai import Scripted, fake_openai_server

CONTRACT_S = 1.0  # the bound between the set and the call's end
REGISTRY = ModelRegistry(Config())


class SetLater:
    """A ``threading.Event`` set by a timer thread ``delay_s`` after ``ready()`` returns."""

    def __init__(self, delay_s: float = 0.5, ready: Callable[[], object] | None = None) -> None:
        self.event = threading.Event()
        self.set_at: float | None = None

        def run() -> None:
            if ready is not None:
                ready()
            time.sleep(delay_s)
            self.set_at = time.monotonic()
            self.event.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()


def assert_interrupted(call: Callable[[], object], later: SetLater) -> None:
    """``call`` raises ModelCallInterrupted, and does so within the contract of the set."""
    with pytest.raises(ModelCallInterrupted) as caught:
        call()
    ended = time.monotonic()
    assert not isinstance(caught.value, ModelError)
    assert later.set_at is not None, "the call ended before the interrupt was set"
    assert ended - later.set_at < CONTRACT_S


def request_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "openai-api-request" and t.is_alive()]


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    until = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= until:
            return False
        time.sleep(0.02)
    return True


# -- a loopback HTTP server that never finishes its answer -----------------------------


@dataclass
class SlowServer:
    """Accepts requests and never completes them; ``closed`` is set once the client
    closes the connection."""

    mode: str  # "hang": never answers; "trickle": headers, then a byte every 50 ms
    url: str = ""
    requests: int = 0
    closed: threading.Event = field(default_factory=threading.Event)


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


def _peer_closed(conn: socket.socket) -> bool:
    """Whether the client has closed its side (EOF or a reset), without blocking long."""
    conn.settimeout(0.05)
    try:
        return conn.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def _serve_one(server: SlowServer, conn: socket.socket) -> None:
    with conn:
        _read_request(conn)
        server.requests += 1
        if server.mode == "trickle":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000000\r\n\r\n{")
        for _ in range(400):  # 20 s at most: the test fails long before
            try:
                if server.mode == "trickle":
                    conn.sendall(b" ")
                if _peer_closed(conn):
                    server.closed.set()
                    return
            except OSError:
                server.closed.set()
                return


@contextlib.contextmanager
def slow_server(mode: str) -> Iterator[SlowServer]:
    server = SlowServer(mode)
    listener = socket.create_server(("127.0.0.1", 0))
    server.url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                threading.Thread(target=_serve_one, args=(server, conn), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        listener.close()


def api_model(url: str) -> ModelConfig:
    return ModelConfig(name="local", kind="openai-api", base_url=url, model="coder",
                       timeout_s=30.0)


# -- the helpers --------------------------------------------------------------------------


def test_raise_if_set_and_wait_or_interrupt() -> None:
    event = threading.Event()
    raise_if_set(None)
    raise_if_set(event)
    started = time.monotonic()
    wait_or_interrupt(0.15, event)
    assert time.monotonic() - started >= 0.15
    later = SetLater(0.2)
    assert_interrupted(lambda: wait_or_interrupt(30.0, later.event), later)
    assert issubclass(ModelCallInterrupted, Exception)
    assert not issubclass(ModelCallInterrupted, ModelError)


# -- openai-api ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hang", "trickle"])
def test_http_request_in_flight_is_interrupted_and_its_connection_closed(mode: str) -> None:
    with slow_server(mode) as server:
        later = SetLater(0.5)
        assert_interrupted(lambda: REGISTRY.process_with_model(
            None, "fix it", api_model(server.url), interrupt=later.event), later)
        assert server.requests == 1
        assert server.closed.wait(2.0), "the server never saw the connection closed"
        assert wait_for(lambda: not request_threads()), "the request thread outlived the call"


def test_http_interrupt_already_set_sends_nothing() -> None:
    with slow_server("hang") as server:
        event = threading.Event()
        event.set()
        with pytest.raises(ModelCallInterrupted):
            REGISTRY.process_with_model(None, "fix it", api_model(server.url), interrupt=event)
        time.sleep(0.2)
        assert server.requests == 0


def test_http_with_an_interrupt_never_set_answers_and_fails_as_before() -> None:
    never = threading.Event()
    with fake_openai_server() as api:
        model = api_model(api.url)
        answer = REGISTRY.process_with_model(None, "hi", model, interrupt=never)
        assert answer.text == "echo: hi" and answer.model == "local"
        api.queue(Scripted(429, b'{"error": {"message": "slow down"}}',
                           {"Retry-After": "7"}))
        with pytest.raises(RateLimited, match="retry after 7 s: slow down"):
            REGISTRY.process_with_model(None, "hi", model, interrupt=never)
    assert wait_for(lambda: not request_threads())


# -- webchat through the real pool ---------------------------------------------------------


@pytest.fixture(scope="module")
def pool(chat_server: ChatServer) -> Iterator[SessionPool]:
    """One real browser session (pool of size 1) on the practice page."""
    sessions, webchat = browser_configs(chat_server, size=1)
    with SessionPool(sessions, webchat) as started:
        started.start()
        yield started


def chat_model(practice: ChatServer) -> ModelConfig:
    return ModelConfig(name="practice", kind="webchat", url=practice.url, timeout_s=30.0)


def stop_shown(pool: SessionPool) -> bool:
    with pool.lease(timeout=1.0) as session:
        driver: Any = session.client._require()
        return bool(driver.find_elements(By.CSS_SELECTOR, '[data-testid="stop-button"]'))


@browser_test
def test_webchat_answer_streaming_is_interrupted_and_the_session_stays_usable(
    pool: SessionPool, practice: ChatServer,
) -> None:
    practice.queue(Reply(text="interrupted " * 200, chunk_chars=2, chunk_delay_s=0.05))
    later = SetLater(0.5, ready=lambda: practice.wait_for_prompts(1))
    assert_interrupted(lambda: REGISTRY.process_with_model(
        pool, "a long one", chat_model(practice), interrupt=later.event), later)
    assert [s.state for s in pool.statuses()] == ["healthy"]  # released, not recycled
    assert wait_for(lambda: not stop_shown(pool)), "the answer was not stopped"
    practice.queue(Reply(text="second answer"))
    answer = REGISTRY.process_with_model(pool, "the next one", chat_model(practice))
    assert answer.text == "second answer"
    assert [p.text for p in practice.prompts] == ["a long one", "the next one"]


@browser_test
def test_webchat_wait_for_the_answer_to_start_is_interrupted(
    pool: SessionPool, practice: ChatServer,
) -> None:
    practice.queue(Reply(text="late", delay_before_s=20.0))
    later = SetLater(0.5, ready=lambda: practice.wait_for_prompts(1))
    assert_interrupted(lambda: REGISTRY.process_with_model(
        pool, "think long", chat_model(practice), interrupt=later.event), later)
    assert [s.state for s in pool.statuses()] == ["healthy"]


@browser_test
def test_waiting_for_a_lease_is_interrupted(pool: SessionPool, practice: ChatServer) -> None:
    with pool.lease(timeout=5.0):  # the only session, held by another caller
        later = SetLater(0.5)
        assert_interrupted(lambda: REGISTRY.process_with_model(
            pool, "queued", chat_model(practice), interrupt=later.event), later)
    assert practice.prompts == []
    assert [s.state for s in pool.statuses()] == ["healthy"]


@browser_test
def test_webchat_with_an_interrupt_never_set_answers(pool: SessionPool,
                                                     practice: ChatServer) -> None:
    practice.queue(Reply(text="the answer", chunk_chars=3, chunk_delay_s=0.02))
    answer = REGISTRY.process_with_model(pool, "hello", chat_model(practice),
                                         interrupt=threading.Event())
    assert (answer.text, answer.model) == ("the answer", "practice")
