"""A project whose suite hangs: found as a failure of the right file, then healed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli, write
from tests.fake_openai import FakeOpenAI, Scripted, fake_openai_server

COUNTDOWN = """\
def countdown(n):
    \"\"\"The numbers from n down to 1.\"\"\"
    out = []
    while n != 0:
        out.append(n)
        n -= 2
    return out
"""
FIXED = COUNTDOWN.replace("n -= 2", "n -= 1")
PROJECT: dict[str, str | bytes] = {
    "timer/__init__.py": "",
    "timer/countdown.py": COUNTDOWN,
    "timer/units.py": "def minutes(seconds):\n    return seconds / 60\n",
    "tests/test_countdown.py": "from timer.countdown import countdown\n\n\n"
                               "def test_three():\n    assert countdown(3) == [3, 2, 1]\n\n\n"
                               "def test_zero():\n    assert countdown(0) == []\n",
    "tests/test_units.py": "from timer.units import minutes\n\n\n"
                           "def test_minutes():\n    assert minutes(120) == 2\n\n\n"
                           "def test_whole():\n    assert minutes(90) == 1\n",
}
CONFIG = """
[[models]]
name = "fixer"
kind = "openai-api"
base_url = "{url}"
model = "fixer"
timeout_s = 30.0

[routing]
ladder = ["fixer"]

[checks]
test_timeout_s = 2

[heal]
max_attempts = 1
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, FakeOpenAI]]:
    with fake_openai_server() as api:
        root = write(tmp_path / "project", PROJECT)
        write(root, {".dreamscape/config.toml": CONFIG.format(url=api.url)})
        yield root, api


def test_check_lists_the_hang_under_its_source_file(project: tuple[Path, FakeOpenAI],
                                                    cli: Cli) -> None:
    root, _api = project
    result = cli("check", "--json", str(root))
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["errors"] == []
    by_path = {f["path"]: f for f in data["failures"]}
    assert set(by_path) == {"timer/countdown.py", "timer/units.py"}
    hang = by_path["timer/countdown.py"]
    assert hang["tests"] == ["tests/test_countdown.py::test_three"]  # one timeout, not two
    assert "Timeout: the test ran over 2 s" in hang["message"]
    assert "while n != 0" in hang["details"]  # the stack where it was stuck
    assert by_path["timer/units.py"]["tests"] == ["tests/test_units.py::test_whole"]


def test_heal_headless_heals_the_hang(project: tuple[Path, FakeOpenAI]) -> None:
    root, api = project

    def answer(prompt: str) -> Scripted:
        if "timer/countdown.py" in prompt:
            return Scripted.answer("The step is wrong:\n\n```python\n" + FIXED + "```\n")
        return Scripted.answer("```python\ndef minutes(seconds):\n    return seconds // 60\n```")

    api.fallback = answer
    exe = Path(sys.executable).with_name("dreamscape")
    proc = subprocess.run([str(exe), "heal", "--headless", "--json", str(root)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {h["path"] for h in data["healed"]} == {"timer/countdown.py", "timer/units.py"}
    assert (root / "timer/countdown.py").read_text() == FIXED
    rerun = subprocess.run([str(exe), "check", "--json", str(root)], capture_output=True,
                           text=True, timeout=120)
    assert json.loads(rerun.stdout) == {"failures": [], "errors": []}
