"""The package as users install it: ``pip install .`` without extras can run a heal.

pytest is a runtime dependency (checks and validations run it); this proves it from a
fresh virtualenv with nothing but the package and its declared dependencies, healing
the sample project through a loopback openai-api model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fake_openai import fake_openai_server
from tests.heal_helpers import api_config, sample_project, scripted

pytestmark = pytest.mark.install


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with ``pip install REPO`` (no extras); its bin directory."""
    venv = tmp_path_factory.mktemp("user") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    proc = subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q",
                           "--disable-pip-version-check", str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return venv / "bin"


def test_installed_package_heals_without_the_test_extra(installed: Path,
                                                        tmp_path: Path) -> None:
    extras = subprocess.run([str(installed / "python"), "-m", "pip", "list",
                             "--format=json"], capture_output=True, text=True, check=True)
    names = {p["name"].lower() for p in json.loads(extras.stdout)}
    assert "pytest" in names and not names & {"pytest-asyncio", "pytest-textual-snapshot",
                                              "ruff", "mypy"}
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    with fake_openai_server() as api:
        scripted(api)
        root = sample_project(tmp_path, api_config(api))
        proc = subprocess.run([str(installed / "dreamscape"), "heal", "--headless", "--json",
                               str(root)], capture_output=True, text=True, timeout=300,
                              env=env, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr  # three healed, one waits for review
    data = json.loads(proc.stdout)
    assert len(data["healed"]) == 3 and len(data["escalated"]) == 1
    assert data["stats"]["check_errors"] == []
