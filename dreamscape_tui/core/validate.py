"""Validate a candidate fix in an isolated copy of the project, never the user's tree.

Each heal worker owns one ``Workspace``: a copy made once and then kept in sync by
copying only files whose size or mtime changed (re-copying a project per attempt would
dominate the heal time). A candidate is written into the copy, judged, and the copy's
file is restored afterwards, so the next validation starts from the user's state.

A candidate passes when it compiles, the failure's own tests pass, and every test that
passed before in the same test files still passes; for a custom-command failure, the
command no longer reports the file.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dreamscape_tui.core.checks import Failure, command_failures
from dreamscape_tui.core.config import ChecksConfig
from dreamscape_tui.core.ignore import ALWAYS_SKIPPED, DEFAULT_PATTERNS, is_virtualenv
from dreamscape_tui.core.interpreter import project_python
from dreamscape_tui.core.testrun import TestRunCancelled, TestRunError, run_pytest

_SKIP_DIRS = ALWAYS_SKIPPED | {p.rstrip("/") for p in DEFAULT_PATTERNS if "*" not in p}
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+|line \d+|:\d+")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of validating one candidate."""

    ok: bool
    reason: str = ""
    failing: int = 0  # how many relevant tests still fail (ranks candidates for review)
    signature: str = ""  # normalised error, to spot "the same error twice"
    timed_out: bool = False


def error_signature(messages: Iterable[str]) -> str:
    """A comparable form of the errors: addresses and line numbers removed."""
    return " | ".join(sorted({_ADDRESS.sub("#", m.strip()) for m in messages if m.strip()}))


class Workspace:
    """An isolated, incrementally synced copy of one project."""

    def __init__(self, root: Path, parent: Path | None = None,
                 cancel: threading.Event | None = None) -> None:
        self.root = root
        self.cancel = cancel  # a set cancel stops a running validation (TestRunCancelled)
        self.path = Path(tempfile.mkdtemp(prefix="dreamscape-ws-", dir=parent))
        self._synced: dict[str, tuple[int, int]] = {}
        self.sync_seconds = 0.0  # engine work inside validate(), for honest accounting

    def _source_files(self) -> dict[str, tuple[int, int]]:
        files: dict[str, tuple[int, int]] = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS
                                 and not is_virtualenv(Path(dirpath, d)))
            for name in filenames:
                full = Path(dirpath, name)
                try:
                    st = full.stat()
                except OSError:
                    continue
                if full.is_file():
                    files[full.relative_to(self.root).as_posix()] = (st.st_size, st.st_mtime_ns)
        return files

    def sync(self) -> int:
        """Bring the copy up to date with the user's tree; returns files copied."""
        started = time.monotonic()
        current = self._source_files()
        copied = 0
        for rel, stamp in current.items():
            if self._synced.get(rel) != stamp:
                target = self.path / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(self.root / rel, target)
                copied += 1
        for rel in set(self._synced) - set(current):
            (self.path / rel).unlink(missing_ok=True)
        self._synced = current
        self.sync_seconds += time.monotonic() - started
        return copied

    def validate(self, failure: Failure, candidate: str, checks: ChecksConfig,
                 baseline_passed: set[str], timeout_s: float) -> Verdict:
        """Judge ``candidate`` as the new content of ``failure.path``."""
        self.sync()
        try:
            compile(candidate, failure.path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            message = f"the fix does not compile: {exc}"
            return Verdict(False, message, 1, error_signature([message]))
        target = self.path / failure.path
        original = target.read_bytes()
        try:
            target.write_text(candidate, encoding="utf-8")
            if failure.kind == "command":
                return self._validate_command(failure, checks, timeout_s)
            return self._validate_tests(failure, checks, baseline_passed, timeout_s)
        finally:
            target.write_bytes(original)
            os.utime(target, ns=(self._synced[failure.path][1],) * 2)

    def _validate_tests(self, failure: Failure, checks: ChecksConfig,
                        baseline_passed: set[str], timeout_s: float) -> Verdict:
        test_files = sorted({node.split("::")[0] for node in failure.tests})
        if not test_files:
            return Verdict(True)  # a syntax error with no test: compiling is the check
        try:
            run = run_pytest(self.path, checks, test_files, timeout_s=timeout_s,
                             cancel=self.cancel, python=project_python(self.root, checks.python))
        except TestRunCancelled:
            raise  # not a verdict: the item stays where it was and resumes next time
        except TestRunError as exc:
            return Verdict(False, str(exc), 1, error_signature([str(exc)]))
        if run.timed_out:
            reason = "validation timed out"
            return Verdict(False, reason, 1, error_signature([reason]), True)
        outcomes = run.outcomes
        by_id = {o.nodeid: o for o in outcomes}
        failing = [o for o in outcomes if o.failed or o.outcome == "notrun"]
        problems = [f"{o.nodeid}: {o.message}" for o in failing
                    if o.nodeid in failure.tests or o.nodeid in baseline_passed
                    or o.nodeid.split("::")[0] in failure.tests]
        missing = [t for t in failure.tests if "::" in t and t not in by_id]
        problems += [f"{t}: did not run" for t in missing]
        if not outcomes:
            problems.append("no test ran")
        if problems:
            reason = "tests still fail: " + "; ".join(problems[:5])
            return Verdict(False, reason, len(problems),
                           error_signature(o.message for o in failing) or reason)
        return Verdict(True)

    def _validate_command(self, failure: Failure, checks: ChecksConfig,
                          timeout_s: float) -> Verdict:
        check = next((c for c in checks.commands if c.name == failure.check), None)
        if check is None:
            return Verdict(False, f"check {failure.check!r} is no longer configured")
        remaining = [f for f in command_failures(self.path, check, timeout_s)
                     if f.path == failure.path]
        if remaining:
            reason = f"{check.name} still reports: {remaining[0].message}"
            return Verdict(False, reason, 1, error_signature([remaining[0].message]))
        return Verdict(True)

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
