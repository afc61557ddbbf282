"""Failure detection: syntax errors, failing tests, failing custom commands.

Every failure is attributed to the source file it exercises, because a heal edits
source, never tests ("tests are the specification"): the innermost project frame of
the traceback outside the tests, else the project modules the test file imports, else
name matching (``test_x.py`` -> ``x.py``).
"""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dreamscape_tui.core.config import ChecksConfig, CommandCheck
from dreamscape_tui.core.errors import UserError
from dreamscape_tui.core.imports import imported_project_files
from dreamscape_tui.core.interpreter import project_python
from dreamscape_tui.core.testrun import (
    TestOutcome,
    TestRun,
    TestRunCancelled,
    TestRunError,
    is_test_file,
    run_pytest,
)

Kind = Literal["syntax", "test", "command"]
_FILE_LINE = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
_DETAILS_LIMIT = 20_000
_NOT_RUN_SHOWN = 10  # tests a hang kept from running, listed in a failure's details


class CheckError(UserError):
    """A custom check command could not run (missing, bad pattern, no result in time)."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One failing file for one check; ``id`` is stable across runs."""

    id: str
    path: str
    kind: Kind
    check: str
    message: str
    details: str = ""
    tests: tuple[str, ...] = ()
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A ``check --json`` entry (docs/architecture.md#json-outputs)."""
        return {"id": self.id, "path": self.path, "kind": self.kind, "check": self.check,
                "message": self.message, "details": self.details, "tests": list(self.tests),
                "line": self.line}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Failure:
        return cls(data["id"], data["path"], data["kind"], data["check"], data["message"],
                   data.get("details", ""), tuple(data.get("tests", ())), data.get("line"))


def failure_id(kind: str, check: str, path: str) -> str:
    return hashlib.sha1(f"{kind}|{check}|{path}".encode()).hexdigest()[:10]


@dataclass
class CheckReport:
    """Failures, every test outcome (validation compares against them later), and the
    checks that could not run, one line each: never read "no failures" past those."""

    failures: list[Failure] = field(default_factory=list)
    outcomes: list[TestOutcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``check --json`` object (docs/architecture.md#json-outputs)."""
        return {"failures": [f.to_json() for f in self.failures], "errors": self.errors}


def syntax_failure(root: Path, rel: str) -> Failure | None:
    """Compile one file (no import, no side effects); a Failure if it does not compile."""
    try:
        source = (root / rel).read_bytes()
        compile(source, rel, "exec", dont_inherit=True)
    except SyntaxError as exc:  # includes IndentationError, TabError, bad encodings
        line = exc.lineno
        where = f"line {line}: " if line else ""
        detail = "\n".join(filter(None, [f'File "{rel}", line {line}', exc.text or ""]))
        return Failure(failure_id("syntax", "syntax", rel), rel, "syntax", "syntax",
                       f"{type(exc).__name__}: {where}{exc.msg}", detail.rstrip(), (), line)
    except (ValueError, OSError) as exc:  # NUL bytes; unreadable
        return Failure(failure_id("syntax", "syntax", rel), rel, "syntax", "syntax", str(exc))
    return None


def attribute(root: Path, outcome: TestOutcome, project_files: set[str]) -> str:
    """The source file a failing test exercises (see the module docstring)."""
    def rel_of(path: str) -> str | None:
        p = Path(path)
        absolute = p if p.is_absolute() else root / p
        try:
            rel = absolute.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return None
        return rel if rel in project_files else None

    locations = [f["path"] for f in outcome.frames]
    locations += [m.group("path") for m in _FILE_LINE.finditer(outcome.details)]
    source_frames = [r for r in map(rel_of, locations) if r and not is_test_file(r)]
    if source_frames:
        return source_frames[-1]  # innermost
    test_file = outcome.nodeid.split("::")[0]
    if (root / test_file).is_file():
        imported = imported_project_files(root, test_file, project_files)
        stem = Path(test_file).stem.removeprefix("test_").removesuffix("_test")
        named = [p for p in imported if Path(p).stem == stem]
        if named or imported:
            return (named or imported)[0]
        stem_matches = sorted(p for p in project_files
                              if Path(p).stem == stem and not is_test_file(p))
        if stem_matches:
            return stem_matches[0]
    return test_file  # the test file itself is broken (or exercises nothing of ours)


def test_failures(root: Path, outcomes: Iterable[TestOutcome],
                  project_files: set[str]) -> list[Failure]:
    """One Failure per source file, grouping every failing test attributed to it."""
    grouped: dict[str, list[TestOutcome]] = {}
    for outcome in outcomes:
        if outcome.failed:
            grouped.setdefault(attribute(root, outcome, project_files), []).append(outcome)
    not_run = [o for o in outcomes if o.outcome == "notrun"]
    failures = []
    for path, group in grouped.items():
        skipped = [o for o in not_run if o.nodeid.split("::")[0]
                   in {g.nodeid.split("::")[0] for g in group}]
        details = "\n\n".join(f"{o.nodeid}\n{o.details}" for o in group)
        if skipped:  # validation runs them: the fix must not break them either
            shown = "\n".join(f"{o.nodeid}: {o.message}" for o in skipped[:_NOT_RUN_SHOWN])
            more = len(skipped) - _NOT_RUN_SHOWN
            details += "\n\n" + shown + (f"\n... and {more} more not run" if more > 0 else "")
        failures.append(Failure(failure_id("test", "pytest", path), path, "test", "pytest",
                                group[0].message, details[:_DETAILS_LIMIT],
                                tuple(o.nodeid for o in group)))
    return failures


def command_failures(root: Path, check: CommandCheck, timeout_s: float) -> list[Failure]:
    """Run a custom check command; its pattern's named groups give path, line, message."""
    try:
        pattern = re.compile(check.pattern, re.MULTILINE)
    except re.error as exc:
        raise CheckError(f"[checks] command {check.name!r}: bad pattern: {exc}") from None
    try:
        proc = subprocess.run(shlex.split(check.command), cwd=root, capture_output=True,
                              text=True, timeout=timeout_s, errors="replace")
    except FileNotFoundError:
        raise CheckError(f"[checks] command {check.name!r}: not found: {check.command}") from None
    except subprocess.TimeoutExpired:
        raise CheckError(
            f"[checks] command {check.name!r}: no result within {timeout_s:g} s") from None
    by_path: dict[str, list[re.Match[str]]] = {}
    for match in pattern.finditer(proc.stdout + "\n" + proc.stderr):
        rel = Path(match.group("path")).as_posix().removeprefix("./")
        by_path.setdefault(rel, []).append(match)
    failures = []
    for rel, matches in by_path.items():
        first = matches[0]
        line = first.groupdict().get("line")
        failures.append(Failure(
            failure_id("command", check.name, rel), rel, "command", check.name,
            first.group("message").strip(),
            "\n".join(m.group(0) for m in matches)[:_DETAILS_LIMIT],
            (), int(line) if line and line.isdigit() else None))
    return failures


def run_checks(root: Path, config: ChecksConfig, files: Sequence[str],
               cancel: threading.Event | None = None) -> CheckReport:
    """Every enabled check over ``files`` (root-relative .py paths from the walk).

    A check that cannot run does not stop the others: its reason goes to
    ``report.errors``. A syntax error that stops pytest's collection is one failure,
    not two: the collection error's tests are folded into the file's syntax failure.
    """
    project_files = set(files)
    report = CheckReport()
    syntax: dict[str, Failure] = {}
    if config.syntax:
        for rel in files:
            failure = syntax_failure(root, rel)
            if failure:
                syntax[rel] = failure
    if config.pytest:
        try:
            run = run_pytest(root, config, cancel=cancel,
                             python=project_python(root, config.python))
        except TestRunCancelled:
            raise
        except TestRunError as exc:
            run = TestRun(error=str(exc))
        report.outcomes = run.outcomes
        if run.error:
            report.errors.append(run.error)
        for failure in test_failures(root, report.outcomes, project_files):
            if failure.path in syntax:
                known = syntax[failure.path]
                syntax[failure.path] = Failure(known.id, known.path, known.kind, known.check,
                                               known.message, known.details,
                                               known.tests + failure.tests, known.line)
            else:
                report.failures.append(failure)
    for check in config.commands:
        try:
            report.failures.extend(command_failures(root, check, config.pytest_timeout_s))
        except CheckError as exc:
            report.errors.append(str(exc))
    report.failures[:0] = syntax.values()
    return report
