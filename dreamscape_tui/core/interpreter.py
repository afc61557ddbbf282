"""Which Python runs a project's tests: the project's own, not dreamscape's.

A project's tests import its dependencies, and those live in the project's virtualenv.
Checks and validations therefore run the interpreter the project itself uses:
``[checks] python`` when set, else the first of ``$VIRTUAL_ENV``, ``PATH/.venv``,
``PATH/venv``, uv's ``UV_PROJECT_ENVIRONMENT`` and poetry's environment (each only when
that tool is installed and the project uses it), else dreamscape's own interpreter.
The choice is remembered per project, because asking poetry costs a subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dreamscape_tui.core.schema import ConfigError

_VENV_PYTHONS = ("bin/python", "bin/python3", "Scripts/python.exe")
_POETRY_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class Interpreter:
    """An interpreter and where the choice came from (said in every error about it)."""

    path: str
    source: str  # e.g. "[checks] python", "PROJECT/.venv", "dreamscape's own interpreter"

    def describe(self) -> str:
        return f"{self.path} ({self.source})"


def venv_python(env_dir: Path) -> Path | None:
    """The python executable inside a virtualenv directory, if there is one."""
    for rel in _VENV_PYTHONS:
        candidate = env_dir / rel
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _configured(root: Path, value: str) -> Interpreter:
    path = Path(value).expanduser()
    path = path if path.is_absolute() else root / path
    if path.is_dir():
        found = venv_python(path)
        if found is None:
            raise ConfigError(f"[checks] python: {path} is a directory with no bin/python "
                              "(give a python executable or a virtualenv directory)")
        path = found
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ConfigError(f"[checks] python: {path} is not an executable file")
    return Interpreter(str(path), "[checks] python")


def _uses_poetry(root: Path) -> bool:
    if (root / "poetry.lock").is_file():
        return True
    try:
        with (root / "pyproject.toml").open("rb") as fh:
            return "poetry" in tomllib.load(fh).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False


def _poetry_env(root: Path) -> Path | None:
    """Poetry's environment for ``root`` (``poetry env info --path``), if it has one."""
    poetry = shutil.which("poetry")
    if poetry is None or not _uses_poetry(root):
        return None
    try:
        proc = subprocess.run([poetry, "env", "info", "--path"], cwd=root, text=True,
                              capture_output=True, timeout=_POETRY_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    line = proc.stdout.strip().splitlines()[-1:] if proc.returncode == 0 else []
    return Path(line[0]) if line else None


def _detected(root: Path) -> Interpreter:
    candidates: list[tuple[Path | None, str]] = []
    if os.environ.get("VIRTUAL_ENV"):
        candidates.append((Path(os.environ["VIRTUAL_ENV"]), "$VIRTUAL_ENV"))
    candidates += [(root / ".venv", "PROJECT/.venv"), (root / "venv", "PROJECT/venv")]
    uv_env = os.environ.get("UV_PROJECT_ENVIRONMENT")
    if uv_env and shutil.which("uv") and (root / "uv.lock").is_file():
        candidates.append((root / uv_env, "uv's UV_PROJECT_ENVIRONMENT"))
    for env_dir, source in candidates:
        found = venv_python(env_dir) if env_dir else None
        if found is not None:
            return Interpreter(str(found), source)
    poetry = _poetry_env(root)
    found = venv_python(poetry) if poetry else None
    if found is not None:
        return Interpreter(str(found), "poetry's environment")
    return Interpreter(sys.executable, "dreamscape's own interpreter")


@lru_cache(maxsize=32)
def _cached(root: Path, configured: str, virtual_env: str) -> Interpreter:
    del virtual_env  # part of the cache key only: activating another venv changes the answer
    return _configured(root, configured) if configured else _detected(root)


def project_python(root: Path, configured: str = "") -> Interpreter:
    """The interpreter that runs ``root``'s tests (see the module docstring).

    Raises ConfigError when ``[checks] python`` names something that is not a python.
    """
    return _cached(root.resolve(), configured, os.environ.get("VIRTUAL_ENV", ""))
