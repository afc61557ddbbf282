"""The dashboard with the real engine: it starts on its own and heals the sample project.

Nobody presses a key until the heals are done: scan, check and heal run in workers
against a loopback openai-api model with the sample's scripted answers, and the
dashboard ends with three files healed and one review waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.practice.sample import ESCALATED, HEALED
from tests.fake_openai import FakeOpenAI, fake_openai_server
from tests.heal_helpers import api_config, scripted
from tests.test_tui_support import make_app, sample_root, settle, wait_until
from widgets.file_tree import FileTree
from widgets.heal_queue import HealQueue
from widgets.status_bar import StatusBar


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        scripted(server)
        yield server


async def test_engine_starts_on_its_own_and_heals_in_the_background(
        tmp_path: Path, api: FakeOpenAI) -> None:
    root = sample_root(tmp_path)
    (root / ".dreamscape").mkdir()
    (root / ".dreamscape" / "config.toml").write_text(api_config(api))
    app = make_app(root, autostart=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.phase == "idle" and bool(app.model.escalations()), 120,
                         "the heals to finish")
        await settle(pilot)
        assert app.first_paint_s is not None
        tree = app.dashboard.query_one(FileTree)
        status = {p: tree.model.files[p].status for p in (*HEALED, *ESCALATED)}
        assert status == {**dict.fromkeys(HEALED, "healed"), **dict.fromkeys(ESCALATED, "review")}
        assert tree.model.root.status == "review"  # the project shows its most urgent marker
        queue = app.dashboard.query_one(HealQueue)
        assert queue.row_count == 4
        assert {i.path: i.state for i in queue.items.values()} == {
            **dict.fromkeys(HEALED, "healed"), **dict.fromkeys(ESCALATED, "escalated")}
        bar = app.dashboard.query_one(StatusBar)
        assert str(bar.query_one("#phase").render()) == "Done: 3 healed"
        assert str(bar.query_one("#reviews").render()) == "1 review waiting · v"
        assert "1 review waiting" in app.sub_title
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, 30, "the app to exit")
    assert app.return_code == 0
