"""Run a project's pytest in a subprocess and read every test's outcome.

Used twice: by the checks (in the user's tree, read-only) and by heal validation (in an
isolated copy). The report comes from a tiny plugin (``pytest_report.py``) copied to a
private directory put on PYTHONPATH, so it loads into any interpreter the user
configures without shadowing the project's own modules.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from dreamscape_tui.core.config import ChecksConfig
from dreamscape_tui.core.errors import UserError

PLUGIN_MODULE = "_dreamscape_pytest_report"
NO_TESTS_COLLECTED = 5


class TestRunError(UserError):
    """pytest could not run, crashed or timed out."""

    __test__ = False  # not a pytest test class, despite the name


class TestRunCancelled(TestRunError):
    """The run was stopped because the engine is shutting down (the user quit)."""

    __test__ = False


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """One test's (or one collection error's) result."""

    __test__ = False

    nodeid: str
    outcome: str  # passed | failed | error | skipped
    message: str = ""
    details: str = ""
    frames: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "error")


def is_test_file(rel: str) -> bool:
    """Test modules and pytest support files, which heals must not edit."""
    path = PurePosixPath(rel)
    name = path.name
    return (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
            or any(part in ("tests", "test", "testing") for part in path.parts[:-1]))


def pytest_command(config: ChecksConfig) -> list[str]:
    base = shlex.split(config.pytest_command) if config.pytest_command else [
        sys.executable, "-m", "pytest"]
    return [*base, "-p", PLUGIN_MODULE, "-p", "no:cacheprovider",
            "--continue-on-collection-errors", "-q", "--no-header", *config.pytest_args]


def run_pytest(root: Path, config: ChecksConfig, node_ids: Sequence[str] = (),
               timeout_s: float | None = None,
               cancel: threading.Event | None = None) -> list[TestOutcome]:
    """Run pytest in ``root`` (optionally only ``node_ids``); every outcome, in order.

    ``cancel`` stops a long run within a fraction of a second (the user quit), killing
    the whole process group so no test process outlives the app.
    """
    timeout = timeout_s if timeout_s is not None else config.pytest_timeout_s
    with tempfile.TemporaryDirectory(prefix="dreamscape-pytest-") as tmp:
        plugin_dir = Path(tmp)
        source = resources.files("dreamscape_tui.core").joinpath("pytest_report.py")
        (plugin_dir / f"{PLUGIN_MODULE}.py").write_text(source.read_text(encoding="utf-8"))
        report = plugin_dir / "report.jsonl"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [tmp, env.get("PYTHONPATH")]))
        env["DREAMSCAPE_PYTEST_REPORT"] = str(report)
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ in the user's tree
        try:
            proc = subprocess.Popen([*pytest_command(config), *node_ids], cwd=root, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, errors="replace", start_new_session=True)
        except OSError as exc:
            raise TestRunError(f"cannot run pytest: {exc}") from None
        output = _wait(proc, timeout, cancel)
        records = [json.loads(line) for line in report.read_text().splitlines()] \
            if report.exists() else []
    if not records and proc.returncode not in (0, NO_TESTS_COLLECTED):
        tail = " ".join(output.strip().splitlines()[-3:])[:300]
        raise TestRunError(f"pytest failed to run (exit {proc.returncode}): {tail}")
    return [TestOutcome(r["nodeid"], r["outcome"], r["message"], r["details"],
                        tuple(r["frames"])) for r in records]


def _wait(proc: subprocess.Popen[str], timeout: float, cancel: threading.Event | None) -> str:
    """The run's output; kills its process group on timeout or cancel."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            output, _ = proc.communicate(timeout=0.2)
            return output
        except subprocess.TimeoutExpired:
            cancelled = cancel is not None and cancel.is_set()
            if not cancelled and time.monotonic() < deadline:
                continue
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            if cancelled:
                raise TestRunCancelled("pytest was stopped: shutting down") from None
            raise TestRunError(f"pytest did not finish within {timeout:g} s") from None
