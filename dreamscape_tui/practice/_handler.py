"""HTTP request handler behind the practice chat page.

Speaks just enough of ChatGPT's web protocol for the page to behave like the real
one: the page itself, its assets, a login wall keyed on the session cookie, file
uploads (``POST /backend-api/files?name=NAME``, raw body, answered after
``upload_delay_s`` with ``{"file_id": ...}``), and a ``POST /backend-api/conversation``
that answers with a chunked server-sent-event stream: ``data: {"v": "..."}`` deltas,
then ``data: [DONE]``. Replies that need it add typed events before the first delta:
``{"type": "model", "model_slug": ..., "notice": ...}`` (Free-plan downgrade) and
``{"type": "reasoning", "status": "start"}`` / ``{..., "status": "done", "seconds": N}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from functools import cache
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, quote, urlsplit

from dreamscape_tui.practice.replies import (
    DOWNGRADE_NOTICE,
    ERROR_MESSAGES,
    ERROR_STATUS,
    SESSION_COOKIE_NAME,
    Reply,
    encode_json,
)

if TYPE_CHECKING:
    from dreamscape_tui.practice.server import ChatServer

logger = logging.getLogger(__name__)

CONVERSATION_PATH = "/backend-api/conversation"
ASSET_PREFIX = "/cdn/assets/"
LOGIN_PATH = "/auth/login"
AUTH_SESSION_PATH = "/api/auth/session"
OPENWEBUI_AUTHS_PATH = "/api/v1/auths/"
_PACKAGE = "dreamscape_tui.practice"
_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
_ASSETS: dict[str, str] = {
    "chat.js": _JS,
    "conversation.js": _JS,
    "uploads.js": _JS,
    "editor.js": _JS,
    "markdown.js": _JS,
    "codeviews.js": _JS,
    "dom_classic.js": _JS,
    "dom_transcript.js": _JS,
    "dom_openwebui.js": _JS,
    "owui_editor.js": _JS,
    "owui_code.js": _JS,
    "owui_markdown.js": _JS,
    "chat.css": _CSS,
    "openwebui.css": _CSS,
}
FILES_PATH = "/backend-api/files"
_CONFIG_MARKER = "<!--practice-config-->"
_MAX_BODY_BYTES = 32 * 1024 * 1024
_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in - Practice ChatGPT</title>
<link rel="stylesheet" href="/cdn/assets/chat.css"></head>
<body><div class="login-wall" data-testid="practice-login-page">
<h1>Practice login</h1>
<p>This is the offline practice page: no account is involved.</p>
<form method="post" action="{action}">
<button type="submit" class="btn-primary" data-testid="practice-login-continue">Continue</button>
</form></div></body></html>
"""


class _Stopping(Exception):
    """Raised inside a stream when the server shuts down, to end it at once."""


@cache
def _asset(name: str) -> bytes:
    """Package data, read once: the page ships inside the wheel, not next to it."""
    return resources.files(_PACKAGE).joinpath(name).read_bytes()


def _safe_next(raw: str | None) -> str:
    """Only same-site paths may be redirect targets after login."""
    if raw and raw.startswith("/") and not raw.startswith("//"):
        return raw
    return "/"


def parse_file_ids(payload: Any) -> tuple[str, ...]:
    """Ids of the uploaded files a conversation request attaches to its prompt.

    They sit where ChatGPT puts them: ``messages[-1].metadata.attachments[].id``.
    """
    messages = payload.get("messages") if isinstance(payload, dict) else None
    if not (isinstance(messages, list) and messages and isinstance(messages[-1], dict)):
        return ()
    metadata = messages[-1].get("metadata") or {}
    attachments = metadata.get("attachments") if isinstance(metadata, dict) else None
    if attachments is None:
        return ()
    if not (isinstance(attachments, list) and all(isinstance(a, dict) for a in attachments)):
        raise ValueError("metadata.attachments must be a list of objects")
    ids = tuple(a.get("id") for a in attachments)
    if not all(isinstance(i, str) for i in ids):
        raise ValueError("every attachment needs a string id")
    return cast("tuple[str, ...]", ids)


def parse_prompt(payload: Any) -> tuple[str, str]:
    """Extract ``(prompt, model)`` from a ChatGPT-style conversation request.

    Accepts the real shape (``messages[-1].content.parts``) and, for hand-made
    requests such as ``curl``, a flat ``{"prompt": ..., "model": ...}``.
    """
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    model = payload.get("model") or "auto"
    if not isinstance(model, str):
        raise ValueError("model must be a string")
    messages = payload.get("messages")
    if isinstance(messages, list) and messages:
        parts = messages[-1]["content"]["parts"]
        if not (isinstance(parts, list) and all(isinstance(p, str) for p in parts)):
            raise ValueError("content.parts must be a list of strings")
        return "".join(parts), model
    prompt = payload.get("prompt")
    if isinstance(prompt, str):
        return prompt, model
    raise ValueError("no prompt in request")


class ChatRequestHandler(BaseHTTPRequestHandler):
    """One connection to the practice page (HTTP/1.1, keep-alive)."""

    protocol_version = "HTTP/1.1"
    server_version = "DreamscapePractice/1.0"
    timeout = 30.0  # idle keep-alive connections end on their own

    @property
    def chat(self) -> ChatServer:
        """The :class:`ChatServer` whose state this request reads and records."""
        return cast("ChatServer", getattr(self.server, "chat"))  # noqa: B009

    def setup(self) -> None:
        """Disable Nagle so small stream chunks reach the page without delay."""
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        """Serve requests; a browser that goes away mid-stream is not an error."""
        try:
            super().handle()
        except _Stopping:
            self.close_connection = True
        except OSError as exc:  # BrokenPipe, ConnectionReset, shut-down socket ...
            logger.debug("practice chat client went away: %r", exc)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Route access logs to ``logging`` instead of stderr (it would spoil the TUI)."""
        logger.debug("%s " + format, self.address_string(), *args)

    # -- routing -----------------------------------------------------------------

    def do_GET(self) -> None:
        """Page, assets, health, login page."""
        url = urlsplit(self.path)
        path = url.path
        if path in ("/", "/auth") or path.startswith("/c/"):  # /auth: Open WebUI's login
            self._send_page(url.query)
        elif path == "/health":
            self._send_json(200, {"status": "ok", "prompts": len(self.chat.prompts)})
        elif path == OPENWEBUI_AUTHS_PATH:  # Open WebUI's: 200 with the token, or 401
            self._openwebui_auths()
        elif path == AUTH_SESSION_PATH:  # ChatGPT's own word on the login: a user, or {}
            logged_in = self.chat.is_logged_in(self._cookies())
            self._send_json(200, {"user": {"name": "Practice"}} if logged_in else {})
        elif path.startswith(ASSET_PREFIX) and path[len(ASSET_PREFIX) :] in _ASSETS:
            name = path[len(ASSET_PREFIX) :]
            self._send(200, _ASSETS[name], _asset(name))
        elif path == LOGIN_PATH:
            target = _safe_next(parse_qs(url.query).get("next", [None])[0])
            action = f"{LOGIN_PATH}?next={quote(target, safe='/')}"
            page = _LOGIN_PAGE.format(action=action).encode("utf-8")
            self._send(200, "text/html; charset=utf-8", page)
        elif path == "/favicon.ico":
            self._send(204, "image/x-icon", b"")
        else:
            self._send_json(404, {"detail": "Not Found"})

    def _openwebui_auths(self) -> None:
        """Open WebUI's session check: a valid bearer token or session cookie gets the
        user with its token (the page keeps it in localStorage); anything else 401."""
        bearer = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = self.chat.session_token
        if bearer == token or self.chat.is_logged_in(self._cookies()):
            self._send_json(200, {"id": "practice", "name": "Practice", "role": "admin",
                                  "token": token})
        else:
            self._send_json(401, {"detail": "Not authenticated"})

    def do_POST(self) -> None:
        """Conversation stream and the practice login."""
        url = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            return
        if url.path == CONVERSATION_PATH:
            self._converse(body)
        elif url.path == FILES_PATH:
            self._upload(body, parse_qs(url.query).get("name", [""])[0])
        elif url.path == LOGIN_PATH:
            target = _safe_next(parse_qs(url.query).get("next", [None])[0])
            cookie = (
                f"{SESSION_COOKIE_NAME}={self.chat.session_token}; Path=/; Secure;"
                " HttpOnly; SameSite=Lax"
            )
            headers = {"Location": target, "Set-Cookie": cookie}
            self._send(303, "text/plain; charset=utf-8", b"", headers)
        else:
            self._send_json(404, {"detail": "Not Found"})

    # -- conversation --------------------------------------------------------------

    def _unauthorized(self) -> bool:
        """Answer 401 (and return True) unless the request may use the composer."""
        if self.chat.may_converse(self._cookies()):
            return False
        detail = {"code": "unauthorized", "message": "Unauthorized - Access token is missing"}
        self._send_json(401, {"detail": detail})
        return True

    def _bad_request(self, message: str) -> None:
        self._send_json(400, {"detail": {"code": "bad_request", "message": message}})

    def _upload(self, body: bytes, name: str) -> None:
        """Keep an uploaded file (text, decoded leniently); answer once it is "processed"."""
        if self._unauthorized():
            return
        if not name:
            self._bad_request("a file name is required (?name=)")
            return
        file_id = self.chat.store_file(name, body.decode("utf-8", errors="replace"))
        self._pause(self.chat.upload_delay_s)
        self._send_json(200, {"file_id": file_id, "name": name, "size": len(body)})

    def _converse(self, body: bytes) -> None:
        """Record the prompt, then answer with an error status or an event stream."""
        chat = self.chat
        if self._unauthorized():
            return
        try:
            payload = json.loads(body.decode("utf-8"))
            text, model = parse_prompt(payload)
            file_ids = parse_file_ids(payload)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError) as exc:
            self._bad_request(str(exc))
            return
        try:
            reply = chat.take_reply(text, model, file_ids)
        except KeyError as exc:
            self._bad_request(f"unknown file id {exc.args[0]!r}")
            return
        if reply.error is not None:
            # Like ChatGPT, an error arrives as a status code; the page keeps its
            # stop button up while it waits, so the delay imitates "thinking".
            if chat.wait_or_stopping(reply.delay_before_s):
                raise _Stopping
            detail = {"code": reply.error, "message": ERROR_MESSAGES[reply.error]}
            self._send_json(ERROR_STATUS[reply.error], {"detail": detail})
            return
        self._stream(reply)

    def _stream(self, reply: Reply) -> None:
        """Send ``reply.text`` as SSE deltas in HTTP chunks, honouring its timing."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._pause(reply.delay_before_s)
        if reply.downgrade_to is not None:
            notice = {"type": "model", "model_slug": reply.downgrade_to, "notice": DOWNGRADE_NOTICE}
            self._write_event(notice)
        if reply.thinking_s > 0:
            self._write_event({"type": "reasoning", "status": "start"})
            self._pause(reply.thinking_s)
            self._write_event({"type": "reasoning", "status": "done", "seconds": reply.thinking_s})
        text = reply.text
        pause_at = reply.pause_after_chars
        paused = pause_at is None
        pos = 0
        while pos < len(text):
            if not paused and pause_at is not None and pos >= pause_at:
                self._pause(reply.pause_s)
                paused = True
            end = min(pos + reply.chunk_chars, len(text))
            if not paused and pause_at is not None and pos < pause_at < end:
                end = pause_at  # cut the chunk so the pause falls exactly there
            if pos:
                self._pause(reply.chunk_delay_s)
            self._write_event({"v": text[pos:end]})
            pos = end
        if not paused and pause_at is not None and pause_at <= len(text):
            self._pause(reply.pause_s)
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _pause(self, seconds: float) -> None:
        """Wait between chunks, but end the stream at once if the server stops."""
        if self.chat.wait_or_stopping(seconds):
            raise _Stopping

    def _write_event(self, payload: dict[str, Any]) -> None:
        """One server-sent event (JSON data), as one HTTP chunk."""
        self._write_chunk(b"data: " + encode_json(payload) + b"\n\n")

    def _write_chunk(self, data: bytes) -> None:
        """One HTTP/1.1 chunk, written in a single send so it is not split."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    # -- helpers ---------------------------------------------------------------------

    def _cookies(self) -> dict[str, str]:
        """Request cookies by name (first value wins), tolerant of odd cookies."""
        jar: dict[str, str] = {}
        for header in self.headers.get_all("Cookie") or []:
            for part in header.split(";"):
                name, sep, value = part.strip().partition("=")
                if sep:
                    jar.setdefault(name, value)
        return jar

    def _read_body(self) -> bytes | None:
        """The request body; None (after answering) if it is missing or too large."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > _MAX_BODY_BYTES:
            self.close_connection = True
            self._send_json(413, {"detail": "Request body missing or too large"})
            return None
        return self.rfile.read(length) if length else b""

    def _send_page(self, query: str) -> None:
        """The chat page with its config (DOM, login state, options) filled in server-side."""
        params = parse_qs(query)
        try:
            config = self.chat.page_config(
                params.get("dom", [None])[0], params.get("paste_limit", [None])[0]
            )
        except ValueError as exc:
            self._send(400, "text/plain; charset=utf-8", f"{exc}\n".encode())
            return
        config["loggedIn"] = self.chat.is_logged_in(self._cookies())
        script = (
            '<script id="practice-config" type="application/json">'
            + json.dumps(config).replace("<", "\\u003c")
            + "</script>"
        )
        html = _asset("chat.html").decode("utf-8").replace(_CONFIG_MARKER, script)
        self._send(200, "text/html; charset=utf-8", html.encode("utf-8"))

    def _send_json(self, status: int, payload: object) -> None:
        """A JSON response with an exact Content-Length (keeps keep-alive working)."""
        self._send(status, "application/json", encode_json(payload))

    def _send(
        self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        """A complete, non-streamed response."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
