"""The ``openai-api`` model kind: ``POST {base_url}/chat/completions`` with the stdlib.

Ollama, llama.cpp's server, vLLM and OpenAI all serve this endpoint, so one small
client covers them without a dependency. It returns the same ``Answer`` and raises the
same typed errors as the browser client, so the heal loop cannot tell them apart.

urllib's blocking read cannot be interrupted, so a call given an
:class:`~dreamscape_tui.core.interrupt.Interrupt` runs the request in a daemon thread
and waits for it in :data:`~dreamscape_tui.core.interrupt.POLL_S` ticks; on an
interrupt it shuts the request's socket down, which ends that thread's read at once
(no thread is left waiting out the model's timeout), and raises ModelCallInterrupted.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from dreamscape_tui.core.answer import Answer, fenced_blocks
from dreamscape_tui.core.config import ModelConfig
from dreamscape_tui.core.errors import (
    AnswerTimeout,
    BadResponse,
    ModelError,
    RateLimited,
    UsageError,
)
from dreamscape_tui.core.interrupt import POLL_S, Interrupt, raise_if_set


def endpoint(base_url: str) -> str:
    """The chat-completions URL for a base URL given with or without the path."""
    base = base_url.rstrip("/")
    return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


def _api_key(model: ModelConfig) -> str | None:
    if not model.api_key_env:
        return None
    key = os.environ.get(model.api_key_env)
    if not key:
        raise UsageError(
            f"model {model.name!r}: environment variable {model.api_key_env} is not set"
        )
    return key


def chat_completion(model: ModelConfig, prompt: str, *,
                    interrupt: Interrupt | None = None) -> Answer:
    """Ask ``model`` one question; raise a ModelError subclass on any failure, or
    ModelCallInterrupted within a poll tick of ``interrupt`` being set."""
    request = _request(model, prompt)
    started = time.monotonic()
    if interrupt is None:
        raw = _fetch(model, request, urllib.request.urlopen)
    else:
        raw = _fetch_interruptible(model, request, interrupt)
    text, tokens_in, tokens_out = _content(model, raw)
    blocks = tuple(block.code for block in fenced_blocks(text))
    return Answer(text=text, code_blocks=blocks, seconds=time.monotonic() - started,
                  model=model.name, tokens_in=tokens_in, tokens_out=tokens_out)


def _request(model: ModelConfig, prompt: str) -> urllib.request.Request:
    """The POST of one prompt, with the API key when the model names one."""
    body = json.dumps({
        "model": model.model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": False,
    }).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    key = _api_key(model)
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return urllib.request.Request(endpoint(model.base_url), data=body, headers=headers,
                                  method="POST")


def _fetch(model: ModelConfig, request: urllib.request.Request,
           open_url: Callable[..., Any]) -> bytes:
    """The response body of ``request`` opened with ``open_url`` (``urlopen`` or an
    opener's ``open``); transport and HTTP failures as ModelErrors."""
    try:
        with open_url(request, timeout=model.timeout_s) as response:
            raw: bytes = response.read()
            return raw
    except urllib.error.HTTPError as exc:
        raise _http_error(model, exc) from None
    except TimeoutError:
        raise AnswerTimeout(
            f"model {model.name!r}: no answer within {model.timeout_s:g} s") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(
            f"model {model.name!r}: cannot reach {request.full_url}: {reason}") from None


def _fetch_interruptible(model: ModelConfig, request: urllib.request.Request,
                         interrupt: Interrupt) -> bytes:
    """:func:`_fetch` in a daemon thread, waited for in POLL_S ticks; on an interrupt
    its socket is shut down (so the thread ends now) and ModelCallInterrupted raised."""
    raise_if_set(interrupt)
    sockets = _Sockets()
    opener = urllib.request.build_opener(_TrackedHTTPHandler(sockets),
                                         _TrackedHTTPSHandler(sockets))
    outcome: queue.Queue[tuple[bytes, BaseException | None]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            outcome.put((_fetch(model, request, opener.open), None))
        except BaseException as exc:  # handed to the caller, whatever it is
            outcome.put((b"", exc))

    threading.Thread(target=run, name="openai-api-request", daemon=True).start()
    while True:
        try:
            raw, error = outcome.get(timeout=POLL_S)
        except queue.Empty:
            if interrupt.is_set():
                sockets.shut()
                raise_if_set(interrupt, f"the request to model {model.name!r}")
            continue
        if error is not None:
            raise error
        return raw


class _Sockets:
    """The sockets one request opened, so another thread can end its blocking reads.

    urllib hides its connection (and drops ``conn.sock`` once the headers are read),
    so the connections it makes record their socket here as they connect; a socket
    connecting after :meth:`shut` is shut at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._shut = False

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.append(sock)
            shut = self._shut
        if shut:
            _shut_down(sock)

    def shut(self) -> None:
        """Shut every socket down (both ways): a blocked read returns, the peer sees EOF."""
        with self._lock:
            self._shut = True
            sockets = list(self._open)
        for sock in sockets:
            _shut_down(sock)


def _shut_down(sock: socket.socket) -> None:
    """``shutdown(SHUT_RDWR)`` at the TCP level (under TLS too): unlike ``close`` it
    wakes a thread blocked reading the socket."""
    with contextlib.suppress(OSError, ValueError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _tracked(base: type[http.client.HTTPConnection], sockets: _Sockets) -> Any:
    """``base`` whose ``connect`` records the socket in ``sockets``."""

    class Tracked(base):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            super().connect()
            sockets.add(self.sock)

    return Tracked


class _TrackedHTTPHandler(urllib.request.HTTPHandler):
    """urllib's HTTP handler, its connections recording their sockets."""

    def __init__(self, sockets: _Sockets) -> None:
        super().__init__()
        self._connection = _tracked(http.client.HTTPConnection, sockets)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)


class _TrackedHTTPSHandler(urllib.request.HTTPSHandler):
    """urllib's HTTPS handler (default TLS context), its connections recording their
    sockets."""

    def __init__(self, sockets: _Sockets) -> None:
        super().__init__()
        self._connection = _tracked(http.client.HTTPSConnection, sockets)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)


def _http_error(model: ModelConfig, exc: urllib.error.HTTPError) -> ModelError:
    detail = _error_detail(exc.read())
    if exc.code == 429:
        retry = exc.headers.get("Retry-After")
        after = f"; retry after {retry} s" if retry else ""
        return RateLimited(f"model {model.name!r}: rate limited (HTTP 429){after}: {detail}")
    if exc.code in (401, 403):
        return ModelError(f"model {model.name!r}: not authorised (HTTP {exc.code}): {detail}"
                          " - check api_key_env")
    return ModelError(f"model {model.name!r}: HTTP {exc.code}: {detail}")


def _error_detail(raw: bytes) -> str:
    """The service's error message, whatever shape it came in, kept to one line."""
    try:
        data: Any = json.loads(raw)
        message = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(message, dict):
            message = message.get("message", message)
        text = str(message)
    except ValueError:
        text = raw.decode("utf-8", "replace")
    return " ".join(text.split())[:300] or "no detail"


def _content(model: ModelConfig, raw: bytes) -> tuple[str, int, int]:
    """The assistant message of a chat-completions response, validated, and its
    ``usage`` (prompt and completion tokens; 0 where the server reports none)."""
    try:
        data = json.loads(raw)
    except ValueError:
        snippet = " ".join(raw.decode("utf-8", "replace").split())[:80]
        raise BadResponse(f"model {model.name!r}: response is not JSON: {snippet!r}") from None
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise BadResponse(
            f"model {model.name!r}: response has no choices[0].message.content"
        ) from None
    if not isinstance(content, str):
        raise BadResponse(f"model {model.name!r}: message content is not text")
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return content, 0, 0
    return content, _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))


def _count(value: object) -> int:
    """A token count from ``usage`` (servers send ints, some floats or null)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0
    return int(value)
