"""The heal engine end to end against a loopback openai-api model with scripted answers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_tui.core.apply import content_hash
from dreamscape_tui.core.config import load_config
from dreamscape_tui.core.engine import AutomationEngine
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.healtypes import HealState, parse_heal_id
from dreamscape_tui.practice.sample import (
    ESCALATED,
    FIXED_CART,
    HEALED,
    SAMPLE_FILES,
    scripted_answer,
    target_of,
)
from tests.conftest import Cli
from tests.fake_openai import FakeOpenAI, Scripted, fake_openai_server
from tests.heal_helpers import (
    TEST_FILES,
    api_config,
    failing_tests,
    heal_once,
    sample_project,
    scripted,
    snapshot,
)


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        scripted(server)
        yield server


def heal_cli(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("dreamscape")
    return subprocess.run([str(exe), "heal", "--headless", "--json", str(root), *args],
                          capture_output=True, text=True, timeout=timeout)


def test_heals_the_sample_project_and_escalates_the_rest(tmp_path: Path, api: FakeOpenAI,
                                                         cli: Cli) -> None:
    root = sample_project(tmp_path, api_config(api))
    untouched = snapshot(root, [*TEST_FILES, *ESCALATED])
    originals = snapshot(root, sorted(HEALED))
    result = cli("heal", "--headless", "--json", str(root))
    assert result.code == 3, result.err  # an escalation is waiting for review
    data = json.loads(result.out)
    assert {h["path"] for h in data["healed"]} == HEALED
    assert {e["path"] for e in data["escalated"]} == ESCALATED
    attempts = {h["path"]: h["attempts"] for h in data["healed"]}
    assert attempts == {"shop/cart.py": 1, "calc.py": 1, "greet.py": 2}
    models = {h["path"]: h["model"] for h in data["healed"]}
    assert models["greet.py"] == "strong"  # the second attempt climbed the ladder
    assert failing_tests(root) == {"tests/test_inventory.py::test_restock"}
    assert snapshot(root, [*TEST_FILES, *ESCALATED]) == untouched
    for entry in data["healed"]:  # backups hold the exact originals
        assert (root / entry["backup"]).read_bytes() == originals[entry["path"]]
    escalated = data["escalated"][0]
    assert escalated["attempts"] == 3 and "attempts exhausted" in escalated["reason"]
    heals = HealStore.for_project(root)
    item = heals.get(parse_heal_id(escalated["id"]))
    assert item is not None
    reasons = [a.reason for a in item.log]
    heals.close()
    assert "test file" in reasons[0] and "outside the project" in reasons[2]
    assert not list(root.rglob("__pycache__"))

    greet = next(h for h in data["healed"] if h["path"] == "greet.py")
    undone = cli("undo", str(root), "--heal", greet["id"])
    assert undone.code == 0, undone.err
    assert (root / "greet.py").read_bytes() == originals["greet.py"]
    assert cli("undo", str(root), "--heal", greet["id"]).code == 1  # not twice
    latest = cli("undo", str(root))
    assert latest.code == 0 and "restored" in latest.out
    assert sum((root / p).read_bytes() == originals[p] for p in HEALED) == 2


def test_prompts_carry_the_failure_tests_metrics_and_history(tmp_path: Path,
                                                             api: FakeOpenAI) -> None:
    root = sample_project(tmp_path, api_config(api, "workers = 1"))
    heal_once(root)
    greet = [r["messages"][0]["content"] for r in api.requests
             if target_of(r["messages"][0]["content"]) == "greet.py"]
    assert len(greet) == 2
    first, second = greet
    assert "Hello, Ada!" in first and "def test_greet" in first  # failure + test source
    assert "Radon summary" in first and 'return "hello " + name' in first
    assert "## Attempt 1 (fast) failed" in second and "tests still fail" in second
    assert '-    return "hello " + name' in second  # what attempt 1 changed


def test_dry_run_changes_nothing(tmp_path: Path, api: FakeOpenAI) -> None:
    root = sample_project(tmp_path, api_config(api))
    before = snapshot(root, list(SAMPLE_FILES))
    proc = heal_cli(root, "--dry-run")
    assert proc.returncode == 3, proc.stderr
    assert {h["path"] for h in json.loads(proc.stdout)["healed"]} == HEALED
    assert snapshot(root, list(SAMPLE_FILES)) == before
    assert not (root / ".dreamscape" / "state.json").exists()


def test_sigkill_mid_heal_then_rerun_resumes(tmp_path: Path, api: FakeOpenAI) -> None:
    root = sample_project(tmp_path, api_config(api))
    answered = []

    def slow_first(prompt: str) -> Scripted:
        answered.append(prompt)
        if len(answered) <= 2:
            time.sleep(30)  # the process is killed while waiting for these answers
        return Scripted.answer(scripted_answer(prompt))

    api.fallback = slow_first
    exe = Path(sys.executable).with_name("dreamscape")
    proc = subprocess.Popen([str(exe), "heal", "--headless", "--json", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while len(answered) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    heals = HealStore.for_project(root)
    states = {i.path: i.state for i in heals.items()}
    heals.close()
    assert "running" in states.values()  # killed mid-heal, and that was persisted
    api.fallback = lambda prompt: Scripted.answer(scripted_answer(prompt))
    rerun = heal_cli(root)
    assert rerun.returncode == 3, rerun.stderr
    heals = HealStore.for_project(root)
    items, journal = heals.items(), heals.applied_fixes()
    heals.close()
    assert {i.path for i in items if i.state == "healed"} == HEALED
    assert {i.path for i in items if i.state == "escalated"} == ESCALATED
    assert len(items) == 4  # nothing queued twice
    assert sorted(e.path for e in journal) == sorted(HEALED)  # applied once each
    assert failing_tests(root) == {"tests/test_inventory.py::test_restock"}


def test_user_edit_during_heal_is_not_overwritten(tmp_path: Path, api: FakeOpenAI) -> None:
    root = sample_project(tmp_path, api_config(api, "workers = 1"))
    user_version = SAMPLE_FILES["shop/cart.py"].replace("amount = 0", "amount = 0  # mine")

    def racing_user(prompt: str) -> Scripted:
        if target_of(prompt) != "shop/cart.py":
            return Scripted.answer(scripted_answer(prompt))
        if "# mine" not in prompt:  # the user saves the file while the model thinks
            (root / "shop" / "cart.py").write_text(user_version)
            return Scripted.answer("```python\n" + FIXED_CART + "```")
        return Scripted.answer("I cannot tell.")

    api.fallback = racing_user
    proc = heal_cli(root)
    assert proc.returncode == 3, proc.stderr
    assert (root / "shop" / "cart.py").read_text() == user_version
    data = json.loads(proc.stdout)
    assert "shop/cart.py" in {e["path"] for e in data["escalated"]}


def test_interrupted_apply_rolls_forward_exactly_once(tmp_path: Path, api: FakeOpenAI) -> None:
    root = sample_project(tmp_path, api_config(api))
    original = (root / "shop" / "cart.py").read_bytes()
    engine = AutomationEngine(root, load_config(root, None))
    try:
        engine.scan()
        failures = [f for f in engine.check(sorted(SAMPLE_FILES)).failures
                    if f.path == "shop/cart.py"]
        [heal_id] = engine.enqueue(failures)
        # what a process killed right after journaling the apply leaves behind
        engine.heals.record_apply(heal_id, path="shop/cart.py", backup="b", state="applying",
                                  before_hash=content_hash(original),
                                  after_hash=content_hash(FIXED_CART.encode()))
        engine.heals.update(heal_id, state=HealState.APPLYING, applying=FIXED_CART)
        assert engine.recover() == 1
        assert (root / "shop" / "cart.py").read_text() == FIXED_CART
        assert engine.heals.get(heal_id).state is HealState.HEALED  # type: ignore[union-attr]
        assert engine.recover() == 0  # and nothing is applied a second time
    finally:
        engine.close()


@pytest.mark.parametrize(("extra", "reason"), [
    ('escalate_rank = "A"', "complexity rank A is at or above the limit A"),
    ("max_diff_share = 0.05", "rewrites"),
    ("same_error_limit = 1", "the same error 1 times"),
])
def test_thresholds_escalate(tmp_path: Path, api: FakeOpenAI, extra: str, reason: str) -> None:
    root = sample_project(tmp_path, api_config(api, extra))
    data = json.loads(heal_cli(root).stdout)
    reasons = [e["reason"] for e in data["escalated"]]
    assert any(reason in r for r in reasons), reasons
    if "rank" in extra:  # only calc.py (a syntax error, so no radon rank) reached a model
        assert [h["path"] for h in data["healed"]] == ["calc.py"]
        assert {target_of(r["messages"][0]["content"]) for r in api.requests} == {"calc.py"}


def test_validation_timeout_escalates(tmp_path: Path, api: FakeOpenAI) -> None:
    root = sample_project(tmp_path, api_config(api).replace(
        "validation_timeout_s = 60.0", "validation_timeout_s = 2.0"))
    hang = "import time\n\n\ndef restock(stock, amount):\n    time.sleep(60)\n"

    def hanging(prompt: str) -> Scripted:
        if target_of(prompt) == "inventory.py":
            return Scripted.answer("```python\n" + hang + "```")
        return Scripted.answer(scripted_answer(prompt))

    api.fallback = hanging
    data = json.loads(heal_cli(root).stdout)
    inventory = next(e for e in data["escalated"] if e["path"] == "inventory.py")
    assert "validation timed out" in inventory["reason"]


def test_learned_statistics_reorder_the_ladder(tmp_path: Path) -> None:
    heals = HealStore(tmp_path / "heals.jsonl")
    assert heals.learned_order("test") == []
    for _ in range(3):  # success is a fix kept: validated, applied and not undone
        heals.record_outcome("fast", "test", False)
        heals.record_outcome("strong", "test", True)
        heals.record_verdict("strong", "test", "", "applied")
    assert heals.learned_order("test") == ["strong", "fast"]
    assert heals.learned_order("syntax") == []
    heals.close()
    reopened = HealStore(tmp_path / "heals.jsonl")  # the statistics are durable
    assert reopened.learned_order("test") == ["strong", "fast"]


@pytest.mark.parametrize(("args", "needle"), [
    ([], "--headless"),
    (["--headless", "--max-attempts", "0"], "--max-attempts"),
    (["--headless", "--model", "nope"], "unknown model 'nope'"),
])
def test_heal_usage_errors(tmp_path: Path, cli: Cli, args: list[str], needle: str) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    result = cli("heal", str(tmp_path), *args)
    assert result.code == 2 and needle in result.err and result.err.count("\n") == 1


def test_undo_with_nothing_to_undo(tmp_path: Path, cli: Cli) -> None:
    result = cli("undo", str(tmp_path))
    assert result.code == 1 and "nothing to undo" in result.err


def test_an_unchanged_file_is_a_failed_attempt_without_validation(tmp_path: Path,
                                                                  api: FakeOpenAI) -> None:
    root = sample_project(tmp_path, api_config(api))
    api.fallback = lambda prompt: Scripted.answer(
        "Nothing to fix:\n\n```python\n" + SAMPLE_FILES[target_of(prompt)] + "```\n")
    proc = heal_cli(root, "--max-attempts", "1")
    assert proc.returncode == 3, proc.stderr
    reasons = {e["path"]: e["reason"] for e in json.loads(proc.stdout)["escalated"]}
    assert reasons == dict.fromkeys(reasons, "attempts exhausted (1): the answer changes nothing")
    assert len(reasons) == 4
    heals = HealStore.for_project(root)
    attempts = [a for item in heals.items() for a in item.log]
    heals.close()
    assert [(a.outcome, a.reason, a.diff) for a in attempts] == [
        ("failed", "the answer changes nothing", "")] * 4
