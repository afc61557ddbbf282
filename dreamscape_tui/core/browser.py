"""Browser plumbing that needs no selenium: binaries, flags, page scripts, processes.

Kept apart from :mod:`dreamscape_tui.core.client` (the only selenium importer) so the
client stays readable, and so the pool, the tests and the bench can use the pieces
(process trees, health records) without importing selenium themselves.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dreamscape_tui.core.errors import SessionUnavailable

logger = logging.getLogger(__name__)

__all__ = [
    "BROWSER_CANDIDATES",
    "CHROMEDRIVER_CANDIDATES",
    "QUIET_DISABLED_FEATURES",
    "QUIET_PREFS",
    "QUIET_SWITCHES",
    "STARTUP_PREFS",
    "QuietFilter",
    "SessionHealth",
    "check_debugger",
    "chromium_flags",
    "chromium_prefs",
    "driver_env",
    "find_browser",
    "find_chromedriver",
    "kill_processes",
    "looks_dead",
    "process_tree",
]

BROWSER_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
)
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver",)

HealthState = Literal["healthy", "logged_out", "unreachable", "error"]


@dataclass(frozen=True)
class SessionHealth:
    """The result of one page load: can this session take a prompt right now?"""

    state: HealthState
    latency_ms: float
    detail: str


def _find_binary(configured: str, key: str, what: str, package: str,
                 candidates: tuple[str, ...], names: tuple[str, ...]) -> str:
    """A binary: the configured path, else the first usual place, else PATH.

    Raises SessionUnavailable naming the path and the ``[sessions]`` key to set,
    because Selenium Manager (which would otherwise try to download one) must never
    be involved.
    """
    if configured:
        path = str(Path(configured).expanduser())
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            raise SessionUnavailable(
                f"{key} not found or not executable: {path}: fix [sessions] {key}"
            )
        return path
    for candidate in candidates:
        if os.access(candidate, os.X_OK) and Path(candidate).is_file():
            return candidate
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise SessionUnavailable(
        f"no {what} found (looked at {', '.join(candidates)} and PATH): "
        f"install {package} or set [sessions] {key}"
    )


def find_browser(configured: str) -> str:
    """The Chromium binary: the configured path, else the first usual place that exists."""
    return _find_binary(configured, "browser", "Chromium", "chromium", BROWSER_CANDIDATES,
                        ("chromium", "chromium-browser", "google-chrome", "chrome"))


def find_chromedriver(configured: str) -> str:
    """The chromedriver binary: configured path, else /usr/bin/chromedriver or PATH."""
    return _find_binary(configured, "chromedriver", "chromedriver", "chromium-driver",
                        CHROMEDRIVER_CANDIDATES, ("chromedriver",))


STARTUP_PREFS: dict[str, object] = {
    "session.restore_on_startup": 4,  # open the URLs below, not the New Tab Page
    "session.startup_urls": ["about:blank"],
    "homepage": "about:blank",
    "homepage_is_newtabpage": False,
}
"""Profile preferences for a pooled Chromium. A fresh profile's first tab otherwise
loads the New Tab Page (on Debian: start.duckduckgo.com), and chromedriver waits for
that pending navigation before our first ``get``: up to 5 s when offline."""


_SOCKET_SUFFIX = "/org.chromium.Chromium.XXXXXX/SingletonSocket"
_MAX_SOCKET_PATH = 107  # sun_path holds 108 bytes with the terminating NUL


def driver_env(display: str | None = None) -> dict[str, str] | None:
    """Environment for chromedriver (and the Chromium it starts), or None to inherit.

    Chromium puts its singleton socket under ``$TMPDIR``; with a deep TMPDIR (pytest's
    tmp_path, CI work dirs) the socket path exceeds the Unix limit and Chromium dies
    at start ("Socket path too long"). Then the browser gets ``/tmp`` instead.
    ``display`` (``:N``, our virtual display) becomes the browser's ``DISPLAY``.
    """
    changes = {"DISPLAY": display} if display else {}
    tmp = tempfile.gettempdir()
    if len(tmp) + len(_SOCKET_SUFFIX) > _MAX_SOCKET_PATH and os.access("/tmp", os.W_OK):
        changes["TMPDIR"] = "/tmp"
    return {**os.environ, **changes} if changes else None


def check_debugger(address: str, timeout_s: float = 5.0) -> None:
    """Raise SessionUnavailable (one line, with the remedy) unless a Chromium DevTools
    endpoint answers at ``address`` (``[sessions] debugger_address``, host:port)."""
    host, sep, port = address.rpartition(":")
    if not (sep and host and port.isdigit()):
        raise SessionUnavailable(
            f"[sessions] debugger_address {address!r} is not host:port (e.g. 127.0.0.1:9222)")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    try:
        with opener.open(f"http://{address}/json/version", timeout=timeout_s) as response:
            info = json.load(response)
        if not (isinstance(info, dict) and info.get("webSocketDebuggerUrl")):
            raise ValueError("not a Chromium DevTools endpoint")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        detail = getattr(reason, "strerror", None) or str(reason) or type(exc).__name__
        raise SessionUnavailable(
            f"no Chromium answers at [sessions] debugger_address {address} ({detail}): "
            f"start yours with --remote-debugging-port={port} (README: \"Your own "
            f"browser\"), or set debugger_address = \"\" to let dreamscape start its own"
        ) from None


# -- quiet: no traffic but the chat pages ------------------------------------------------
#
# Left alone, Chromium's background services reach Google on their own within a second of
# starting (accounts.google.com, update.googleapis.com, clients2.google.com,
# content-autofill.googleapis.com, optimizationguide-pa.googleapis.com), whatever page it
# shows. Everything that turns them off lives in the three lists below, one line per
# entry saying what it stops. Checked against Debian's Chromium 156: every switch and
# feature name occurs in its binary, and tests/test_quiet_browser.py runs a prompt
# through the pool behind a recording proxy and fails on any request. Chromium ignores
# unknown switches and feature names silently, so an entry a release drops must be
# deleted here, not kept "just in case": a dead entry only hides a leak.

QUIET_SWITCHES: tuple[str, ...] = (
    # Background fetches that honour it (promotions, extension update checks) and, in
    # Chrome-branded builds such as a Grid node's Google Chrome, the variations seed
    # fetch (Chromium builds fetch no seed unless --variations-server-url is given).
    "--disable-background-networking",
    # The component updater's checks for the components it registers at start-up
    # (update.googleapis.com, downloads from *.gvt1.com).
    "--disable-component-update",
    # The on-device AI model manifest, which Chromium asks the component updater for
    # at every start, --disable-component-update or not. An override file naming no
    # manifest (empty here; absent on Windows) means no manifest and no update request.
    "--optimization-guide-manifest-override=/dev/null",
    # Chrome Sync.
    "--disable-sync",
    # Chromium 156 asks accounts.google.com/ListAccounts at start-up even with sign-in
    # disallowed (QUIET_PREFS), and no switch turns that off. This points Chromium's own
    # Google-account endpoint (not web pages) at port 9, which Chromium refuses to
    # connect to (ERR_UNSAFE_PORT), so the request ends before a socket is opened.
    "--gaia-url=http://127.0.0.1:9/",
    # Usage statistics (UMA) are recorded in memory, never uploaded.
    "--metrics-recording-only",
    # Crash reporting: no crash handler, so no crash reports to upload.
    "--disable-breakpad",
    # Domain Reliability beacons about failed requests to Google properties.
    "--disable-domain-reliability",
    # Built-in extensions that keep a background page (and may fetch from it).
    "--disable-component-extensions-with-background-pages",
    # The default apps a new profile would install (and update).
    "--disable-default-apps",
    # First-run experience: welcome page, import, search-engine choice.
    "--no-first-run",
    # The default-browser check at start-up.
    "--no-default-browser-check",
)

QUIET_DISABLED_FEATURES: tuple[str, ...] = (
    "OptimizationHints",  # page-load hints from optimizationguide-pa.googleapis.com
    "AutofillServerCommunication",  # form field-type queries to content-autofill.googleapis.com
    "NetworkTimeServiceQuerying",  # clock checks at clients2.google.com/time
    "Translate",  # language detection and translation (translate.googleapis.com)
    "MediaRouter",  # Cast and DIAL device discovery (mDNS, SSDP) on the local network
    "AimEnabled",  # AI Mode eligibility request to www.google.com when Google is the search engine
)
"""Chromium features switched off, sent as one ``--disable-features=`` flag (Chromium
reads only the last one it is given, so there must be only one)."""

QUIET_PREFS: dict[str, object] = {
    "signin.allowed": False,  # no sign-in to the browser itself
    "signin.allowed_on_next_startup": False,  # what start-up reads: account consistency (DICE) off
    "safebrowsing.enabled": False,  # no Safe Browsing list downloads or URL lookups
    "translate.enabled": False,  # no offers to translate a page
}
"""Profile preferences for what has no switch; chromedriver writes them into the new
profile before Chromium starts."""


def chromium_prefs() -> dict[str, object]:
    """All profile preferences of a browser we start: start-up page and quiet."""
    return {**STARTUP_PREFS, **QUIET_PREFS}


def chromium_flags(
    *, headless: bool, profile: str | None, local: bool = True, extra: Sequence[str] = ()
) -> list[str]:
    """Command-line flags for a Chromium we start: quiet, lean, one own profile.

    The quiet switches and features are above; ``--no-sandbox`` only for a local
    browser run as root, where Chromium refuses to start with its sandbox (a Grid node
    knows its own user: its stereotype adds the flag if it needs it). ``extra`` flags
    come last; names in an extra ``--disable-features=`` join ours in the one flag.
    """
    disabled = list(QUIET_DISABLED_FEATURES)
    rest: list[str] = []
    for flag in extra:
        if flag.startswith("--disable-features="):
            disabled += [n for n in flag.split("=", 1)[1].split(",") if n and n not in disabled]
        else:
            rest.append(flag)
    flags = [
        *QUIET_SWITCHES,
        f"--disable-features={','.join(disabled)}",
        "--disable-gpu",
        "--disable-software-rasterizer",  # with the low-end mode: ~15 MiB less per session
        "--enable-low-end-device-mode",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--mute-audio",
        "--window-size=1280,900",
    ]
    if headless:
        flags.insert(0, "--headless=new")
    if local and hasattr(os, "geteuid") and os.geteuid() == 0:
        flags.append("--no-sandbox")
    if profile:
        flags.append(f"--user-data-dir={profile}")
    return flags + rest


# Substrings of WebDriver / transport errors that mean the browser (or its driver) is
# gone for good, as opposed to a page that misbehaved.
_DEAD_MARKERS = (
    "invalid session id",
    "session deleted",
    "no such session",
    "unable to find session",
    "disconnected",
    "not reachable",
    "no such window",
    "target window already closed",
    "not connected to devtools",
    "tab crashed",
    "connection refused",
    "connection aborted",
    "connection reset",
    "max retries exceeded",
    "remote end closed connection",
)


def looks_dead(message: str) -> bool:
    """Whether an error message says the browser session no longer exists."""
    lowered = re.sub(r"net::err_\w+", "", message.lower())  # navigation errors: page, not us
    return any(marker in lowered for marker in _DEAD_MARKERS)


class QuietFilter(logging.Filter):
    """A log filter that drops records on threads inside :meth:`quiet`.

    The client puts it on selenium's wire logger, whose DEBUG records hold command
    bodies and responses, cookie values included, while it handles cookies.
    """

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.local, "quiet", False)

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Silence the wire log on this thread inside the block."""
        self.local.quiet = True
        try:
            yield
        finally:
            self.local.quiet = False


# -- processes (Linux /proc; empty results elsewhere) --------------------------------


def _parent_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    stat = fh.read()
            except OSError:
                continue  # exited while we looked
            fields = stat.rsplit(")", 1)[-1].split()
            if len(fields) >= 2:
                children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def process_tree(root: int) -> list[int]:
    """``root`` and all its live descendants (zombies excluded), from /proc."""
    children = _parent_map()
    found: list[int] = []
    stack = [root]
    while stack:
        pid = stack.pop()
        if is_running(pid):
            found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def is_running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            state = fh.read().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def cmdline(pid: int) -> list[str]:
    """The command line of ``pid`` (empty if it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            raw = fh.read()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def kill_processes(pids: list[int], marker: str) -> int:
    """SIGKILL those ``pids`` still running whose command line contains ``marker``.

    The marker (our unique profile directory) guards against killing an unrelated
    process that reused a pid. Returns how many were signalled.
    """
    killed = 0
    for pid in pids:
        if is_running(pid) and any(marker in part for part in cmdline(pid)):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed
