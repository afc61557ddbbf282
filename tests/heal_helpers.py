"""Shared set-up for heal tests: a sample project, configs, and its test results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dreamscape_tui.practice.sample import SAMPLE_FILES, write_sample
from tests.fake_openai import FakeOpenAI, Scripted

if TYPE_CHECKING:
    from dreamscape_tui.core.engine import HealSummary

TEST_FILES = sorted(p for p in SAMPLE_FILES if p.startswith("tests/"))


def api_config(api: FakeOpenAI, extra: str = "") -> str:
    """A config whose ladder is two openai-api models served by ``api``."""
    return f"""
[[models]]
name = "fast"
kind = "openai-api"
base_url = "{api.url}"
model = "fast-coder"
timeout_s = 30.0

[[models]]
name = "strong"
kind = "openai-api"
base_url = "{api.url}"
model = "strong-coder"
timeout_s = 30.0

[routing]
ladder = ["fast", "strong"]

[checks]
pytest_timeout_s = 120.0

[heal]
validation_timeout_s = 60.0
{extra}
"""


def sample_project(tmp: Path, config: str) -> Path:
    root = write_sample(tmp / "project")
    cfg = root / ".dreamscape" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(config)
    return root


def heal_once(root: Path) -> HealSummary:
    """One whole engine pass (scan, check, heal) on ``root``, the engine closed after."""
    from dreamscape_tui.core.config import load_config
    from dreamscape_tui.core.engine import AutomationEngine

    engine = AutomationEngine(root, load_config(root, None))
    try:
        return engine.run_all()
    finally:
        engine.close()


def scripted(api: FakeOpenAI) -> None:
    from dreamscape_tui.practice.sample import scripted_answer

    api.fallback = lambda prompt: Scripted.answer(scripted_answer(prompt))


def failing_tests(root: Path) -> set[str]:
    """Node ids (or files, for collection errors) that fail in ``root`` right now."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-rfE", "--continue-on-collection-errors"], cwd=root,
                          capture_output=True, text=True, timeout=120)
    failed = set()
    for line in proc.stdout.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            failed.add(line.split()[1])
    return failed


def snapshot(root: Path, paths: list[str]) -> dict[str, bytes]:
    return {p: (root / p).read_bytes() for p in paths}
