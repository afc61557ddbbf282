"""Pilot tests of every dashboard, tree, detail and app binding (no model, no browser).

The engine is fed events as it would feed them (posted messages), except for ``r``,
which runs a real scan-check pass on a small clean project, and ``q``, which must
shut the engine down and flush the store.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from dreamscape_tui.app import DreamscapeApp
from dreamscape_tui.core.store import StoreError
from dreamscape_tui.screens.dashboard import DashboardScreen
from dreamscape_tui.screens.detail import DetailScreen
from dreamscape_tui.screens.help import HelpScreen
from dreamscape_tui.screens.review import ReviewScreen
from tests.test_tui_support import (
    heal_events,
    make_app,
    post,
    record_notifications,
    risky_results,
    sample_root,
    scan_events,
    seed_escalation,
    settle,
    stored_state,
    wait_until,
)
from widgets.file_detail import FileDetail
from widgets.file_tree import FileTree
from widgets.heal_queue import HealQueue
from widgets.status_bar import StatusBar


def tree_of(app: DreamscapeApp) -> FileTree:
    return app.dashboard.query_one(FileTree)


def paths(app: DreamscapeApp) -> list[str]:
    return [entry.path for _depth, entry in tree_of(app).rows]


def phase_text(app: DreamscapeApp) -> str:
    return str(app.dashboard.query_one(StatusBar).query_one("#phase").render())


@pytest.fixture
def app(tmp_path: Path) -> DreamscapeApp:
    return make_app(sample_root(tmp_path))


async def test_tree_navigation_keys(app: DreamscapeApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        post(app, scan_events(extra=risky_results()))
        await settle(pilot)
        tree = tree_of(app)
        assert tree.has_focus and tree.file_count == 13
        # riskiest first: the unparsable file, then the legacy folder and its worst file
        assert paths(app)[:4] == ["calc.py", "legacy", "legacy/billing.py", "legacy/report.py"]
        await pilot.press("down")
        assert tree.cursor_entry is not None and tree.cursor_entry.path == "legacy"
        await pilot.press("space")  # fold
        assert "legacy/billing.py" not in paths(app)
        await pilot.press("right")  # unfold
        assert "legacy/billing.py" in paths(app)
        await pilot.press("right")  # into the folder
        assert tree.cursor_entry.path == "legacy/billing.py"
        await pilot.press("left")  # back to its folder
        assert tree.cursor_entry.path == "legacy"
        await pilot.press("left")  # fold it
        assert "legacy/billing.py" not in paths(app)
        await pilot.press("enter")  # enter on a folder unfolds it
        assert "legacy/billing.py" in paths(app)
        await pilot.press("end")
        assert tree.cursor == len(tree.rows) - 1
        await pilot.press("home", "j", "j", "k")
        assert tree.cursor == 1
        await pilot.press("pagedown")
        assert tree.cursor > 1
        await pilot.press("pageup", "up")
        assert tree.cursor == 0
        # the mouse works too: a click moves the cursor, a second click opens
        await pilot.click(FileTree, offset=(6, 4))  # border, header, then rows 0, 1, 2
        assert tree.cursor == 2 and tree.cursor_entry.path == "legacy/billing.py"
        await pilot.click(FileTree, offset=(6, 4))
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)


async def test_sort_and_filter_keys(app: DreamscapeApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        post(app, scan_events(extra=risky_results()))
        await settle(pilot)
        tree = tree_of(app)
        orders = []
        for _ in range(4):
            await pilot.press("s")
            orders.append(tree.sort)
        assert orders == ["cc", "mi", "name", "score"]
        await pilot.press("s")  # by cc: the most complex file leads its folder
        assert paths(app)[:2] == ["legacy", "legacy/billing.py"]
        await pilot.press("s", "s")  # by name: folders first, alphabetical
        assert paths(app)[:3] == ["legacy", "legacy/billing.py", "legacy/report.py"]
        assert paths(app)[-1] == "util.py"
        await pilot.press("s")
        await pilot.press("slash")
        assert isinstance(app.focused, Input) and app.focused.id == "filter"
        theme = app.theme
        await pilot.press(*"sqvCART")  # typed into the filter, not taken as bindings
        await pilot.press(*["backspace"] * 7, *"cArt")  # case-insensitive, whole path
        await pilot.pause(0.4)
        assert app.is_running and app.theme == theme and isinstance(app.screen, DashboardScreen)
        assert paths(app) == ["shop", "shop/cart.py", "tests", "tests/test_cart.py"]
        assert "filter" in str(tree.border_title)
        await pilot.press("enter")  # keep the filter, back to the tree
        assert tree.has_focus and tree.filter_text == "cArt"
        await pilot.press("escape")  # clear it
        assert tree.filter_text == "" and len(paths(app)) == 16


async def test_enter_opens_file_detail_and_escape_returns(app: DreamscapeApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        post(app, [*scan_events(extra=risky_results()), *heal_events()])
        await settle(pilot)
        tree = tree_of(app)
        tree.cursor = paths(app).index("legacy/billing.py")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.path == "legacy/billing.py"
        detail = app.screen.query_one(FileDetail)
        metrics = str(detail.query_one("#detail-metrics").render())
        assert "cc max 34 (rank E)" in metrics and "MI 8.25" in metrics
        table = detail.query_one("#detail-functions")
        assert table.row_count == 4  # type: ignore[attr-defined]
        assert app.screen.check_action("undo", ()) is None  # nothing healed: disabled
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        # enter on a heal queue row opens that file too
        queue = app.dashboard.query_one(HealQueue)
        queue.focus()
        await pilot.press("enter")  # first row: calc.py, healed
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.path == "calc.py"
        assert "Not analysed" in str(app.screen.query_one("#detail-metrics").render())


async def test_help_theme_pause_reviews_and_undo_keys(app: DreamscapeApp) -> None:
    told = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-text").render())
        for needle in ("Accept", "Reject", "retry with a hint", "$EDITOR", "pause or resume"):
            assert needle in help_text
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        theme = app.theme
        await pilot.press("t")
        assert app.theme != theme
        await pilot.press("p")
        assert app.paused and not app.engine.running.is_set()
        assert "paused" in phase_text(app)
        await pilot.press("p")
        assert not app.paused and app.engine.running.is_set()
        await pilot.press("v")  # nothing escalated yet
        assert isinstance(app.screen, DashboardScreen) and "No reviews waiting" in told[-1]
        await pilot.press("u")  # nothing healed yet
        await settle(pilot)
        assert "nothing to undo" in told[-1]


async def test_command_palette_commands(app: DreamscapeApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for command, check in (("pause healing", lambda: app.paused),
                               ("resume healing", lambda: not app.paused),
                               ("help", lambda: isinstance(app.screen, HelpScreen))):
            await pilot.press("ctrl+p")
            await pilot.pause(0.2)
            await pilot.press(*command)
            await pilot.pause(0.4)
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert check(), command
        await pilot.press("escape")
        theme = app.theme
        await pilot.press("ctrl+p", *"switch theme")
        await pilot.pause(0.4)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.theme != theme


async def test_rescan_runs_the_engine_and_q_quits_cleanly(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    root.mkdir()
    (root / "ok.py").write_text("def ok(x):\n    return x if x else 0\n")
    (root / ".dreamscape").mkdir()
    (root / ".dreamscape" / "config.toml").write_text("[checks]\npytest = false\n")
    app = make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert tree_of(app).file_count == 0 and "r scans" in phase_text(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: app.phase == "idle" and app.scanned, 60, "the pass")
        await settle(pilot)
        assert paths(app) == ["ok.py"]
        assert phase_text(app) == "Done: no failing files"
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, 30, "the app to exit")
    assert app.return_code == 0
    assert app.cancel.is_set()  # workers were told to stop
    with pytest.raises(StoreError), app.engine.store.tables():  # closed, hence flushed
        pass
    assert app.engine.store.path.is_file()  # the scan cache (state.json, or scan.json)
    assert app.engine.store.path.parent == root / ".dreamscape"


async def test_read_only_scans_but_refuses_to_write(tmp_path: Path) -> None:
    """Another process holds the project: replay and scan, no checks, heals or decisions."""
    root = sample_root(tmp_path)
    heal_id = seed_escalation(root)
    journal = root / ".dreamscape" / "heals.jsonl"
    stored = journal.read_bytes()
    reason = "pid 4242 (dreamscape heal) holds this project"
    app = make_app(root, autostart=True, read_only=reason)
    told = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.phase == "idle" and app.scanned, 60, "the scan")
        await settle(pilot)
        assert tree_of(app).file_count == 11  # scanned...
        assert list(app.model.items) == [heal_id]  # ...but nothing checked or queued
        assert phase_text(app) == f"read-only: {reason}"
        assert f"read-only: {reason}" in app.sub_title and "1 review waiting" in app.sub_title
        for action in ("rescan", "toggle_pause", "undo"):
            assert app.check_action(action, ()) is None, action
        await pilot.press("p", "r", "u")  # disabled: nothing happens, nothing is said
        await settle(pilot)
        assert not app.paused and not app.engine_busy() and told == []
        await pilot.press("ctrl+p")  # the palette does not ask check_action: it is told
        await pilot.pause(0.2)
        await pilot.press(*"rescan")
        await pilot.pause(0.4)
        await pilot.press("enter")
        await settle(pilot)
        assert told == [f"Rescan is off in a read-only session ({reason})"]
        assert not app.engine_busy()
        await pilot.press("v")  # reviews can be read, not decided
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.current == heal_id
        for action in ("accept", "reject", "retry"):
            assert screen.check_action(action, ()) is None, action
        assert screen.check_action("edit", ()) is True
        await pilot.press("x", "h")
        await settle(pilot)
        assert app.screen is screen and len(told) == 1
        assert app.decide("reject", heal_id) is None  # refused before any worker
        assert told[-1] == f"read-only: {reason}"
        await settle(pilot)
        assert app.model.escalations() == [heal_id]
    assert journal.read_bytes() == stored
    assert stored_state(root, heal_id) == "escalated"
