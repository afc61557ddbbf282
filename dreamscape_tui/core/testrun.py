"""Run a project's pytest with its own interpreter and read every test's outcome.

Used twice: by the checks (in the user's tree, read-only) and by heal validation (in an
isolated copy). The run is supervised, because real suites hang:

- dreamscape's plugin (``pytest_report.py``, copied to a private directory put on
  PYTHONPATH so it loads into any interpreter without shadowing the project's modules)
  bounds each test's time and streams each result to a report file as it ends;
- ``jobs`` pytest processes share the test files out between them (each takes whole
  files, first come first served), so hanging modules time out side by side;
- a process whose test would not stop is ended by the plugin (or, failing that, here),
  and restarted without the tests already done;
- the whole-run limit (``pytest_timeout_s``) is the last resort, and even then every
  result that was produced is kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dreamscape_tui.core.config import ChecksConfig
from dreamscape_tui.core.errors import UserError
from dreamscape_tui.core.interpreter import Interpreter, project_python
from dreamscape_tui.core.pytest_report import KILLED_EXIT, TIMEOUT_PREFIX, is_test_file

__all__ = ["TestOutcome", "TestRun", "TestRunCancelled", "TestRunError", "is_test_file",
           "run_pytest"]

PLUGIN_MODULE = "_dreamscape_pytest_report"
POLL_S = 0.05
FINISH_WAIT_S = 3.0  # a finished session whose process lingers (stray threads) is ended
MAX_RESTARTS = 50


class TestRunError(UserError):
    """pytest could not run at all (not installed, crashed before any result)."""

    __test__ = False  # not a pytest test class, despite the name


class TestRunCancelled(TestRunError):
    """The run was stopped because the engine is shutting down (the user quit)."""

    __test__ = False


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """One test's (or one collection error's) result."""

    __test__ = False

    nodeid: str
    outcome: str  # passed | failed | error | skipped | timeout | notrun
    message: str = ""
    details: str = ""
    frames: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "error", "timeout")


@dataclass
class TestRun:
    """Every outcome a run produced, and why it is incomplete (``error``), if it is."""

    __test__ = False

    outcomes: list[TestOutcome] = field(default_factory=list)
    error: str = ""
    timed_out: bool = False  # the whole-run limit (not a test's) cut it short


def pytest_command(config: ChecksConfig, python: Interpreter) -> list[str]:
    base = shlex.split(config.pytest_command) if config.pytest_command else [
        python.path, "-m", "pytest"]
    return [*base, "-p", PLUGIN_MODULE, "-p", "no:cacheprovider", "--rootdir", ".",
            "--continue-on-collection-errors", "-q", "--no-header", *config.pytest_args]


def job_count(config: ChecksConfig, node_ids: Sequence[str]) -> int:
    """Parallel processes: ``[checks] jobs`` (0 = cores), at most one per test file given."""
    jobs = config.jobs or os.cpu_count() or 1
    if node_ids:
        jobs = min(jobs, len({n.split("::")[0] for n in node_ids}))
    return max(1, jobs)


class _Worker:
    """One pytest process (restarted when a hung test had to be ended)."""

    def __init__(self, slot: int, tmp: Path) -> None:
        self.slot = slot
        self.report = tmp / f"report-{slot}.jsonl"
        self.offset = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp / f"output-{slot}.txt"
        self.current: tuple[str, float] | None = None  # (node id, started, monotonic)
        self.finished_at: float | None = None
        self.results_since_start = 0
        self.restarts = 0

    def start(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        env = {**env, "DREAMSCAPE_PYTEST_REPORT": str(self.report),
               "DREAMSCAPE_WORKER": str(self.slot)}
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        self.current, self.finished_at, self.results_since_start = None, None, 0

    def read(self) -> list[dict[str, Any]]:
        if not self.report.exists():
            return []
        with self.report.open("r", encoding="utf-8") as fh:
            fh.seek(self.offset)
            data = fh.read()
        complete = data[: data.rfind("\n") + 1]
        self.offset += len(complete.encode("utf-8"))
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def output_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " ".join(lines[-3:])[:300]


class _Supervisor:
    def __init__(self, root: Path, config: ChecksConfig, python: Interpreter,
                 node_ids: Sequence[str], timeout_s: float,
                 cancel: threading.Event | None, tmp: Path) -> None:
        self.root, self.config, self.python = root, config, python
        self.node_ids, self.cancel, self.tmp = list(node_ids), cancel, tmp
        self.deadline = time.monotonic() + timeout_s
        self.timeout_s = timeout_s
        self.test_timeout = config.test_timeout_s
        self.grace = max(2.0, min(10.0, self.test_timeout / 2))
        self.results: dict[str, TestOutcome] = {}
        self.done_file = tmp / "done.txt"
        jobs = job_count(config, node_ids)
        self.workers = [_Worker(slot, tmp) for slot in range(jobs)]
        self.env = self._environment(jobs)
        self.command = [*pytest_command(config, python), *self.node_ids]

    def _environment(self, jobs: int) -> dict[str, str]:
        env = dict(os.environ)
        # the run's root first: a project installed in editable mode in its own venv
        # must import the copy under validation, not the user's tree
        paths = [str(self.tmp / "plugin"), str(self.root)]
        if (self.root / "src").is_dir():
            paths.append(str(self.root / "src"))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [*paths, env.get("PYTHONPATH")]))
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ in the user's tree
        env["DREAMSCAPE_TEST_TIMEOUT"] = f"{self.test_timeout:g}"
        env["DREAMSCAPE_TEST_GRACE"] = f"{self.grace:g}"
        (self.tmp / "hung").mkdir()
        env["DREAMSCAPE_HUNG"] = str(self.tmp / "hung")
        if jobs > 1:
            (self.tmp / "claims").mkdir()
            env["DREAMSCAPE_CLAIMS"] = str(self.tmp / "claims")
        return env

    def run(self) -> TestRun:
        for worker in self.workers:
            self._start(worker)
        error, timed_out = "", False
        try:
            while any(w.proc is not None for w in self.workers):
                if self.cancel is not None and self.cancel.is_set():
                    raise TestRunCancelled("pytest was stopped: shutting down")
                if time.monotonic() > self.deadline:
                    error = (f"pytest did not finish within {self.timeout_s:g} s "
                             f"({len(self.results)} results kept)")
                    timed_out = True
                    break
                for worker in self.workers:
                    error = self._step(worker) or error
                time.sleep(POLL_S)
        finally:
            for worker in self.workers:
                worker.kill()
        for worker in self.workers:  # results written while we were stopping
            self._take(worker)
        return TestRun(list(self.results.values()), error, timed_out)

    def _start(self, worker: _Worker) -> None:
        env = dict(self.env)
        if self.results:
            self.done_file.write_text("\n".join(self.results), encoding="utf-8")
            env["DREAMSCAPE_DONE"] = str(self.done_file)
        try:
            worker.start(self.command, self.root, env)
        except OSError as exc:
            raise TestRunError(f"cannot run pytest with {self.python.describe()}: "
                               f"{exc.strerror or exc}") from None

    def _take(self, worker: _Worker) -> None:
        for record in worker.read():
            event = record.get("event")
            if event == "start":
                worker.current = (record["nodeid"], time.monotonic())
            elif event == "end":
                worker.current = None
            elif event == "finished":
                worker.finished_at = time.monotonic()
            elif event == "result":
                worker.results_since_start += 1
                self.results.setdefault(record["nodeid"], TestOutcome(
                    record["nodeid"], record["outcome"], record["message"],
                    record["details"], tuple(record["frames"])))

    def _step(self, worker: _Worker) -> str:
        """Advance one worker; returns an error line if the run cannot be complete."""
        if worker.proc is None:
            return ""
        self._take(worker)
        code = worker.proc.poll()
        now = time.monotonic()
        if code is None:
            if worker.finished_at is not None and now - worker.finished_at > FINISH_WAIT_S:
                worker.kill()  # the session is over; a stray thread keeps it alive
            elif self._stuck(worker, now):
                self._end_stuck(worker)
            return ""
        self._take(worker)
        worker.proc = None
        if worker.finished_at is not None:
            return ""  # the session ended normally (whatever its exit status)
        if code != KILLED_EXIT and worker.current is not None:
            nodeid = worker.current[0]
            self.results.setdefault(nodeid, TestOutcome(
                nodeid, "error", f"the test process ended (exit status {code}) while "
                "this test ran", worker.output_tail()))
            worker.results_since_start += 1
        if worker.results_since_start:
            return self._restart(worker)  # a hung or crashed test: run the rest
        tail = worker.output_tail()
        if "No module named pytest" in tail:
            raise TestRunError(
                f"pytest is not installed for {self.python.describe()}: install it there "
                f"({self.python.path} -m pip install pytest) or set [checks] python")
        if not self.results:
            raise TestRunError(f"pytest failed to run (exit {code}): {tail}")
        return f"pytest stopped early (exit {code}): {tail}"

    def _stuck(self, worker: _Worker, now: float) -> bool:
        """A test running far past its limit: the plugin's watchdog could not act."""
        if self.test_timeout <= 0 or worker.current is None:
            return False
        return now - worker.current[1] > self.test_timeout + 2 * self.grace + 2

    def _end_stuck(self, worker: _Worker) -> None:
        nodeid = worker.current[0] if worker.current else ""
        worker.kill()
        self.results.setdefault(nodeid, TestOutcome(
            nodeid, "timeout", f"{TIMEOUT_PREFIX} {self.test_timeout:g} s and did not "
            "respond; its process was ended (no stack: it held the interpreter)"))
        worker.current = None
        worker.proc = None
        self._restart(worker)

    def _restart(self, worker: _Worker) -> str:
        if worker.restarts >= MAX_RESTARTS:
            return f"pytest was restarted {MAX_RESTARTS} times after hung tests; gave up"
        worker.restarts += 1
        self._start(worker)
        return ""


def run_pytest(root: Path, config: ChecksConfig, node_ids: Sequence[str] = (),
               timeout_s: float | None = None, cancel: threading.Event | None = None,
               python: Interpreter | None = None) -> TestRun:
    """Run pytest in ``root`` (optionally only ``node_ids``); every outcome it produced.

    ``python`` is the project's interpreter (default: detected from ``root``). ``cancel``
    stops the run within a fraction of a second (the user quit), killing each process
    group so no test process outlives the app. Raises TestRunError when pytest could not
    run at all; a run cut short keeps its results and says why in ``TestRun.error``.
    """
    python = python or project_python(root, config.python)
    timeout = timeout_s if timeout_s is not None else config.pytest_timeout_s
    with tempfile.TemporaryDirectory(prefix="dreamscape-pytest-") as tmp:
        plugin_dir = Path(tmp) / "plugin"
        plugin_dir.mkdir()
        source = resources.files("dreamscape_tui.core").joinpath("pytest_report.py")
        (plugin_dir / f"{PLUGIN_MODULE}.py").write_text(source.read_text(encoding="utf-8"))
        return _Supervisor(root, config, python, node_ids, timeout, cancel, Path(tmp)).run()
