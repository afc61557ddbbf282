"""Pilot tests of the review flow: accept, reject, retry with a hint, edit, next/previous.

Escalations are seeded in the store as the heal loop leaves them, so each test starts
at the decision. Accept and retry run the real engine (re-validation runs pytest; the
retry prompts a loopback openai-api model), so the files on disk are the proof.
"""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.worker import Worker, WorkerFailed, WorkerState

from dreamscape_tui.app import DreamscapeApp
from dreamscape_tui.core.checks import Failure, failure_id
from dreamscape_tui.core.healtypes import HealState, heal_label
from dreamscape_tui.screens.dashboard import DashboardScreen
from dreamscape_tui.screens.detail import DetailScreen
from dreamscape_tui.screens.hint import HintScreen
from dreamscape_tui.screens.review import ReviewScreen
from tests.fake_openai import FakeOpenAI, Scripted, fake_openai_server
from tests.heal_helpers import api_config
from tests.test_tui_support import (
    INVENTORY,
    INVENTORY_FIX,
    make_app,
    post,
    record_notifications,
    sample_root,
    scan_events,
    seed_escalation,
    settle,
    stored_state,
    wait_until,
)
from widgets.file_tree import FileTree
from widgets.heal_queue import HealQueue
from widgets.review_panel import ReviewPanel


def state_in_app(app: DreamscapeApp, heal_id: int) -> HealState | None:
    item = app.model.item(heal_id)
    return None if item is None else item.state


def panel_text(app: DreamscapeApp) -> str:
    panel = app.screen.query_one(ReviewPanel)
    return "\n".join(str(static.render()) for static in panel.query("Static"))


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        yield server


async def test_accept_applies_with_a_backup_then_detail_undo_restores(tmp_path: Path) -> None:
    root = sample_root(tmp_path)
    heal_id = seed_escalation(root, best=INVENTORY_FIX, best_failing=0)
    app = make_app(root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        post(app, scan_events())
        await settle(pilot)
        assert app.model.escalations() == [heal_id]
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        text = panel_text(app)
        assert "-    return stock - amount" in text and "+    return stock + amount" in text
        assert "tests still fail: assert 15 == 8" in text  # every attempt is listed
        await pilot.press("a")  # re-validates (runs the test), then applies
        await wait_until(pilot, lambda: state_in_app(app, heal_id) == "accepted", 60,
                         "the accept")
        await settle(pilot)
        assert (root / "inventory.py").read_text() == INVENTORY_FIX
        backup = root / ".dreamscape" / "backups" / heal_label(heal_id) / "inventory.py"
        assert backup.read_text() == INVENTORY
        assert isinstance(app.screen, DashboardScreen)  # nothing else to review
        assert app.model.escalations() == []
        # the file's detail shows the heal and undoes it
        tree = app.dashboard.query_one(FileTree)
        tree.cursor = [e.path for _d, e in tree.rows].index("inventory.py")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert "accepted" in str(app.screen.query_one("#detail-history").render())
        await pilot.press("u")
        await wait_until(pilot, lambda: state_in_app(app, heal_id) == "undone", 30,
                         "the undo")
        assert (root / "inventory.py").read_text() == INVENTORY
    assert stored_state(root, heal_id) == "undone"


async def test_reject_leaves_the_file_and_is_remembered(tmp_path: Path) -> None:
    root = sample_root(tmp_path)
    heal_id = seed_escalation(root)
    before = (root / "inventory.py").read_bytes()
    app = make_app(root)
    told = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        assert "still fails 1 test" in panel_text(app)
        assert app.screen.check_action("accept", ()) is None  # it would not validate
        await pilot.press("x")
        await wait_until(pilot, lambda: state_in_app(app, heal_id) == "rejected", 30,
                         "the reject")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        # a decision is reported once, even when its worker had finished before its
        # PENDING/RUNNING messages were handled (a fast reject in a real terminal)
        told_before = len(told)
        worker = app.decide("reject", 9)
        assert worker is not None
        with pytest.raises(WorkerFailed):  # engine.reject refused: no such escalation
            await worker.wait()
        for state in (WorkerState.PENDING, WorkerState.RUNNING):
            app.post_message(Worker.StateChanged(worker, state))
        await settle(pilot)
        assert told[told_before:] == ["heal h9 is not waiting for review"]  # a refusal, once
    assert (root / "inventory.py").read_bytes() == before
    assert not (root / ".dreamscape" / "backups").exists()
    assert stored_state(root, heal_id) == "rejected"
    assert told.count("Rejected: the file is left as it is") == 1
    again = make_app(root)  # a later session does not ask again
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.model.escalations() == []


async def test_retry_with_a_hint_reaches_the_next_prompt(tmp_path: Path,
                                                         api: FakeOpenAI) -> None:
    root = sample_root(tmp_path)
    (root / ".dreamscape").mkdir()
    (root / ".dreamscape" / "config.toml").write_text(api_config(api))
    heal_id = seed_escalation(root)
    hint = "restock must ADD the quantity to the stock"

    def answer(prompt: str) -> Scripted:
        if hint in prompt:
            return Scripted.answer(f"Following your hint:\n\n```python\n{INVENTORY_FIX}```")
        return Scripted.answer("I am not sure what to change.")

    api.fallback = answer
    app = make_app(root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("v", "h")
        assert isinstance(app.screen, HintScreen)
        await pilot.press("escape")  # cancel: nothing happens
        assert isinstance(app.screen, ReviewScreen) and stored_state(root, heal_id) == "escalated"
        await pilot.press("h")
        await pilot.press(*hint, "enter")
        await wait_until(pilot, lambda: state_in_app(app, heal_id) == "healed", 90,
                         "the retried heal")
        await settle(pilot)
    prompts = [r["messages"][-1]["content"] for r in api.requests]
    assert len(prompts) == 1 and hint in prompts[0]
    assert "## Attempt 2 (o3) failed" in prompts[0]  # the earlier attempts come along
    assert (root / "inventory.py").read_text() == INVENTORY_FIX


async def test_edit_opens_editor_and_next_previous_walk_escalations(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = sample_root(tmp_path)
    first = seed_escalation(root, best=INVENTORY_FIX, best_failing=0)
    greet = Failure(failure_id("test", "pytest", "greet.py"), "greet.py", "test", "pytest",
                    "AssertionError: assert 'hello Ada' == 'Hello, Ada!'", "",
                    ("tests/test_greet.py::test_greet",))
    second = seed_escalation(root, best=None, failure=greet)
    editor = tmp_path / "editor.py"  # a scripted $EDITOR: writes the fix, records its args
    editor.write_text(
        "import json, pathlib, sys\n"
        f"pathlib.Path({str(tmp_path / 'editor.json')!r}).write_text(json.dumps(sys.argv))\n"
        f"pathlib.Path(sys.argv[1]).write_text({INVENTORY_FIX!r})\n")
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    monkeypatch.delenv("VISUAL", raising=False)
    app = make_app(root)
    told = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.current == first
        assert "Review 1 of 2" in str(screen.query_one(ReviewPanel).border_title)
        await pilot.press("n")
        assert screen.current == second
        assert "no usable candidate" in panel_text(app)
        assert screen.check_action("accept", ()) is None  # nothing to accept
        await pilot.press("a")
        assert stored_state(root, second) == "escalated"
        await pilot.press("n")
        assert screen.current == first
        await pilot.press("b")
        assert screen.current == second
        await pilot.press("b")
        assert screen.current == first
        await pilot.press("e")
        await settle(pilot)
        args = json.loads((tmp_path / "editor.json").read_text())
        assert args[-1] == str(root / "inventory.py")
        assert (root / "inventory.py").read_text() == INVENTORY_FIX
        assert "the candidate equals the file as it is now" in panel_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        # enter on an escalated heal queue row opens its review
        queue = app.dashboard.query_one(HealQueue)
        queue.focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen) and app.screen.current == second
        await pilot.press("escape")
        # e in a file's detail opens the editor too
        (tmp_path / "editor.json").unlink()
        post(app, scan_events())
        await settle(pilot)
        tree = app.dashboard.query_one(FileTree)
        tree.cursor = [e.path for _d, e in tree.rows].index("greet.py")
        tree.focus()
        await pilot.press("enter", "e")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert json.loads((tmp_path / "editor.json").read_text())[-1] == str(root / "greet.py")
    assert told == []  # no editor error, and the disabled accept stayed silent
