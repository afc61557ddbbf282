"""The ``openai-api`` model kind: ``POST {base_url}/chat/completions`` with the stdlib.

Ollama, llama.cpp's server, vLLM and OpenAI all serve this endpoint, so one small
client covers them without a dependency. It returns the same ``Answer`` and raises the
same typed errors as the browser client, so the heal loop cannot tell them apart.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
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


def chat_completion(model: ModelConfig, prompt: str) -> Answer:
    """Ask ``model`` one question; raise a ModelError subclass on any failure."""
    body = json.dumps({
        "model": model.model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": False,
    }).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    key = _api_key(model)
    if key:
        headers["Authorization"] = f"Bearer {key}"
    url = endpoint(model.base_url)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=model.timeout_s) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise _http_error(model, exc) from None
    except TimeoutError:
        raise AnswerTimeout(
            f"model {model.name!r}: no answer within {model.timeout_s:g} s") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(f"model {model.name!r}: cannot reach {url}: {reason}") from None
    text = _content(model, raw)
    blocks = tuple(block.code for block in fenced_blocks(text))
    return Answer(text=text, code_blocks=blocks, seconds=time.monotonic() - started,
                  model=model.name)


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


def _content(model: ModelConfig, raw: bytes) -> str:
    """The assistant message of a chat-completions response, validated."""
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
    return content
