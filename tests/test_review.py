"""Review actions on escalations, at the engine level: accept, reject, retry with a hint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core.config import load_config
from dreamscape_tui.core.engine import AutomationEngine
from dreamscape_tui.core.errors import UserError
from dreamscape_tui.core.healtypes import HealState
from dreamscape_tui.practice.sample import FIXED_CART, SAMPLE_FILES, scripted_answer
from tests.fake_openai import FakeOpenAI, Scripted, fake_openai_server
from tests.heal_helpers import api_config, sample_project, scripted


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        scripted(server)
        yield server


@pytest.fixture
def engine(tmp_path: Path, api: FakeOpenAI) -> Iterator[AutomationEngine]:
    # a tiny diff-share limit: every validated fix waits for review instead of landing
    root = sample_project(tmp_path, api_config(api, "max_diff_share = 0.01"))
    engine = AutomationEngine(root, load_config(root, None))
    engine.run_all()
    yield engine
    engine.close()


def escalated(engine: AutomationEngine, path: str) -> int:
    [item] = [i for i in engine.heals.items((HealState.ESCALATED,)) if i.path == path]
    return item.id


def test_accept_revalidates_and_applies_with_backup(engine: AutomationEngine) -> None:
    heal_id = escalated(engine, "shop/cart.py")
    target = engine.root / "shop" / "cart.py"
    backup = engine.accept(heal_id)
    assert target.read_text() == FIXED_CART
    assert backup.read_text() == SAMPLE_FILES["shop/cart.py"]
    assert engine.heals.get(heal_id).state is HealState.ACCEPTED  # type: ignore[union-attr]
    with pytest.raises(UserError, match="not waiting for review"):
        engine.accept(heal_id)


def test_accept_never_overwrites_a_newer_user_edit(engine: AutomationEngine) -> None:
    heal_id = escalated(engine, "shop/cart.py")
    target = engine.root / "shop" / "cart.py"
    mine = SAMPLE_FILES["shop/cart.py"] + "# my own change\n"
    target.write_text(mine)
    with pytest.raises(UserError, match="changed since this fix was made"):
        engine.accept(heal_id)
    assert target.read_text() == mine
    # still waiting for the person, whatever step the apply reached
    assert engine.heals.get(heal_id).state is HealState.ESCALATED  # type: ignore[union-attr]


def test_accept_refuses_a_candidate_that_fails(engine: AutomationEngine) -> None:
    heal_id = escalated(engine, "inventory.py")  # its best candidate fails the test
    before = (engine.root / "inventory.py").read_bytes()
    with pytest.raises(UserError, match="does not validate"):
        engine.accept(heal_id)
    assert (engine.root / "inventory.py").read_bytes() == before


def test_reject_leaves_the_file_byte_identical(engine: AutomationEngine) -> None:
    heal_id = escalated(engine, "calc.py")
    before = (engine.root / "calc.py").read_bytes()
    engine.reject(heal_id)
    assert (engine.root / "calc.py").read_bytes() == before
    assert engine.heals.get(heal_id).state is HealState.REJECTED  # type: ignore[union-attr]


def test_retry_with_hint_reaches_the_prompt(engine: AutomationEngine, api: FakeOpenAI) -> None:
    heal_id = escalated(engine, "inventory.py")
    api.requests.clear()
    api.fallback = lambda prompt: Scripted.answer(scripted_answer(prompt))
    engine.retry(heal_id, "restocking adds to the stock")
    engine.heal()
    prompts = [r["messages"][0]["content"] for r in api.requests]
    assert prompts and "## A hint from the developer\nrestocking adds to the stock" in prompts[0]
