"""The learning loop end to end against a loopback openai-api model: the learned edit
format is asked for, accepted fixes become examples in later prompts (undone ones do
not), and the statistics are what ``models --stats`` shows, beside a held lock."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core.config import load_config
from dreamscape_tui.core.engine import AutomationEngine
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.healtypes import HealState
from dreamscape_tui.core.lock import ProjectLock
from dreamscape_tui.core.prompt import EXAMPLES_HEADING
from dreamscape_tui.practice.sample import target_of
from tests.conftest import Cli, write
from tests.fake_openai import FakeOpenAI, Scripted, fake_openai_server
from tests.heal_helpers import api_config, heal_once, sample_project, scripted

ASK_SR = "Answer with SEARCH/REPLACE blocks"
FILES = 4


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        scripted(server)
        yield server


def one_model_project(tmp: Path, api: FakeOpenAI) -> Path:
    """Four modules whose ``value()`` returns 0 where its test wants N; one model."""
    files: dict[str, str | bytes] = {}
    for n in range(1, FILES + 1):
        files[f"mod{n}.py"] = f'"""Module {n}."""\n\n\ndef value():\n    return 0\n'
        files[f"tests/test_mod{n}.py"] = (f"from mod{n} import value\n\n\n"
                                          f"def test_value():\n    assert value() == {n}\n")
    files[".dreamscape/config.toml"] = f"""
[[models]]
name = "coder"
kind = "openai-api"
base_url = "{api.url}"
model = "coder-1"
timeout_s = 30.0

[routing]
ladder = ["coder"]

[heal]
workers = 1
validation_timeout_s = 60.0

[learning]
min_tries = 3
"""
    return write(tmp / "project", files)


def test_a_model_is_asked_for_the_format_it_gets_right(tmp_path: Path, api: FakeOpenAI) -> None:
    """The scripted model answers SEARCH/REPLACE well and whole files badly, alternating
    when it may choose; after a few attempts it is asked for SEARCH/REPLACE only."""
    root = one_model_project(tmp_path, api)
    calls = []

    def model(prompt: str) -> Scripted:
        calls.append(prompt)
        target = target_of(prompt)
        n = int(re.sub(r"\D", "", target))
        if ASK_SR in prompt or len(calls) % 2 == 0:
            return Scripted.answer(f"Fixed:\n\n```\n{target}\n<<<<<<< SEARCH\n    return 0\n"
                                   f"=======\n    return {n}\n>>>>>>> REPLACE\n```\n")
        wrong = f'"""Module {n}."""\n\n\ndef value():\n    return -1\n'
        return Scripted.answer(f"The whole file:\n\n```python\n{wrong}```\n")

    api.fallback = model
    engine = AutomationEngine(root, load_config(root, None))
    try:
        summary = engine.run_all()
        stats = engine.heals.stats()
    finally:
        engine.close()
    assert len(summary.healed) == FILES and not summary.escalated
    asked = [ASK_SR in prompt for prompt in calls]
    # whole (wrong), SR (kept), whole (wrong): 3 tries, SR kept 1 of 1, whole 0 of 2
    assert asked == [False, False, False] + [True] * (len(calls) - 3)
    assert len(calls) == 6
    whole, sr = stats[("coder", "test", "whole-file")], stats[("coder", "test", "search-replace")]
    assert (whole.tries, whole.validated, whole.kept) == (2, 0, 0)
    assert (sr.tries, sr.validated, sr.applied, sr.kept) == (4, 4, 4, 4)
    assert sr.seconds > 0


def inventory_prompts(api: FakeOpenAI) -> list[str]:
    prompts = [r["messages"][0]["content"] for r in api.requests]
    return [p for p in prompts if target_of(p) == "inventory.py"]


def examples_of(prompt: str) -> str:
    assert EXAMPLES_HEADING in prompt
    return prompt[prompt.index(EXAMPLES_HEADING):prompt.index("## The current")]


GREET_FIX = '+    return "Hello, " + name + "!"'
CART_FIX = "-    return amount / len([])"


def test_accepted_fixes_are_examples_and_an_undone_one_is_not(tmp_path: Path,
                                                              api: FakeOpenAI) -> None:
    root = sample_project(tmp_path, api_config(api, "workers = 1"))
    engine = AutomationEngine(root, load_config(root, None))
    try:
        engine.run_all()  # cart, calc and greet healed; inventory escalated
        [inventory] = engine.heals.items((HealState.ESCALATED,))
        greet = next(i for i in engine.heals.items() if i.path == "greet.py")
        api.requests.clear()
        engine.retry(inventory.id, "restocking adds")
        engine.heal()
        shown = examples_of(inventory_prompts(api)[0])
        # the test-kind fixes kept in this project, most recent first; calc's is syntax
        assert GREET_FIX in shown and CART_FIX in shown and "calc.py" not in shown
        assert shown.index("greet.py") < shown.index("shop/cart.py")
        engine.undo(greet.id)
        api.requests.clear()
        engine.retry(inventory.id, "restocking adds, really")
        engine.heal()
        prompts = inventory_prompts(api)
        assert prompts and all(GREET_FIX not in examples_of(p) for p in prompts)
        assert CART_FIX in examples_of(prompts[0])
        stats = engine.heals.stats()
        fix = greet.log[greet.fixed_by - 1]
    finally:
        engine.close()
    cell = stats[(fix.model, "test", fix.format)]  # greet's fix, then undone
    assert cell.undone == 1 and cell.applied - cell.undone == cell.kept
    retried = sum(c.retried for c in stats.values())
    assert retried == 2  # the two retries of the escalation, with their hints


def test_learning_off_leaves_the_prompt_alone(tmp_path: Path, api: FakeOpenAI) -> None:
    root = sample_project(tmp_path, api_config(api, "workers = 1\n\n[learning]\nenabled = false"))
    heal_once(root)
    prompts = [r["messages"][0]["content"] for r in api.requests]
    assert prompts and not any(EXAMPLES_HEADING in p or ASK_SR in p for p in prompts)


def test_models_stats_text_and_json_beside_a_held_lock(tmp_path: Path, api: FakeOpenAI,
                                                       cli: Cli) -> None:
    root = sample_project(tmp_path, api_config(api, "workers = 1"))
    heal_once(root)
    journal = root / ".dreamscape" / "heals.jsonl"
    before = journal.read_bytes()
    lock = ProjectLock.acquire(root, "dreamscape (a test holding the lock)")
    try:
        result = cli("models", "--stats", "--json", str(root))
        assert result.code == 0, result.err
        data = json.loads(result.out)
        text = cli("models", "--stats", str(root))
        assert text.code == 0, text.err
    finally:
        lock.release()
    assert journal.read_bytes() == before  # read-only: not even a compaction
    heals = HealStore.for_project(root, read_only=True)
    items = heals.items()
    heals.close()
    # what the table must say, from the attempts themselves (routing by learned rates
    # and latency decides which model took which attempt)
    expected: dict[tuple[str, str, str], list[int]] = {}
    for item in items:
        for n, attempt in enumerate(item.log, 1):
            counts = expected.setdefault((attempt.model, item.kind, attempt.format), [0, 0, 0])
            counts[0] += 1
            counts[1] += attempt.outcome == "validated"
            counts[2] += item.state is HealState.HEALED and item.fixed_by == n
    assert sum(c[2] for c in expected.values()) == 3  # cart, calc, greet
    rows = {(r["model"], r["kind"], r["format"]): r for r in data["stats"]}
    assert {k: [r["tries"], r["validated"], r["kept"]] for k, r in rows.items()} == expected
    calc = rows[("fast", "syntax", "search-replace")]
    assert (calc["tries"], calc["kept"], calc["rate"]) == (1, 1, 1.0)
    assert calc["mean_seconds"] > 0 and calc["tokens"] == 0 and calc["cost"] == 0
    assert {"applied", "undone", "accepted", "rejected", "retried"} <= set(calc)
    assert [m["model"] for m in data["models"]] == ["fast", "strong"]
    assert data["ladder"] == ["fast", "strong"]
    lines = text.out.splitlines()
    assert lines[0].split() == ["model", "kind", "format", "tries", "validated", "kept", "rate",
                                "secs", "tokens", "cost"]
    calc_line = next(line for line in lines if line.split()[:3] == ["fast", "syntax",
                                                                    "search-replace"])
    assert calc_line.split()[3:7] == ["1", "1", "1", "100%"]
    assert len([line for line in lines if line.split()[:1] in (["fast"], ["strong"])]) \
        == len(rows)
    assert lines[-1] == "ladder: fast -> strong"
    assert any(line.startswith("fast: ") and "kept" in line for line in lines)


def test_models_stats_of_a_project_never_healed(tmp_path: Path, cli: Cli) -> None:
    result = cli("models", "--stats", str(tmp_path))
    assert result.code == 0 and "no heal attempts recorded" in result.out
    assert not (tmp_path / ".dreamscape").exists()  # looking creates nothing
    data = json.loads(cli("models", "--stats", "--json", str(tmp_path)).out)
    assert data["stats"] == [] and data["models"] == []
    missing = cli("models", "--stats", str(tmp_path / "nope"))
    assert missing.code == 2 and "no such directory" in missing.err
    without = cli("models", str(tmp_path))
    assert without.code == 2 and "only with --stats" in without.err


def test_reviewer_decisions_are_counted_and_an_accepted_fix_is_an_example(
        tmp_path: Path, api: FakeOpenAI) -> None:
    # a tiny diff-share limit: every validated fix waits for review instead of landing
    root = sample_project(tmp_path, api_config(api, "workers = 1\nmax_diff_share = 0.01"))
    engine = AutomationEngine(root, load_config(root, None))
    try:
        engine.run_all()
        waiting = {i.path: i for i in engine.heals.items((HealState.ESCALATED,))}
        assert engine.heals.accepted_fixes("test") == []  # nothing kept yet
        cart, calc = waiting["shop/cart.py"], waiting["calc.py"]
        engine.accept(cart.id)
        engine.reject(calc.id)
        accepted = engine.heals.get(cart.id)
        stats = engine.heals.stats()
        fixes = engine.heals.accepted_fixes("test")
    finally:
        engine.close()
    assert accepted is not None and accepted.fixed_by == cart.best.attempt  # type: ignore[union-attr]
    made = accepted.log[accepted.fixed_by - 1]
    cell = stats[(made.model, "test", made.format)]
    assert (cell.accepted, cell.applied, cell.kept) == (1, 1, 1)
    offered = calc.log[-1]
    assert stats[(offered.model, "syntax", offered.format)].rejected == 1
    assert [f.path for f in fixes] == ["shop/cart.py"] and CART_FIX in fixes[0].diff
