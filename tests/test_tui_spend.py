"""The heal queue shows what the running heal spent against its budget, from the
engine's ``HealSpend`` events alone (the read model keeps the latest)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core.budget import RunSpend, Spend, describe
from dreamscape_tui.core.events import HealSpend
from dreamscape_tui.readmodel import ReadModel
from tests.fake_openai import FakeOpenAI, fake_openai_server
from tests.heal_helpers import api_config, scripted
from tests.test_tui_support import make_app, post, sample_root, settle, wait_until
from widgets.heal_queue import HealQueue


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        scripted(server)
        yield server


@pytest.mark.parametrize(("spent", "limits", "over", "exhausted", "text"), [
    (Spend(), Spend(), "", (), "0 tries · 0 s"),
    (Spend(3, 12.4), Spend(), "", (), "3 tries · 12 s"),
    (Spend(2, 14.0, 2400, 0.2), Spend(2, 600, 0, 0.15), "run budget spent: ...", (),
     "2/2 tries · 14/600 s · 2,400 tokens · cost 0.2/0.15 · over budget"),
    (Spend(1, 3.0, 1200, 0.0), Spend(tokens=5000), "",
     ("fast: 1200 tokens (budget_tokens = 1000)",),
     "1 tries · 3 s · 1,200/5,000 tokens · spent: fast"),
])
def test_the_spend_line(spent: Spend, limits: Spend, over: str, exhausted: tuple[str, ...],
                        text: str) -> None:
    assert describe(spent, limits, over, exhausted) == text


def test_the_read_model_keeps_the_latest_spend() -> None:
    model = ReadModel()
    assert model.spend is None
    first = HealSpend(RunSpend(Spend(1, 2.0)), Spend(attempts=2))
    second = HealSpend(RunSpend(Spend(2, 4.0)), Spend(attempts=2), "run budget spent: x")
    model.apply(first)
    model.apply(second)
    assert model.spend is second


async def test_posted_spend_events_reach_the_queue_subtitle(tmp_path: Path) -> None:
    app = make_app(sample_root(tmp_path))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        queue = app.dashboard.query_one(HealQueue)
        assert not queue.border_subtitle  # no heal run yet: nothing to show
        post(app, [HealSpend(RunSpend(Spend(1, 5.0, 300, 0.01)), Spend(attempts=4, cost=1.0))])
        await settle(pilot)
        assert str(queue.border_subtitle) == "1/4 tries · 5 s · 300 tokens · cost 0.01/1"
        assert app.model.spend is not None and app.model.spend.spent.run.attempts == 1


async def test_a_run_over_its_budget_shows_in_the_queue(tmp_path: Path,
                                                        api: FakeOpenAI) -> None:
    root = sample_root(tmp_path)
    (root / ".dreamscape").mkdir()
    (root / ".dreamscape" / "config.toml").write_text(
        api_config(api, "\n[budget]\nattempts = 2"))
    app = make_app(root, autostart=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.phase == "idle" and bool(app.model.escalations()),
                         120, "the heals to finish")
        await settle(pilot)
        subtitle = str(app.dashboard.query_one(HealQueue).border_subtitle)
        assert subtitle.startswith("2/2 tries · ") and subtitle.endswith(" · over budget")
        assert len(api.requests) == 2
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, 30, "the app to exit")
