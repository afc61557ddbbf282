"""Scale-out on a real Selenium Grid 4: the pool with ``driver = "remote"``.

See docs/architecture.md#pool-and-grid.

The Grid runs on this machine, so its browsers reach the practice page on 127.0.0.1.
Without Java or the jar these tests skip, except in CI (``CI=true``) where a missing
prerequisite is a failure: CI must prove the Grid path.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core.answer import Answer
from dreamscape_tui.core.events import Event, SessionState
from dreamscape_tui.core.pool import SessionPool
from dreamscape_tui.practice import ChatServer, Reply
from tests.browser_fixtures import browser_configs
from tests.conftest import Cli
from tests.grid import Grid, missing_prerequisite, start_grid

pytestmark = pytest.mark.grid


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grid]:
    """One standalone Grid (2 chromium slots) for the module; stopped at the end."""
    reason = missing_prerequisite()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Selenium Grid tests cannot run in CI: {reason}")
        pytest.skip(reason)
    running = start_grid(Path(tmp_path_factory.mktemp("grid")), max_sessions=2)
    try:
        yield running
    finally:
        running.stop()


def test_remote_pool_of_two_answers_and_leaves_no_session_open(
    grid: Grid, practice: ChatServer
) -> None:
    practice.set_responder(lambda prompt, model: Reply(text=f"grid says: {prompt} via {model}"))
    sessions, webchat = browser_configs(
        practice, size=2, driver="remote", remote_url=grid.url, start_timeout_s=60.0
    )
    events: list[Event] = []
    with SessionPool(sessions, webchat, events.append) as pool:
        pool.start()
        statuses = pool.statuses()
        assert [(s.state, s.driver) for s in statuses] == [("healthy", "remote")] * 2
        assert grid.busy_slots() == 2

        answers: dict[int, Answer] = {}

        def ask(i: int) -> None:
            answers[i] = pool.submit(f"q{i}", practice.url + "?model=gpt-4o")

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert {i: a.text for i, a in answers.items()} == {
            i: f"grid says: q{i} via gpt-4o" for i in range(4)}
        assert all(s.prompts > 0 for s in pool.statuses())  # both sessions answered
        assert [s.to_json()["driver"] for s in pool.statuses()] == ["remote", "remote"]
    # Grid frees a slot a few ms after the quit command returns: poll briefly.
    deadline = time.monotonic() + 10
    while grid.busy_slots() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert grid.busy_slots() == 0
    assert grid.status()["ready"] is True
    assert {"starting", "healthy", "busy", "stopped"} <= {
        e.state for e in events if isinstance(e, SessionState)}


@pytest.mark.parametrize("dom", ["classic", "codemirror", "transcript", "openwebui"])
def test_grid_sessions_with_only_models_configured(grid: Grid, practice: ChatServer,
                                                   tmp_path: Path, cli: Cli, dom: str) -> None:
    # no home_url: the remote browsers check the model's own page, on every DOM
    config = tmp_path / "grid.toml"
    config.write_text(f"""
[sessions]
size = 1
driver = "remote"
remote_url = "{grid.url}"
page_load_timeout_s = 10.0

[[models]]
name = "practice"
kind = "webchat"
url = "{practice.url}?model=practice&dom={dom}"

[routing]
ladder = ["practice"]
""")
    result = cli("sessions", "--config", str(config), "--json")
    assert result.code == 0, result.out + result.err
    (row,) = json.loads(result.out)["sessions"]
    assert (row["state"], row["driver"]) == ("healthy", "remote")
    practice.require_login = True
    result = cli("sessions", "--config", str(config), "--json")
    assert (result.code, json.loads(result.out)["sessions"][0]["state"]) == (3, "logged_out")
