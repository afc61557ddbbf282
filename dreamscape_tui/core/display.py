"""Where a browser we start shows its windows: headless, ``$DISPLAY``, or our own Xvfb.

``[sessions] headless`` is ``true`` (headless), ``false`` (windows on ``$DISPLAY``) or
``"auto"``: windows on ``$DISPLAY`` when it is set, else on a virtual display when
Debian's ``xvfb`` is installed, else headless. A headful browser on a virtual display
is what lets ``dreamscape login --browser`` be completed on a server: watch and use the
display with a VNC server (``x11vnc -display :N``) through an SSH tunnel.

The virtual display is one ``Xvfb`` per dreamscape process, shared by every browser
that needs it: each holder calls :func:`acquire_display` and :func:`release_display`
(the pool holds it for its lifetime, each client while its browser runs), and the
server stops when the last holder lets go (or, at the latest, when the process exits).
Xvfb picks a free display number itself (``-displayfd``), so two processes never race
for one.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from typing import Literal

from dreamscape_tui.core.errors import SessionUnavailable

__all__ = [
    "XVFB_START_TIMEOUT_S",
    "acquire_display",
    "browser_mode",
    "find_xvfb",
    "release_display",
]

logger = logging.getLogger(__name__)

XVFB_START_TIMEOUT_S = 10.0
XVFB_SCREEN = "1280x900x24"  # the size of the browser window (--window-size=1280,900)

BrowserMode = Literal["headless", "display", "xvfb"]


def find_xvfb() -> str | None:
    """The Xvfb binary (Debian package ``xvfb``), or None."""
    return shutil.which("Xvfb")


def browser_mode(headless: bool | str, env: Mapping[str, str] | None = None) -> BrowserMode:
    """How a local browser runs for the ``headless`` setting: ``headless``, on the
    real ``display`` ($DISPLAY, or ``headless = false``), or on our own ``xvfb``."""
    if headless is True:
        return "headless"
    if headless is False:
        return "display"
    environ = os.environ if env is None else env
    if environ.get("DISPLAY"):
        return "display"
    return "xvfb" if find_xvfb() else "headless"


class _Xvfb:
    """One running Xvfb server on a display number it chose."""

    def __init__(self, binary: str) -> None:
        read_fd, write_fd = os.pipe()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (Xvfb's output until stop)
        try:
            self.process = subprocess.Popen(
                [binary, "-displayfd", str(write_fd), "-screen", "0", XVFB_SCREEN,
                 "-nolisten", "tcp"],
                pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=self._log,
                stderr=self._log, start_new_session=True,  # a Ctrl-C is ours to handle
            )
        except OSError as exc:
            os.close(read_fd)
            self._log.close()
            raise SessionUnavailable(f"could not start Xvfb ({binary}): {exc}") from exc
        finally:
            os.close(write_fd)
        try:
            number = self._read_number(read_fd)
        finally:
            os.close(read_fd)
        if number is None:
            detail = self._last_line()
            self.stop()
            raise SessionUnavailable(
                f"Xvfb did not start: {detail}; set [sessions] headless = true")
        self.display = f":{number}"

    def _read_number(self, fd: int) -> str | None:
        """The display number Xvfb writes once it accepts clients (None: it died/hung)."""
        deadline = time.monotonic() + XVFB_START_TIMEOUT_S
        data = b""
        os.set_blocking(fd, False)
        while not data.endswith(b"\n") and time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 64)
            except BlockingIOError:
                time.sleep(0.02)
                continue
            if not chunk:  # Xvfb exited
                break
            data += chunk
        number = data.strip().decode("ascii", "replace")
        return number if data.endswith(b"\n") and number.isdigit() else None

    def _last_line(self) -> str:
        with contextlib.suppress(OSError):
            self._log.seek(0)
            lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
            if lines:
                return lines[-1][:200]
        code = self.process.poll()
        return "no answer" if code is None else f"exit code {code}"

    def stop(self) -> None:
        """Terminate the server (and wait for it); never raises."""
        with contextlib.suppress(OSError):
            self.process.terminate()
        try:
            self.process.wait(5.0)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5.0)
        self._log.close()


_lock = threading.Lock()
_server: _Xvfb | None = None
_holders = 0


def acquire_display() -> str:
    """Hold the process's virtual display, starting Xvfb if it is not running; returns
    its ``DISPLAY`` value (``:N``). Raises SessionUnavailable if Xvfb cannot start."""
    global _server, _holders
    with _lock:
        if _server is not None and _server.process.poll() is not None:
            logger.warning("Xvfb on %s exited; starting a new one", _server.display)
            _server.stop()
            _server = None
        if _server is None:
            binary = find_xvfb()
            if binary is None:
                raise SessionUnavailable(
                    "Xvfb is not installed (Debian: apt install xvfb); "
                    "set [sessions] headless = true")
            _server = _Xvfb(binary)
            logger.info("browsers run on virtual display %s (watch it: x11vnc -display %s "
                        "-localhost)", _server.display, _server.display)
        _holders += 1
        return _server.display


def release_display() -> None:
    """Let go of the virtual display; the last holder's release stops Xvfb."""
    global _server, _holders
    with _lock:
        _holders = max(0, _holders - 1)
        server = _server if _holders == 0 else None
        if server is not None:
            _server = None
    if server is not None:
        server.stop()


def _stop_at_exit() -> None:
    global _server, _holders
    with _lock:
        server, _server, _holders = _server, None, 0
    if server is not None:
        server.stop()


atexit.register(_stop_at_exit)
