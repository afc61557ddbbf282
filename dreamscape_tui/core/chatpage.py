"""The chat page as the client sees it: page snapshots and small parsers.

No selenium here (only :mod:`dreamscape_tui.core.client` may import it); these are the
pieces of docs/architecture.md#one-prompt that can be read and tested without a
browser: how a snapshot is interpreted, how error texts are classified and which
cookies fit which host. The
scripts themselves are in :mod:`dreamscape_tui.core.pagejs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "PageState",
    "classify_page_error",
    "cookie_for_host",
    "model_from_url",
    "net_error",
]

@dataclass(frozen=True, slots=True)
class PageState:
    """One snapshot of the chat page, taken by ``pagejs.STATE_JS`` in a single round trip."""

    url: str
    input: bool
    wall: bool
    stop: bool
    send: bool
    assistants: int
    errors: int
    error_text: str
    body: str
    title: str = ""
    done: bool = False  # the profile's positive end signal shows on the last answer
    text_length: int = 0  # the last answer's text, to tell when it stops changing
    text_tail: str = ""
    model: str = ""  # the model the page says answered
    notice: str = ""  # a downgrade notice ("Responses will use another model")
    uploading: int = 0
    attachments: int = 0
    challenge: bool = False  # a bot challenge ("Just a moment...") instead of the page

    @classmethod
    def from_script(cls, raw: dict[str, Any]) -> PageState:
        """Parse what ``STATE_JS`` returned."""
        return cls(
            url=str(raw.get("url", "")), input=bool(raw.get("input")),
            wall=bool(raw.get("wall")), stop=bool(raw.get("stop")), send=bool(raw.get("send")),
            assistants=int(raw.get("assistants", 0)), errors=int(raw.get("errors", 0)),
            error_text=str(raw.get("error_text", "")), body=str(raw.get("body", "")),
            title=str(raw.get("title", "")), done=bool(raw.get("done")),
            text_length=int(raw.get("text_length", 0)), text_tail=str(raw.get("text_tail", "")),
            model=str(raw.get("model", "")), notice=str(raw.get("notice", "")),
            uploading=int(raw.get("uploading", 0)), attachments=int(raw.get("attachments", 0)),
            challenge=bool(raw.get("challenge")),
        )

    @property
    def unreachable(self) -> bool:
        """Chromium shows its own error page: the site could not be loaded at all."""
        return self.url.startswith("chrome-error:")


def net_error(page: PageState) -> str:
    """The ``ERR_...`` code Chromium's error page shows, for a one-line message."""
    words = [w for w in page.body.split() if w.startswith(("ERR_", "net::ERR_"))]
    return words[-1] if words else "the page could not be loaded"


def model_from_url(url: str) -> str:
    """The model a chat URL selects (``?model=NAME``), or "" when it picks none."""
    return parse_qs(urlsplit(url).query).get("model", [""])[0]


_RATE_LIMIT = re.compile(
    r"too many requests|reached (?:our|your|the) (?:\w+ )?limit|rate.?limit|usage (?:cap|limit)"
    r"|limit of messages|\b429\b",
    re.IGNORECASE,
)


def classify_page_error(text: str) -> Literal["rate_limited", "page_error"]:
    """What an error element's text means: the service's rate limit, or another failure."""
    return "rate_limited" if _RATE_LIMIT.search(text) else "page_error"


def cookie_for_host(cookie: dict[str, Any], host: str) -> dict[str, Any] | None:
    """The cookie as ``add_cookie`` wants it on ``host``, or None if it belongs elsewhere.

    A cookie for exactly this host is added host-only (no domain): Chrome rejects an
    explicit domain on IP hosts such as the practice page's 127.0.0.1.
    """
    prepared = {k: v for k, v in cookie.items() if k not in ("hostOnly",)}
    domain = str(prepared.get("domain") or "").lower()
    if not domain:
        return prepared
    bare = domain.lstrip(".")
    if host == bare:
        if not domain.startswith("."):
            prepared.pop("domain")
        return prepared
    if domain.startswith(".") and host.endswith("." + bare):
        return prepared
    return None
