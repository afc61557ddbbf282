"""The heal loop end to end through real headless Chromium and the practice chat page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.practice import ChatServer, Reply
from dreamscape_tui.practice.sample import ESCALATED, HEALED, scripted_answer, target_of
from tests.browser_fixtures import browser_test
from tests.heal_helpers import TEST_FILES, failing_tests, sample_project, snapshot


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


def webchat_config(server: ChatServer, dom: str = "classic") -> str:
    return f"""
[sessions]
size = 2
home_url = "{server.url}"
page_load_timeout_s = 10.0

[webchat]
stream_start_timeout_s = 10.0

[[models]]
name = "practice-mini"
kind = "webchat"
url = "{server.url}?model=practice-mini&dom={dom}"
timeout_s = 60.0

[[models]]
name = "practice-pro"
kind = "webchat"
url = "{server.url}?model=practice-pro&dom={dom}"
timeout_s = 60.0

[routing]
ladder = ["practice-mini", "practice-pro"]

[heal]
validation_timeout_s = 60.0
"""


@pytest.fixture
def scripted_page(chat_server: ChatServer) -> Iterator[ChatServer]:
    chat_server.reset()
    # streamed in small chunks with a pause, as a real page would
    chat_server.set_responder(lambda prompt, model: Reply(
        text=scripted_answer(prompt), chunk_chars=64, chunk_delay_s=0.005,
        pause_after_chars=40, pause_s=0.3))
    yield chat_server
    chat_server.reset()


@browser_test
@pytest.mark.parametrize("dom", ["classic", "openwebui"])  # the two most unlike pages
def test_heal_through_the_browser_pool(tmp_path: Path, scripted_page: ChatServer,
                                       dom: str) -> None:
    root = sample_project(tmp_path, webchat_config(scripted_page, dom))
    untouched = snapshot(root, [*TEST_FILES, *ESCALATED])
    originals = snapshot(root, sorted(HEALED))
    exe = Path(sys.executable).with_name("dreamscape")
    private_tmp = tmp_path / "tmp"  # browser profiles of the CLI land here
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    proc = subprocess.run([str(exe), "heal", "--headless", "--json", str(root)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert {h["path"] for h in data["healed"]} == HEALED
    assert {e["path"] for e in data["escalated"]} == ESCALATED
    assert {h["path"]: h["model"] for h in data["healed"]}["greet.py"] == "practice-pro"
    assert failing_tests(root) == {"tests/test_inventory.py::test_restock"}
    assert snapshot(root, [*TEST_FILES, *ESCALATED]) == untouched
    for entry in data["healed"]:
        assert (root / entry["backup"]).read_bytes() == originals[entry["path"]]
    models = {(target_of(p.text), p.model) for p in scripted_page.prompts}
    assert ("greet.py", "practice-pro") in models  # the model was chosen by URL
    undo = subprocess.run([str(exe), "undo", str(root)], capture_output=True, text=True,
                          timeout=60)
    assert undo.returncode == 0, undo.stderr
    assert sum((root / p).read_bytes() == originals[p] for p in HEALED) == 1
    assert processes_mentioning(str(private_tmp)) == []  # every browser was quit
    assert list(private_tmp.iterdir()) == []  # and its temp profile removed
