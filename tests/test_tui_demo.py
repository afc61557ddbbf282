"""``dreamscape demo``'s pieces: its config, and a practice model that follows hints."""

from __future__ import annotations

from pathlib import Path

from dreamscape_tui.commands.demo import HINT_HEADING, MODELS, demo_config, practice_answer
from dreamscape_tui.core.config import load_config
from dreamscape_tui.core.prompt import build_prompt
from dreamscape_tui.practice.sample import SAMPLE_FILES, scripted_answer
from tests.test_tui_support import INVENTORY_FIX, inventory_failure, sample_root


def test_demo_config_drives_the_practice_page(tmp_path: Path) -> None:
    url = "http://127.0.0.1:4321/"
    config = demo_config(load_config(tmp_path, None), url)
    assert [m.name for m in config.models] == list(MODELS) == list(config.routing.ladder)
    assert all(m.kind == "webchat" and m.url == f"{url}?model={m.name}" for m in config.models)
    assert config.sessions.home_url == url and config.sessions.headless
    assert config.sessions.size == 2 and config.sessions.driver == "local"


def test_practice_model_follows_a_hint_for_the_escalated_file(tmp_path: Path) -> None:
    root = sample_root(tmp_path)
    failure = inventory_failure()
    plain = build_prompt(root, failure, SAMPLE_FILES["inventory.py"], None, [], "")
    hinted = build_prompt(root, failure, SAMPLE_FILES["inventory.py"], None, [], "add it")
    assert HINT_HEADING not in plain and HINT_HEADING in hinted  # the heading core writes
    assert practice_answer(plain) == scripted_answer(plain)
    assert INVENTORY_FIX in practice_answer(hinted)
