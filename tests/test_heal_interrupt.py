"""Pause and quit end a model answer in flight within a second, and cost no attempt."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core.config import load_config
from dreamscape_tui.core.engine import AutomationEngine
from dreamscape_tui.core.events import Event, HealChanged
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.healtypes import HealState
from dreamscape_tui.practice.sample import scripted_answer
from tests.fake_openai import FakeOpenAI, Scripted, fake_openai_server
from tests.heal_helpers import api_config, sample_project


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        yield server


class SlowFirstAnswer:
    """The model never answers its first prompt (for a minute); later ones at once."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.calls = 0

    def __call__(self, prompt: str) -> Scripted:
        self.calls += 1
        if self.calls == 1:
            self.asked.set()
            time.sleep(60)
        return Scripted.answer(scripted_answer(prompt))


def calc_only(root: Path) -> None:
    """Heal just calc.py: one item, one worker, so the test follows one model call."""
    for test in (root / "tests").glob("test_*.py"):
        if test.name != "test_calc.py":
            test.unlink()
    for name in ("greet.py", "inventory.py", "shop/cart.py"):
        (root / name).unlink(missing_ok=True)


def engine_for(root: Path, events: list[Event]) -> AutomationEngine:
    return AutomationEngine(root, load_config(root, None), sink=events.append)


def states(events: list[Event]) -> list[tuple[HealState, int]]:
    return [(e.item.state, e.item.attempts) for e in events if isinstance(e, HealChanged)]


def heal_in_background(tmp_path: Path, api: FakeOpenAI, events: list[Event]
                       ) -> tuple[Path, AutomationEngine, threading.Thread]:
    """calc.py healing in a thread, its model call in flight (the model is waiting)."""
    root = sample_project(tmp_path, api_config(api, "workers = 1"))
    calc_only(root)
    model = api.fallback = SlowFirstAnswer()
    engine = engine_for(root, events)
    runner = threading.Thread(target=engine.run_all)
    runner.start()
    assert model.asked.wait(60)
    return root, engine, runner


def test_pause_ends_the_answer_wait_and_the_attempt_does_not_count(
        tmp_path: Path, api: FakeOpenAI) -> None:
    events: list[Event] = []
    _, engine, runner = heal_in_background(tmp_path, api, events)
    try:
        paused = time.monotonic()
        engine.pause()
        while states(events)[-1] != (HealState.QUEUED, 0):
            assert time.monotonic() - paused < 1.0, states(events)
            time.sleep(0.02)
        [item] = engine.heals.items()
        assert item.attempts == 0 and item.log == ()  # not counted, nothing recorded
        engine.resume()
        runner.join(60)
        assert not runner.is_alive()
        [item] = engine.heals.items()
        assert (item.state, item.attempts) == (HealState.HEALED, 1)
    finally:
        engine.close()
        runner.join(10)


def test_quit_ends_the_answer_wait_and_the_next_run_resumes(
        tmp_path: Path, api: FakeOpenAI) -> None:
    root, engine, runner = heal_in_background(tmp_path, api, [])
    quitting = time.monotonic()
    engine.shutdown()
    runner.join(5)
    assert not runner.is_alive()
    assert time.monotonic() - quitting < 1.0
    engine.close()
    heals = HealStore.for_project(root)
    [item] = heals.items()
    heals.close()
    assert (item.state, item.attempts, item.log) == (HealState.QUEUED, 0, ())
    again = engine_for(root, [])
    try:
        summary = again.run_all()
    finally:
        again.close()
    assert [h["path"] for h in summary.healed] == ["calc.py"]
    assert summary.healed[0]["attempts"] == 1
