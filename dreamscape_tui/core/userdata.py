"""Chromium user-data directories (profiles) of the sessions: where, whose, how long.

A session on a remote site keeps its profile (``$XDG_DATA_HOME/dreamscape/profiles/<id>``
unless ``[sessions] profile_dir`` names another parent), so a login there survives
restarts; a loopback page (the practice page, the demo, tests) gets a temporary one. A
profile is never shared: the dreamscape process using it holds a lock in it, and one that
another process or a running Chromium holds gives way to a temporary profile.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import logging
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from dreamscape_tui.core.browser import cmdline

__all__ = [
    "PROFILE_LOCK",
    "UserDataDir",
    "is_loopback_url",
    "make_profile",
    "profile_parent",
    "remove_profile",
]

logger = logging.getLogger(__name__)


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is on this machine (localhost, 127.0.0.0/8, ::1)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def profile_parent(profile_dir: str, site_url: str) -> Path | None:
    """Where sessions keep persistent profiles, or None for temporary ones.

    ``profile_dir`` when set; else ``$XDG_DATA_HOME/dreamscape/profiles`` (default
    ``~/.local/share``) for a remote site, so a login there survives restarts; else
    (a loopback site, such as the practice page, or none known) None.
    """
    if profile_dir:
        return Path(profile_dir).expanduser()
    if not site_url or is_loopback_url(site_url):
        return None
    data_home = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "dreamscape" / "profiles"


@dataclass
class UserDataDir:
    """A session's Chromium profile, and the lock that keeps it ours while we use it."""

    path: Path
    temporary: bool
    lock: IO[str] | None = None

    def release(self) -> None:
        """Drop the lock and delete a temporary profile (after its browser is gone)."""
        if self.lock is not None:
            self.lock.close()  # closing the file releases the flock
            self.lock = None
        if self.temporary:
            remove_profile(self.path)


PROFILE_LOCK = "dreamscape.lock"
"""Held (flock) in a persistent profile by the dreamscape process using it."""


def _profile_user(path: Path) -> tuple[IO[str] | None, str]:
    """Lock the persistent profile ``path`` for this process: (the held lock, "") or
    (None, who uses it: another dreamscape process, or a running Chromium)."""
    lock = open(path / PROFILE_LOCK, "a+", encoding="utf-8")  # noqa: SIM115 (held)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.seek(0)
        holder = lock.read().strip()
        lock.close()
        return None, f"dreamscape process {holder or '?'}"
    # Chromium's own lock: a symlink to "HOST-PID" while a browser runs on the profile
    # (a user's own Chromium, or one a killed dreamscape left behind).
    with contextlib.suppress(OSError):
        host, _, pid = os.readlink(path / "SingletonLock").rpartition("-")
        if host != socket.gethostname():
            lock.close()
            return None, f"a Chromium on {host}"
        program = cmdline(int(pid))[:1] if pid.isdigit() else []
        if program and "chrom" in Path(program[0]).name:  # alive, and not a reused pid
            lock.close()
            return None, f"Chromium process {pid}"
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock, ""


def make_profile(profile_dir: str, session_id: str, site_url: str = "") -> UserDataDir:
    """A session's own Chromium profile (see :func:`profile_parent`): the persistent
    ``PARENT/<id>`` (0700), locked for this process, else a fresh temporary directory.

    Never shared: Chromium locks a profile, and two browsers on one would corrupt each
    other's logins. A persistent profile that another dreamscape process or a running
    Chromium is using gives way to a temporary one, with a warning: that session starts
    logged out (unless cookies are imported), the other keeps its login.
    """
    parent = profile_parent(profile_dir, site_url)
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = parent / session_id
        path.mkdir(exist_ok=True, mode=0o700)
        lock, user = _profile_user(path)
        if lock is not None:
            return UserDataDir(path, False, lock)
        logger.warning("the browser profile %s is in use by %s: session %s uses a "
                       "temporary profile instead (without that profile's login)",
                       path, user, session_id)
    return UserDataDir(Path(tempfile.mkdtemp(prefix=f"dreamscape-{session_id}-")), True)


def remove_profile(path: Path) -> None:
    """Delete a temporary profile, retrying briefly while a dying renderer still writes."""
    for _ in range(5):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.1)
    logger.warning("could not remove the temporary profile %s", path)
