"""A pytest plugin that writes one JSON line per failed or passed test to a file.

Loaded into the project's own pytest run with ``-p dreamscape_tui.core.pytest_report``
and ``DREAMSCAPE_PYTEST_REPORT=/path``. JUnit XML loses node ids and traceback frames;
attribution needs both, so we read pytest's own report objects instead. This module
must import nothing but the standard library at top level: it runs inside the user's
test process.
"""

from __future__ import annotations

import json
import os
from typing import Any

REPORT_ENV = "DREAMSCAPE_PYTEST_REPORT"


def _frames(longrepr: Any) -> list[dict[str, Any]]:
    """Traceback frames (path, line) of a failure, outermost first, chained ones too."""
    frames: list[dict[str, Any]] = []
    chain = getattr(longrepr, "chain", None)
    tracebacks = ([entry[0] for entry in chain] if chain
                  else [getattr(longrepr, "reprtraceback", None)])
    for traceback in tracebacks:
        for entry in getattr(traceback, "reprentries", None) or []:
            location = getattr(entry, "reprfileloc", None)
            if location is not None:
                frames.append({"path": str(location.path), "line": int(location.lineno)})
    return frames


def _write(record: dict[str, Any]) -> None:
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def pytest_runtest_logreport(report: Any) -> None:
    """Record each test's outcome once: the call phase, or a setup/teardown failure."""
    if report.when == "call" or report.failed:
        _write({
            "nodeid": report.nodeid,
            "phase": report.when,
            "outcome": report.outcome,
            "message": _message(report),
            "details": report.longreprtext if report.failed else "",
            "frames": _frames(report.longrepr) if report.failed else [],
            "path": report.location[0] if report.location else "",
        })


def pytest_collectreport(report: Any) -> None:
    """Collection errors (an import or syntax error in a test module) count as failures."""
    if report.failed:
        _write({
            "nodeid": report.nodeid,
            "phase": "collect",
            "outcome": "error",
            "message": _message(report),
            "details": report.longreprtext,
            "frames": _frames(report.longrepr),
            "path": report.nodeid.split("::")[0],
        })


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
