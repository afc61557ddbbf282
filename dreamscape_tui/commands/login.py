"""``dreamscape login``: store the chat site's login cookies for the pool.

``--cookies FILE.json`` imports what browser cookie exporters write; ``--browser``
opens a visible browser (on $DISPLAY, on a virtual display when Xvfb is installed, or
the user's own attached one) and saves the cookies once the login wall is gone. Cookies
are written with mode 0600 and never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

from dreamscape_tui.commands.common import config_for
from dreamscape_tui.core import display
from dreamscape_tui.core.client import OpenAIClient
from dreamscape_tui.core.config import Config, SessionsConfig
from dreamscape_tui.core.cookies import default_cookies_path, normalize_cookies, save_cookies
from dreamscape_tui.core.errors import UsageError

BROWSER_LOGIN_TIMEOUT_S = 600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cookies", metavar="FILE.json",
                        help="import cookies exported from a logged-in browser")
    parser.add_argument("--browser", action="store_true",
                        help="log in by hand in a visible browser (needs a display)")


def import_cookie_file(path: Path) -> list[dict[str, object]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON: line {getattr(exc, 'lineno', '?')}") from None
    try:
        return normalize_cookies(raw)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None


def visible_sessions(sessions: SessionsConfig) -> SessionsConfig:
    """Sessions config for a browser the user can log in to: attached (their own), on
    $DISPLAY, else on our virtual display (Xvfb) when installed; else a UsageError."""
    if sessions.debugger_address:
        return sessions
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return replace(sessions, headless=False)
    if display.browser_mode("auto") == "xvfb":
        return replace(sessions, headless="auto")
    raise UsageError("--browser needs a display: none here (e.g. over SSH) and no Xvfb "
                     "(apt install xvfb, then watch it with x11vnc); or attach to your own "
                     "browser ([sessions] debugger_address), or export cookies from a "
                     "logged-in browser and use --cookies FILE.json")


def login_in_browser(config: Config) -> list[dict[str, object]]:
    """Open a visible browser on home_url and wait until the user has logged in."""
    sessions = visible_sessions(config.sessions)
    client = OpenAIClient(sessions, config.webchat, session_id="login")
    on_xvfb = not sessions.debugger_address and display.browser_mode(sessions.headless) == "xvfb"
    screen = display.acquire_display() if on_xvfb else ""
    try:
        client.start()
        if screen:
            print(f"The browser runs on virtual display {screen}: see it with "
                  f"`x11vnc -display {screen} -localhost -nopw` here and a VNC viewer on "
                  "localhost:5900 through `ssh -L 5900:127.0.0.1:5900 THIS-HOST`.")
        print(f"Log in in the browser window ({config.sessions.home_url}); waiting...")
        deadline = time.monotonic() + BROWSER_LOGIN_TIMEOUT_S
        while time.monotonic() < deadline:
            if client.validate_session().state == "healthy":
                return client.export_cookies()
            time.sleep(2.0)
        raise UsageError(f"not logged in after {BROWSER_LOGIN_TIMEOUT_S:.0f} s")
    finally:
        client.quit()
        if screen:
            display.release_display()


def run(args: argparse.Namespace) -> int:
    config = config_for(args, None)
    if bool(args.cookies) == bool(args.browser):
        raise UsageError("login needs exactly one of --cookies FILE.json or --browser")
    if args.cookies:
        cookies = import_cookie_file(Path(args.cookies).expanduser())
    else:
        cookies = login_in_browser(config)
    target = default_cookies_path(config.sessions)
    save_cookies(target, cookies)
    domains = sorted({str(c.get("domain", "")) for c in cookies})
    print(f"saved {len(cookies)} cookies for {', '.join(domains)} to {target} (mode 0600)")
    return 0
