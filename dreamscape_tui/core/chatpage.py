"""The chat page as the client sees it: page scripts, page snapshots, small parsers.

No selenium here (only :mod:`dreamscape_tui.core.client` may import it); these are the
page-specific pieces of DESIGN §6 that can be read and tested without a browser: the
scripts the client runs (each wait tick is one ``STATE_JS`` round trip), how a snapshot
is interpreted, how error texts are classified and which cookies fit which host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from dreamscape_tui.core.config import SelectorsConfig

__all__ = [
    "CLICK_JS",
    "INSERT_JS",
    "READ_JS",
    "STATE_JS",
    "PageState",
    "classify_page_error",
    "cookie_for_host",
    "model_from_url",
    "net_error",
    "selector_map",
]

STATE_JS = """
const s = arguments[0];
const all = (sel) => { try { return document.querySelectorAll(sel); } catch (e) { return []; } };
const errors = all(s.error_message);
const last = errors.length ? errors[errors.length - 1].textContent : '';
return {url: location.href, input: all(s.prompt_input).length > 0,
        wall: all(s.login_wall).length > 0, stop: all(s.stop_button).length > 0,
        send: all(s.send_button).length > 0, assistants: all(s.assistant_message).length,
        errors: errors.length, error_text: (last || '').trim(),
        body: location.href.startsWith('chrome-error:') && document.body
              ? document.body.innerText.slice(0, 500) : ''};
"""

# Paste first (what a user does; ProseMirror keeps it exactly), then execCommand, then a
# native value setter for plain textareas of self-hosted chat UIs.
INSERT_JS = """
const [sel, text] = arguments;
let el = null;
try { el = document.querySelector(sel); } catch (e) { return 'missing'; }
if (!el) return 'missing';
const isField = el.tagName === 'TEXTAREA' || el.tagName === 'INPUT';
const has = () => (isField ? el.value : el.textContent).length > 0;
el.focus();
const data = new DataTransfer();
data.setData('text/plain', text);
el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                               cancelable: true}));
if (has()) return 'paste';
if (document.execCommand('insertText', false, text) && has()) return 'execCommand';
if (isField) {
  const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement : HTMLInputElement;
  Object.getOwnPropertyDescriptor(proto.prototype, 'value').set.call(el, text);
  el.dispatchEvent(new Event('input', {bubbles: true}));
  if (has()) return 'value';
}
return 'failed';
"""

CLICK_JS = """
let el = null;
try { el = document.querySelector(arguments[0]); } catch (e) { return false; }
if (!el) return false;
el.click();
return true;
"""

READ_JS = """
const [msgSel, codeSel] = arguments;
const msgs = document.querySelectorAll(msgSel);
const m = msgs[msgs.length - 1];
if (!m) return null;
let code = [];
try { code = Array.from(m.querySelectorAll(codeSel), (c) => c.textContent); } catch (e) {}
return {text: m.innerText || m.textContent || '', code: code};
"""


@dataclass(frozen=True, slots=True)
class PageState:
    """One snapshot of the chat page, taken by ``STATE_JS`` in a single round trip."""

    url: str
    input: bool
    wall: bool
    stop: bool
    send: bool
    assistants: int
    errors: int
    error_text: str
    body: str

    @classmethod
    def from_script(cls, raw: dict[str, Any]) -> PageState:
        """Parse what ``STATE_JS`` returned."""
        return cls(
            url=str(raw.get("url", "")), input=bool(raw.get("input")),
            wall=bool(raw.get("wall")), stop=bool(raw.get("stop")), send=bool(raw.get("send")),
            assistants=int(raw.get("assistants", 0)), errors=int(raw.get("errors", 0)),
            error_text=str(raw.get("error_text", "")), body=str(raw.get("body", "")),
        )

    @property
    def unreachable(self) -> bool:
        """Chromium shows its own error page: the site could not be loaded at all."""
        return self.url.startswith("chrome-error:")


def net_error(page: PageState) -> str:
    """The ``ERR_...`` code Chromium's error page shows, for a one-line message."""
    words = [w for w in page.body.split() if w.startswith(("ERR_", "net::ERR_"))]
    return words[-1] if words else "the page could not be loaded"


def selector_map(selectors: SelectorsConfig) -> dict[str, str]:
    """The selectors ``STATE_JS`` needs, by role."""
    return {
        "prompt_input": selectors.prompt_input, "send_button": selectors.send_button,
        "stop_button": selectors.stop_button, "assistant_message": selectors.assistant_message,
        "login_wall": selectors.login_wall, "error_message": selectors.error_message,
    }


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
