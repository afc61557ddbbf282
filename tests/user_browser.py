"""A Chromium started the way the README tells a user to start theirs (attach mode):
a debug port of Chromium's choosing, a profile of its own, none of dreamscape's flags."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websocket

from tests.browser_fixtures import CHROMIUM

USER_FLAGS = (
    "--headless=new",
    "--no-first-run",
    # The test's own guard, not part of attach mode: this browser runs without our quiet
    # flags, like a user's, so everything not on loopback goes to a port nothing
    # listens on and no test traffic leaves the machine.
    "--proxy-server=http://127.0.0.1:1",
)

START_TIMEOUT_S = 20.0


@dataclass
class UserBrowser:
    """The user's running browser, seen through its DevTools endpoint."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def devtools(self, path: str) -> Any:
        """GET a DevTools HTTP endpoint (``/json/version``, ``/json/list``)."""
        with urllib.request.urlopen(f"http://{self.address}{path}", timeout=5) as response:
            return json.load(response)

    def tabs(self) -> list[tuple[str, str]]:
        """(id, url) of every open tab."""
        return sorted((t["id"], t["url"]) for t in self.devtools("/json/list")
                      if t["type"] == "page")

    def click(self, url_part: str, selector: str) -> None:
        """Click ``selector`` in the tab whose URL contains ``url_part`` (the user's hand),
        once the page shows it."""
        tab = next(t for t in self.devtools("/json/list") if url_part in t["url"])
        ws = websocket.create_connection(tab["webSocketDebuggerUrl"], timeout=10,
                                         suppress_origin=True)
        click = (f"(() => {{ const b = document.querySelector({json.dumps(selector)});"
                 " if (b) b.click(); return Boolean(b); })()")
        try:
            for call in range(1, 200):
                ws.send(json.dumps({"id": call, "method": "Runtime.evaluate",
                                    "params": {"expression": click, "returnByValue": True}}))
                reply: dict[str, Any] = {}
                while reply.get("id") != call:
                    reply = json.loads(ws.recv())
                if reply.get("result", {}).get("result", {}).get("value") is True:
                    return
                time.sleep(0.05)
            raise AssertionError(f"{selector} never showed in {tab['url']}")
        finally:
            ws.close()


@contextlib.contextmanager
def user_chromium(profile: Path, url: str) -> Iterator[UserBrowser]:
    """Start Chromium on ``url`` with a debug port Chromium picks (read back from the
    ``DevToolsActivePort`` file in its profile); kill it, whatever happens."""
    args = [CHROMIUM, *USER_FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    process = subprocess.Popen([*args, url], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            assert process.poll() is None, f"Chromium exited with {process.returncode}"
            assert time.monotonic() < deadline, "Chromium wrote no DevToolsActivePort"
            time.sleep(0.05)
        yield UserBrowser(process, int(port_file.read_text().splitlines()[0]))
    finally:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
