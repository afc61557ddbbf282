"""Loopback HTTP server for the practice chat page.

The page (``chat.html`` and friends) imitates the ChatGPT web UI so the product's
Selenium client can be tested offline against real Chromium, and so ``dreamscape
demo`` has something to drive. The server is deliberately stdlib-only: it must run in
any environment the app runs in, including CI machines without internet.

Answers are scripted: a :data:`Responder` turns each delivered prompt into a
:class:`Reply` that says what to stream and how (chunk size, delays, a long pause, or
an error state). Every delivered prompt is recorded so tests can assert that the
client delivered it byte for byte.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import deque
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from dreamscape_tui.practice._handler import ChatRequestHandler
from dreamscape_tui.practice.replies import (
    DOMS,
    PASTE_LIMIT,
    SESSION_COOKIE_NAME,
    Attachment,
    Prompt,
    Reply,
    Responder,
    default_responder,
)

logger = logging.getLogger(__name__)

_JOIN_TIMEOUT_S = 5.0
_DEFAULT_PASTE_LIMITS: dict[str, int] = {"codemirror": PASTE_LIMIT, "transcript": PASTE_LIMIT}
"""DOMs whose composer turns a long paste into an attachment by default. Not classic:
the product's client and its tests paste 20 KB prompts into it and expect text."""


def check_dom(dom: str) -> str:
    """``dom`` if it is one the page serves; ``ValueError`` naming the choices otherwise."""
    if dom not in DOMS:
        raise ValueError(f"unknown dom {dom!r}; expected one of: {', '.join(DOMS)}")
    return dom


class ChatServer:
    """The practice chat page and its scripted backend on a loopback port.

    Runs ``http.server.ThreadingHTTPServer`` in a background thread so tests can
    drive a real browser against it from the main thread. State shared with the
    handler threads (prompts, queue, responder, files) is guarded by one lock.

    Page options (public attributes, restored by :meth:`reset`):

    * ``dom``: the DOM served when the URL has no ``?dom=`` (one of :data:`DOMS`);
    * ``require_login``: without the session cookie the page is logged out;
    * ``logged_out_composer``: logged out still gets a working composer (and the
      conversation endpoint answers), next to the login buttons;
    * ``paste_limit``: characters above which a paste becomes an attachment; ``None``
      is the DOM's default (10,000 for codemirror and transcript, off for classic and
      openwebui), 0 turns it off; ``?paste_limit=N`` overrides it per page load;
    * ``upload_delay_s``: how long an upload stays "uploading";
    * ``token_login`` (openwebui): as Open WebUI does, the page is logged in only when
      ``localStorage.token`` passes ``GET /api/v1/auths/``; the session cookie is
      httpOnly, so an imported cookie alone leaves the page on its sign-in form.
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        require_login: bool = False,
        session_token: str = "practice-token",
        dom: str = "classic",
        logged_out_composer: bool = False,
        paste_limit: int | None = None,
        upload_delay_s: float = 0.5,
        token_login: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Configure the server; nothing listens until :meth:`start`."""
        if paste_limit is not None and paste_limit < 0:
            raise ValueError("paste_limit must be >= 0 (0: no limit)")
        if upload_delay_s < 0:
            raise ValueError("upload_delay_s must be >= 0")
        self.require_login = require_login
        self.session_token = session_token
        self.dom = check_dom(dom)
        self.logged_out_composer = logged_out_composer
        self.paste_limit = paste_limit
        self.upload_delay_s = upload_delay_s
        self.token_login = token_login
        self._initial = (
            responder, require_login, session_token, self.dom, logged_out_composer,
            paste_limit, upload_delay_s, token_login,
        )
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._prompt_added = threading.Condition(self._lock)
        self._responder: Responder = responder or default_responder
        self._queue: deque[Reply] = deque()
        self._prompts: list[Prompt] = []
        self._files: dict[str, Attachment] = {}
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> ChatServer:
        """Bind and serve in a background thread; returns ``self`` for chaining."""
        if self._httpd is not None:
            raise RuntimeError("ChatServer is already running")
        self._stopping.clear()
        httpd = _HTTPServer((self._host, self._port), ChatRequestHandler, self)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="practice-chat-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and end every connection, so no thread outlives the server.

        Streams in progress are cut off (the page shows an error); keep-alive
        connections a browser still holds are shut down rather than waited for.
        """
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections(_JOIN_TIMEOUT_S)
        if thread is not None:
            thread.join(_JOIN_TIMEOUT_S)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> ChatServer:
        """Start on entering a ``with`` block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving a ``with`` block, whatever happened inside it."""
        self.stop()

    @property
    def running(self) -> bool:
        """Whether :meth:`start` was called and :meth:`stop` not yet."""
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The bound port (useful when constructed with ``port=0``)."""
        if self._httpd is None:
            raise RuntimeError("ChatServer is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL of the page, e.g. ``http://127.0.0.1:PORT/``."""
        return f"http://{self._host}:{self.port}/"

    def session_cookie(self) -> dict[str, Any]:
        """The login cookie in Selenium ``add_cookie`` form, to get past the wall.

        ``secure`` is required: Chrome refuses ``__Secure-`` cookies without it
        (it accepts them on http://127.0.0.1, a potentially trustworthy origin).
        """
        return {
            "name": SESSION_COOKIE_NAME,
            "value": self.session_token,
            "path": "/",
            "secure": True,
        }

    # -- scripting -------------------------------------------------------------

    def set_responder(self, responder: Responder | None) -> None:
        """Replace the responder; ``None`` restores :func:`default_responder`."""
        with self._lock:
            self._responder = responder or default_responder

    def queue(self, *replies: Reply) -> None:
        """Script the next answers in order; they take precedence over the responder."""
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        """Forget prompts and queued replies; restore constructor settings.

        Lets one server (and one browser) be shared by many tests cheaply.
        """
        (responder, self.require_login, self.session_token, self.dom,
         self.logged_out_composer, self.paste_limit, self.upload_delay_s,
         self.token_login) = self._initial
        with self._lock:
            self._prompts.clear()
            self._queue.clear()
            self._files.clear()
            self._responder = responder or default_responder

    # -- observation -------------------------------------------------------------

    @property
    def prompts(self) -> list[Prompt]:
        """Every prompt the page delivered, in order (a snapshot copy)."""
        with self._lock:
            return list(self._prompts)

    def clear_prompts(self) -> None:
        """Forget the recorded prompts."""
        with self._lock:
            self._prompts.clear()

    def wait_for_prompts(self, count: int, timeout: float = 10.0) -> list[Prompt]:
        """Block until at least ``count`` prompts arrived; raise ``TimeoutError``.

        Tests need this because delivery happens on a handler thread, after the
        browser action that triggered it has already returned.
        """
        with self._prompt_added:
            if not self._prompt_added.wait_for(lambda: len(self._prompts) >= count, timeout):
                raise TimeoutError(f"expected {count} prompt(s), got {len(self._prompts)}")
            return list(self._prompts)

    # -- used by the request handler ------------------------------------------

    def is_logged_in(self, cookies: dict[str, str]) -> bool:
        """Whether a request with these cookies gets past the login wall."""
        if not self.require_login:
            return True
        return cookies.get(SESSION_COOKIE_NAME) == self.session_token

    def may_converse(self, cookies: dict[str, str]) -> bool:
        """Whether a request may send prompts and upload files (logged-out composer too)."""
        return self.logged_out_composer or self.is_logged_in(cookies)

    def page_config(self, query_dom: str | None, query_paste_limit: str | None) -> dict[str, Any]:
        """What the page needs to know, from server options and the URL's query.

        Raises ``ValueError`` for an unknown ``?dom=`` or a bad ``?paste_limit=``.
        """
        dom = check_dom(query_dom) if query_dom else self.dom
        limit = self.paste_limit
        if query_paste_limit is not None:
            limit = int(query_paste_limit)
            if limit < 0:
                raise ValueError("paste_limit must be >= 0")
        if limit is None:
            limit = _DEFAULT_PASTE_LIMITS.get(dom, 0)
        return {"dom": dom, "pasteLimit": limit, "loggedOutComposer": self.logged_out_composer,
                "tokenLogin": self.token_login}

    def store_file(self, name: str, content: str) -> str:
        """Keep an uploaded file until a prompt names it; returns its id."""
        with self._lock:
            file_id = f"file-{len(self._files) + 1:04d}"
            self._files[file_id] = (name, content)
        return file_id

    def take_reply(
        self, text: str, model: str, file_ids: tuple[str, ...] = ()
    ) -> Reply:
        """Record a delivered prompt (with its uploaded files) and decide its answer.

        Raises ``KeyError`` for a file id that was never uploaded (nothing is recorded).
        """
        with self._prompt_added:
            attachments = [self._files[file_id] for file_id in file_ids]
            self._prompts.append(Prompt(text, model, attachments))
            self._prompt_added.notify_all()
            scripted = self._queue.popleft() if self._queue else None
            responder = self._responder
        if scripted is not None:
            return scripted
        try:
            return responder(text, model)
        except Exception:
            logger.exception("practice responder failed; answering with an error state")
            return Reply(error="something_went_wrong")

    def wait_or_stopping(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if the server is stopping (abort the stream)."""
        if seconds <= 0:
            return self._stopping.is_set()
        return self._stopping.wait(seconds)


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections so it can end them all.

    The stock ``block_on_close`` joins handler threads without a timeout, which
    hangs while a browser holds a keep-alive connection open. Instead we shut the
    sockets down ourselves and join with a timeout.
    """

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], handler: Callable[..., Any], chat: ChatServer
    ) -> None:
        """Bind to ``address``; ``chat`` is what handlers consult for state."""
        self.chat = chat
        self._conn_lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}
        super().__init__(address, handler)

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse DNS lookup (slow when offline)."""
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        """Serve the connection on a tracked daemon thread."""
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="practice-chat-connection",
            daemon=True,
        )
        if isinstance(request, socket.socket):
            with self._conn_lock:
                self._connections[thread] = request
        thread.start()

    def _serve_connection(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        """Run the stock per-connection loop, then forget the connection."""
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._conn_lock:
                self._connections.pop(threading.current_thread(), None)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        """Stay quiet about clients that went away; log anything else."""
        logger.debug("practice chat connection from %s failed", client_address, exc_info=True)

    def close_connections(self, timeout: float) -> None:
        """Shut down every open connection and wait for its thread to finish."""
        with self._conn_lock:
            connections = dict(self._connections)
        for sock in connections.values():
            with contextlib.suppress(OSError):  # already closed by the peer
                sock.shutdown(socket.SHUT_RDWR)
        for thread in connections:
            thread.join(timeout)
        leftover = [t for t in connections if t.is_alive()]
        if leftover:
            logger.warning("%d practice chat connection(s) did not end", len(leftover))
