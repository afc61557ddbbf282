"""dreamscape's pytest plugin: streams each test's outcome and bounds each test's time.

Loaded into the project's own pytest run with ``-p`` (see ``testrun.py``, which copies
this file next to nothing else on PYTHONPATH). It runs inside the user's interpreter, so
its top level imports only the standard library; pytest itself is imported inside the
hooks, where it is known to be loaded. It does four things, each driven by an
environment variable the supervisor sets:

- ``DREAMSCAPE_PYTEST_REPORT``: one JSON line per event, written and flushed as it
  happens (a test started, its result, it ended, the session finished), so a run that is
  killed keeps every result it produced. JUnit XML would lose node ids and frames.
- ``DREAMSCAPE_TEST_TIMEOUT``: a test (setup, call and teardown) that runs longer fails
  alone with outcome "timeout" and the stack where it was stuck (SIGALRM raises in the
  main thread). If it does not even respond to that within ``DREAMSCAPE_TEST_GRACE``
  seconds (C code holding the thread), a watchdog records the main thread's stack and
  ends the process; the supervisor restarts the run without the tests already done.
  A project that configures pytest-timeout keeps it: then only the watchdog is armed.
- ``DREAMSCAPE_HUNG`` (a directory shared by parallel runs): once a project source file
  has hung a test, the remaining tests whose module uses that file are not waited for;
  they are reported as "notrun" (its module hung).
- ``DREAMSCAPE_CLAIMS`` + ``DREAMSCAPE_WORKER``: parallel runs each take whole test files
  on a first-come basis (an exclusive-create claim file per test file), so the files are
  shared out dynamically and a slow file never holds up the others.
  ``DREAMSCAPE_DONE`` lists node ids a restarted run must not run again.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path, PurePosixPath
from types import FrameType, ModuleType
from typing import Any

REPORT_ENV = "DREAMSCAPE_PYTEST_REPORT"
TIMEOUT_ENV = "DREAMSCAPE_TEST_TIMEOUT"
GRACE_ENV = "DREAMSCAPE_TEST_GRACE"
HUNG_ENV = "DREAMSCAPE_HUNG"
CLAIMS_ENV = "DREAMSCAPE_CLAIMS"
WORKER_ENV = "DREAMSCAPE_WORKER"
DONE_ENV = "DREAMSCAPE_DONE"
KILLED_EXIT = 70  # the watchdog ended a test that would not stop
TIMEOUT_PREFIX = "Timeout: the test ran over"


def is_test_file(rel: str) -> bool:
    """Test modules and pytest support files, which heals must not edit."""
    path = PurePosixPath(rel)
    name = path.name
    return (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
            or any(part in ("tests", "test", "testing") for part in path.parts[:-1]))


def _frames(longrepr: Any) -> list[dict[str, Any]]:
    """Traceback frames (path, line) of a failure, outermost first, chained ones too."""
    frames: list[dict[str, Any]] = []
    chain = getattr(longrepr, "chain", None)
    tracebacks = ([entry[0] for entry in chain] if chain
                  else [getattr(longrepr, "reprtraceback", None)])
    for traceback_ in tracebacks:
        for entry in getattr(traceback_, "reprentries", None) or []:
            location = getattr(entry, "reprfileloc", None)
            if location is not None:
                frames.append({"path": str(location.path), "line": int(location.lineno)})
    return frames


def _message(report: Any) -> str:
    """The one-line reason pytest would print in its short summary."""
    if not report.failed:
        return ""
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).splitlines()[0] if crash.message else "failed"
    text = str(report.longreprtext).strip().splitlines()
    errors = [line[1:].strip() for line in text if line.startswith("E ")]
    return errors[-1] if errors else (text[-1] if text else "failed")


def _module_name(value: object) -> str:
    name = getattr(value, "__module__", None)
    return name if isinstance(name, str) else ""


def _module_files(module: ModuleType | None, *, deep: bool) -> set[str]:
    """``module``'s file; with ``deep``, also the files of the modules its names come from."""
    if module is None:
        return set()
    filename = getattr(module, "__file__", None)
    files = {str(Path(filename).resolve())} if filename else set()
    if deep:
        names = {_module_name(v) for v in list(vars(module).values())} - {"", module.__name__}
        for name in names:
            files |= _module_files(sys.modules.get(name), deep=False)
    return files


class _Reporter:
    """The plugin's state for one pytest process."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.rootdir = Path(str(config.rootpath)).resolve()
        self.report_path = os.environ.get(REPORT_ENV, "")
        self.timeout = float(os.environ.get(TIMEOUT_ENV) or 0)
        self.grace = float(os.environ.get(GRACE_ENV) or max(2.0, self.timeout / 2))
        self.hung_dir = os.environ.get(HUNG_ENV, "")
        self.claims_dir = os.environ.get(CLAIMS_ENV, "")
        self.worker = os.environ.get(WORKER_ENV, "0")
        done_file = os.environ.get(DONE_ENV, "")
        self.done = set(Path(done_file).read_text().split("\n")) if done_file else set()
        self.lock = threading.Lock()
        self.current: str | None = None
        self.alarmed: set[str] = set()  # node ids our SIGALRM interrupted
        self.not_run: dict[str, str] = {}
        self.watchdog: threading.Timer | None = None
        self.claims: dict[str, bool] = {}
        self.uses_cache: dict[str, set[str]] = {}
        self.use_alarm = self.timeout > 0 and not self._pytest_timeout_configured()

    def _pytest_timeout_configured(self) -> bool:
        """True when the project uses pytest-timeout with a limit: it stays in charge."""
        if not self.config.pluginmanager.hasplugin("timeout"):
            return False
        try:
            value = self.config.getoption("timeout", None) or self.config.getini("timeout")
        except ValueError:
            return False
        try:
            return float(value or 0) > 0
        except (TypeError, ValueError):
            return False

    # -- the report file -------------------------------------------------------------------
    def write(self, record: dict[str, Any]) -> None:
        if not self.report_path:
            return
        line = json.dumps(record) + "\n"
        with self.lock, open(self.report_path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()

    # -- time limits -----------------------------------------------------------------------
    def start(self, nodeid: str) -> None:
        self.current = nodeid
        self.write({"event": "start", "nodeid": nodeid, "t": time.time()})
        if self.timeout <= 0:
            return
        if self.use_alarm:  # (re)installed per test: a test may have set its own handler
            signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
        self.watchdog = threading.Timer(self.timeout + self.grace, self._kill, (nodeid,))
        self.watchdog.daemon = True
        self.watchdog.start()

    def finish(self, nodeid: str | None = None) -> None:
        if nodeid is not None:
            self.write({"event": "end", "nodeid": nodeid})
        if self.use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None
        self.current = None

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        __tracebackhide__ = True  # the stack ends where the test was stuck, not here
        import pytest

        if self.current is None:
            return
        self.alarmed.add(self.current)
        pytest.fail(f"{TIMEOUT_PREFIX} {self.timeout:g} s ([checks] test_timeout_s)",
                    pytrace=True)

    def _kill(self, nodeid: str) -> None:
        """The test ignored the alarm: record where it is stuck and end the process."""
        frame = sys._current_frames().get(threading.main_thread().ident or 0)
        stack = traceback.extract_stack(frame) if frame is not None else []
        frames = [{"path": f.filename, "line": f.lineno or 0} for f in stack]
        details = "".join(traceback.format_list(stack))
        message = (f"{TIMEOUT_PREFIX} {self.timeout:g} s and did not respond for "
                   f"{self.grace:g} s more; its process was ended")
        self.write({"event": "result", "nodeid": nodeid, "phase": "call",
                    "outcome": "timeout", "message": message, "details": details,
                    "frames": frames, "path": nodeid.split("::")[0]})
        self.mark_hung(frames)
        os._exit(KILLED_EXIT)

    # -- hung modules ----------------------------------------------------------------------
    def mark_hung(self, frames: list[dict[str, Any]]) -> None:
        """Remember the innermost project source file (not a test) of a timed-out stack."""
        if not self.hung_dir:
            return
        for frame in reversed(frames):
            path = Path(frame["path"])
            path = (path if path.is_absolute() else self.rootdir / path).resolve()
            try:
                rel = path.relative_to(self.rootdir).as_posix()
            except ValueError:
                continue
            if not is_test_file(rel) and path.suffix == ".py":
                marker = hashlib.sha1(str(path).encode()).hexdigest()[:16]
                Path(self.hung_dir, marker).write_text(str(path), encoding="utf-8")
                return

    def hung_files(self) -> set[str]:
        if not self.hung_dir:
            return set()
        return {Path(self.hung_dir, name).read_text(encoding="utf-8")
                for name in os.listdir(self.hung_dir)}

    def _files_used(self, module: ModuleType) -> set[str]:
        """Source files the test module uses: the modules it imported or took names from,
        and, through an imported package (``import more_itertools as mi``), the modules
        that package took its names from."""
        key = module.__name__
        if key not in self.uses_cache:
            used: set[str] = set()
            for value in list(vars(module).values()):
                if isinstance(value, ModuleType):
                    used |= _module_files(value, deep=True)
                else:
                    used |= _module_files(sys.modules.get(_module_name(value)), deep=False)
            self.uses_cache[key] = used
        return self.uses_cache[key]

    def hung_reason(self, item: Any) -> str:
        hung = self.hung_files()
        module = getattr(item, "module", None)
        if not hung or module is None:
            return ""
        for path in sorted(hung & self._files_used(module)):
            try:
                return f"not run: its module {Path(path).relative_to(self.rootdir)} hung"
            except ValueError:
                return f"not run: its module {path} hung"
        return ""

    # -- parallel runs ---------------------------------------------------------------------
    def claimed_elsewhere(self, item: Any) -> bool:
        """True when another parallel run owns this item's test file."""
        if not self.claims_dir:
            return False
        file = str(item.path)
        if file not in self.claims:
            marker = Path(self.claims_dir, hashlib.sha1(file.encode()).hexdigest()[:16])
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                os.write(fd, self.worker.encode())
                os.close(fd)
                self.claims[file] = True
            except FileExistsError:  # ours if a previous run of this worker took it
                self.claims[file] = marker.read_text() == self.worker
        return not self.claims[file]

    # -- results ---------------------------------------------------------------------------
    def result(self, report: Any) -> None:
        if report.nodeid in self.not_run and report.when == "setup":
            self.write({"event": "result", "nodeid": report.nodeid, "phase": "setup",
                        "outcome": "notrun", "message": self.not_run.pop(report.nodeid),
                        "details": "", "frames": [], "path": report.location[0]})
            return
        if not (report.when == "call" or report.failed):
            return
        frames = _frames(report.longrepr) if report.failed else []
        message = _message(report)
        timed_out = report.failed and (report.nodeid in self.alarmed or message.startswith(
            ("Failed: Timeout", TIMEOUT_PREFIX)))
        if timed_out:
            self.mark_hung(frames)
        self.write({"event": "result", "nodeid": report.nodeid, "phase": report.when,
                    "outcome": "timeout" if timed_out else report.outcome,
                    "message": message,
                    "details": report.longreprtext if report.failed else "",
                    "frames": frames,
                    "path": report.location[0] if report.location else ""})


def pytest_configure(config: Any) -> None:
    """Register the hook object; decorating it needs pytest, loaded by now."""
    import pytest

    reporter = _Reporter(config)

    class Hooks:
        @pytest.hookimpl(tryfirst=True)
        def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
            if reporter.done:
                kept = [i for i in items if i.nodeid not in reporter.done]
                config.hook.pytest_deselected(
                    items=[i for i in items if i.nodeid in reporter.done])
                items[:] = kept

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtestloop(self, session: Any) -> bool | None:
            """With parallel runs, run only the files this process claims.

            Each item's ``nextitem`` must be the next item this process really runs
            (pytest tears down by it), so the next file is claimed one item ahead.
            """
            if not reporter.claims_dir or session.config.option.collectonly:
                return None
            if session.testsfailed and not session.config.option.continue_on_collection_errors:
                raise session.Interrupted(f"{session.testsfailed} errors during collection")
            items = session.items

            def next_own(start: int) -> int | None:
                return next((j for j in range(start, len(items))
                             if not reporter.claimed_elsewhere(items[j])), None)

            index = next_own(0)
            while index is not None:
                following = next_own(index + 1)
                session.config.hook.pytest_runtest_protocol(
                    item=items[index], nextitem=None if following is None else items[following])
                if session.shouldfail:
                    raise session.Failed(session.shouldfail)
                if session.shouldstop:
                    raise session.Interrupted(session.shouldstop)
                index = following
            return True

        def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
            reporter.start(nodeid)

        def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
            reporter.finish(nodeid)

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_setup(self, item: Any) -> None:
            reason = reporter.hung_reason(item)
            if reason:
                reporter.not_run[item.nodeid] = reason
                pytest.skip(reason)

        def pytest_runtest_logreport(self, report: Any) -> None:
            reporter.result(report)

        def pytest_collectreport(self, report: Any) -> None:
            """Collection errors (an import or syntax error in a test module) count."""
            if report.failed:
                reporter.write({"event": "result", "nodeid": report.nodeid,
                                "phase": "collect", "outcome": "error",
                                "message": _message(report), "details": report.longreprtext,
                                "frames": _frames(report.longrepr),
                                "path": report.nodeid.split("::")[0]})

        def pytest_sessionfinish(self, session: Any, exitstatus: Any) -> None:
            reporter.finish()
            reporter.write({"event": "finished", "exitstatus": int(exitstatus)})

    config.pluginmanager.register(Hooks(), "dreamscape-report-hooks")
