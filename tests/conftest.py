"""Shared fixtures: every test runs with its own config home and no stray env config."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dreamscape_tui.cli import main

REPO = Path(__file__).resolve().parent.parent

# Session-scoped browser and chat-page fixtures, shared by every browser test.
pytest_plugins = ["tests.browser_fixtures"]


@pytest.fixture(autouse=True)
def isolated_config_home(tmp_path_factory: pytest.TempPathFactory,
                         monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Keep the developer's real ~/.config/dreamscape (and the browser profiles kept in
    ~/.local/share/dreamscape) out of every test."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.delenv("DREAMSCAPE_CONFIG", raising=False)
    monkeypatch.delenv("DREAMSCAPE_DEBUG", raising=False)
    yield home


@dataclass
class CliResult:
    code: int
    out: str
    err: str


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``dreamscape ARGS`` in-process and capture its exit code and output."""

    def run(*args: str) -> CliResult:
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def run_dreamscape(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
                   input: str | None = None, timeout: float = 120) -> CliResult:
    """Run the installed console script in a subprocess (what a user runs)."""
    exe = Path(sys.executable).with_name("dreamscape")
    proc = subprocess.run([str(exe), *args], cwd=cwd, env=env, input=input, text=True,
                          capture_output=True, timeout=timeout)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create files under ``root`` (parents too); returns ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root
