"""Login cookies: import what browser cookie exporters write, store it privately.

``dreamscape login --cookies FILE.json`` takes the JSON of EditThisCookie / Cookie-Editor
(or Selenium's own ``get_cookies()`` shape) and keeps it for the pool, which adds the
cookies to every browser session it starts. Cookie values are credentials: they are
written with mode 0600 only, and never appear in logs or error messages (errors name
the entry's index and cookie name, which are not secret).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dreamscape_tui.core.atomicfile import write_atomically
from dreamscape_tui.core.chatpage import cookie_for_host
from dreamscape_tui.core.config import SessionsConfig
from dreamscape_tui.core.errors import UsageError

__all__ = ["default_cookies_path", "load_cookies", "normalize_cookies", "save_cookies"]

_SAME_SITE = {"no_restriction": "None", "none": "None", "lax": "Lax", "strict": "Strict"}


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def normalize_cookies(raw: Any) -> list[dict[str, Any]]:
    """Selenium ``add_cookie`` dicts from an exporter's JSON (already parsed).

    Accepts a list of cookie objects or ``{"cookies": [...]}``. Keeps name, value,
    domain, path, secure, httpOnly, sameSite and expiry; ``expirationDate`` (float
    seconds) becomes int ``expiry``, dropped for session cookies; sameSite is mapped to
    Selenium's spelling or dropped when unspecified (and dropped for a non-secure
    cookie, which Chrome would reject with SameSite=None). Unknown keys are dropped.
    Raises UsageError (one line, no cookie values) for malformed input.
    """
    if isinstance(raw, dict) and "cookies" in raw:
        raw = raw["cookies"]
    if not isinstance(raw, list):
        raise UsageError(
            f"cookies: expected a JSON list of cookie objects (or {{\"cookies\": [...]}}), "
            f"got {_json_type(raw)}"
        )
    return [_normalize_one(index, entry) for index, entry in enumerate(raw)]


def _normalize_one(index: int, entry: Any) -> dict[str, Any]:
    where = f"cookies[{index}]"
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: expected a cookie object, got {_json_type(entry)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise UsageError(f"{where}: \"name\" must be a non-empty string")
    where = f"{where} ({name})"
    secret = entry.get("value")
    if not isinstance(secret, str):
        raise UsageError(f"{where}: \"value\" must be a string, got {_json_type(secret)}")
    cookie: dict[str, Any] = {"name": name, "value": secret}
    for key in ("domain", "path"):
        value = entry.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise UsageError(f"{where}: \"{key}\" must be a string, got {_json_type(value)}")
        if value:
            cookie[key] = value
    for key in ("secure", "httpOnly"):
        value = entry.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise UsageError(f"{where}: \"{key}\" must be true or false, got {_json_type(value)}")
        cookie[key] = value
    if entry.get("hostOnly") is True and "domain" in cookie:
        cookie["domain"] = cookie["domain"].lstrip(".")
    same_site = _same_site(where, entry.get("sameSite"))
    if same_site and not (same_site == "None" and not cookie.get("secure")):
        cookie["sameSite"] = same_site
    expiry = _expiry(where, entry)
    if expiry is not None:
        cookie["expiry"] = expiry
    return cookie


def _same_site(where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"{where}: \"sameSite\" must be a string, got {_json_type(value)}")
    return _SAME_SITE.get(value.strip().lower())


def _expiry(where: str, entry: dict[str, Any]) -> int | None:
    """Seconds since the epoch, or None for a session cookie."""
    if entry.get("session") is True:
        return None
    for key in ("expirationDate", "expiry", "expires"):
        value = entry.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(f"{where}: \"{key}\" must be a number, got {_json_type(value)}")
        return int(value) if value > 0 else None  # Playwright writes -1 for session cookies
    return None


def default_cookies_path(sessions: SessionsConfig) -> Path:
    """``[sessions] cookies_file``, else ``$XDG_CONFIG_HOME/dreamscape/cookies.json``."""
    if sessions.cookies_file:
        return Path(sessions.cookies_file).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "dreamscape" / "cookies.json"


def save_cookies(path: Path | str, cookies: list[dict[str, Any]]) -> Path:
    """Write ``cookies`` as JSON readable by the owner only (0600), atomically.

    The file is created 0600 from the first byte (``mkstemp``, never a umask-dependent
    ``open``), renamed over the old one (``write_atomically``), and its parent directory is
    created 0700, so a crash never leaves the credentials half-written or exposed.
    """
    target = Path(path).expanduser()
    parent = target.parent
    try:
        if not parent.exists():
            parent.mkdir(parents=True, mode=0o700)
            os.chmod(parent, 0o700)
        payload = json.dumps(cookies, indent=2) + "\n"
        write_atomically(target, [payload.encode("utf-8")], mode=0o600)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write cookies: {exc.strerror or exc}") from None
    return target


def load_cookies(path: Path | str) -> list[dict[str, Any]]:
    """Read and normalize a cookies file; UsageError names the file, never a value."""
    source = Path(path).expanduser()
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"{source}: no cookies file (import one with `dreamscape login --cookies FILE`)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise UsageError(f"{source}: cannot read cookies: {reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    try:
        return normalize_cookies(data)
    except UsageError as exc:
        raise UsageError(f"{source}: {exc}") from None


def cookies_by_site(cookies: list[dict[str, Any]],
                    sites: Sequence[str]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each site with the saved cookies whose domain fits its host (cookies are applied
    per cookie domain: a cookie for another site is never sent to this one)."""
    grouped = []
    for site in sites:
        host = (urlsplit(site).hostname or "").lower()
        fitting = [c for c in cookies if cookie_for_host(c, host) is not None]
        if fitting:
            grouped.append((site, fitting))
    return grouped
