"""A read-only engine (beside the process holding the lock) shows state and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core.config import load_config
from dreamscape_tui.core.engine import AutomationEngine
from dreamscape_tui.core.errors import UserError
from dreamscape_tui.core.events import Event, HealChanged
from tests.fake_openai import FakeOpenAI, fake_openai_server
from tests.heal_helpers import api_config, sample_project, scripted


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        scripted(server)
        yield server


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_read_only_replays_and_scans_but_never_writes(tmp_path: Path, api: FakeOpenAI) -> None:
    root = sample_project(tmp_path, api_config(api))
    healer = AutomationEngine(root, load_config(root, None))
    try:
        healer.run_all()
    finally:
        healer.close()
    before = snapshot(root)
    events: list[Event] = []
    viewer = AutomationEngine(root, load_config(root, None), read_only=True, sink=events.append)
    try:
        viewer.replay()
        report = viewer.scan()
        assert report.files  # the cache is read
        items = [e.item for e in events if isinstance(e, HealChanged)]
        assert {i.path for i in items} == {"calc.py", "greet.py", "shop/cart.py",
                                            "inventory.py"}
        escalated = next(i for i in items if i.state == "escalated")
        for attempt in (viewer.heal, lambda: viewer.reject(escalated.id),
                        lambda: viewer.retry(escalated.id, "hint"), viewer.undo,
                        lambda: viewer.accept(escalated.id)):
            with pytest.raises(UserError, match="read-only"):
                attempt()
    finally:
        viewer.close()
    assert snapshot(root) == before  # not a byte: no cache write, no journal repair
