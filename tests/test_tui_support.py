"""Shared builders for the TUI tests: apps, deterministic engine events, seeded reviews.

(A ``test_`` module with no tests, so the TUI tests share it without touching the
shared conftest.) Everything here is deterministic: fixed metrics from radon on the
bundled sample project, no clocks, and the project always lives in a folder called
``sample`` so the header reads the same on every machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from radon.complexity import cc_rank
from radon.metrics import mi_rank
from textual.pilot import Pilot

from dreamscape_tui.app import DreamscapeApp, create_app
from dreamscape_tui.core.apply import content_hash
from dreamscape_tui.core.checks import Failure, Kind, failure_id
from dreamscape_tui.core.config import Config, load_config
from dreamscape_tui.core.events import (
    EngineLog,
    Event,
    FileResult,
    FileScanned,
    HealChanged,
    ScanFinished,
    ScanStarted,
    SessionState,
    SkippedFile,
)
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.healtypes import Attempt, Candidate, HealItem, HealState
from dreamscape_tui.core.metrics import (
    AnalysisError,
    FileMetrics,
    FunctionMetric,
    analyze_source,
)
from dreamscape_tui.core.scanner import risk_score
from dreamscape_tui.messages import EngineEvent
from dreamscape_tui.practice.sample import SAMPLE_FILES, write_sample

INVENTORY = SAMPLE_FILES["inventory.py"]
INVENTORY_FIX = INVENTORY.replace("stock - amount", "stock + amount")
INVENTORY_WRONG = INVENTORY.replace("stock - amount", "stock * amount")
INVENTORY_DETAILS = ("tests/test_inventory.py::test_restock\ndef test_restock():\n"
                     ">       assert restock(5, 3) == 8\nE       assert 2 == 8\n"
                     "E        +  where 2 = restock(5, 3)\n\n"
                     "tests/test_inventory.py:5: AssertionError")


def sample_root(tmp_path: Path) -> Path:
    """The faulty sample project in ``tmp_path/sample`` (the header shows "sample")."""
    return write_sample(tmp_path / "sample")


def make_app(root: Path, config: Config | None = None, **kwargs: object) -> DreamscapeApp:
    """The app as the CLI builds it, without starting the engine unless asked."""
    kwargs.setdefault("autostart", False)
    return create_app(root, config or load_config(root, None), **kwargs)  # type: ignore[arg-type]


def scan_results() -> list[FileResult | SkippedFile]:
    """The sample project's scan results, computed with radon (deterministic)."""
    results: list[FileResult | SkippedFile] = []
    for path in sorted(p for p in SAMPLE_FILES if p.endswith(".py")):
        try:
            metrics = analyze_source(SAMPLE_FILES[path])
        except AnalysisError as exc:
            results.append(SkippedFile(path, str(exc)))
            continue
        results.append(FileResult(path, metrics, risk_score(metrics), False))
    return results


def _metrics(loc: int, lloc: int, cc: list[tuple[str, int, int]], mi: float,
             volume: float) -> FileMetrics:
    functions = tuple(FunctionMetric(name, line, c, cc_rank(c)) for name, line, c in cc)
    top = max(c for _n, _l, c in cc)
    return FileMetrics(loc, lloc, loc - 20, 12, 0, 8, 12, top,
                       sum(c for _n, _l, c in cc) / len(cc), cc_rank(top), mi, mi_rank(mi),
                       volume, functions)


def risky_results() -> list[FileResult | SkippedFile]:
    """Two made-up legacy modules, complex enough to colour the tree by risk."""
    billing = _metrics(940, 610, [("Invoice.total", 41, 34), ("Invoice.apply_discounts", 120, 19),
                                  ("parse_rates", 300, 7), ("Invoice", 12, 3)], 8.25, 9120.4)
    report = _metrics(310, 190, [("render", 18, 9), ("format_row", 90, 6)], 62.5, 2210.0)
    return [FileResult("legacy/billing.py", billing, risk_score(billing), False),
            FileResult("legacy/report.py", report, risk_score(report), False)]


def scan_events(limit: int | None = None,
                extra: list[FileResult | SkippedFile] | None = None) -> list[Event]:
    """ScanStarted, FileScanned per file (the first ``limit`` only), ScanFinished."""
    results = [*scan_results(), *(extra or [])]
    total = len(results)
    shown = results if limit is None else results[:limit]
    events: list[Event] = [ScanStarted("/sample", total, 0)]
    events += [FileScanned(r, n, total) for n, r in enumerate(shown, 1)]
    if limit is None:
        skipped = sum(isinstance(r, SkippedFile) for r in results)
        events.append(ScanFinished(total, total - skipped, 0, skipped, 0.5))
    return events


def heal_item(heal_id: int, path: str, kind: Kind, state: HealState, attempts: int,
              model: str, reason: str = "", message: str = "") -> HealItem:
    """A heal item as the engine sends it in a ``HealChanged`` event."""
    failure = Failure(failure_id(kind, "pytest" if kind == "test" else kind, path), path, kind,
                      "pytest" if kind == "test" else kind, message or f"{path} fails")
    return HealItem(heal_id, failure, state, attempts, model, reason)


def heal_events() -> list[Event]:
    """A heal run in progress: sessions, log lines and four items in different states."""
    return [
        EngineLog("checking 13 files"),
        EngineLog("4 failing files"),
        SessionState("s1", "healthy", "local", 412.0, 3, "", ""),
        SessionState("s1", "busy", "local", 655.0, 4, "", ""),
        SessionState("s2", "error", "remote", 1830.0, 1, "",
                     "Too many requests: try again later"),
        HealChanged(heal_item(1, "calc.py", "syntax", HealState.HEALED, 1, "gpt-4o-mini")),
        HealChanged(heal_item(2, "shop/cart.py", "test", HealState.HEALED, 1, "gpt-4o-mini")),
        HealChanged(heal_item(3, "greet.py", "test", HealState.VALIDATING, 2, "o3")),
        HealChanged(heal_item(4, "inventory.py", "test", HealState.ESCALATED, 3, "o3",
                              "attempts exhausted (3)")),
        EngineLog("healed calc.py with gpt-4o-mini (attempt 1)"),
        EngineLog("healed shop/cart.py with gpt-4o-mini (attempt 1)"),
        EngineLog("inventory.py needs review: attempts exhausted (3)", "warning"),
    ]


def inventory_failure() -> Failure:
    return Failure(failure_id("test", "pytest", "inventory.py"), "inventory.py", "test",
                   "pytest", "assert 2 == 8", INVENTORY_DETAILS,
                   ("tests/test_inventory.py::test_restock",))


def seed_escalation(root: Path, best: str | None = INVENTORY_WRONG,
                    failure: Failure | None = None, best_failing: int = 1) -> int:
    """Store an escalated heal item with two attempts, as the heal loop leaves one."""
    failure = failure or inventory_failure()
    base = content_hash((root / failure.path).read_bytes())  # what the fix was made from
    heals = HealStore.for_project(root)
    try:
        item = heals.enqueue(failure, 1)
        assert item is not None
        log = (Attempt(1, "gpt-4o-mini", "failed", "unusable answer: edit to a test file"),
               Attempt(2, "o3", "failed", "tests still fail: assert 15 == 8", signature="a"))
        candidate = Candidate(best, best_failing, base) if best is not None else None
        heals.save(replace(item, state=HealState.ESCALATED, attempts=2, model="o3",
                           reason="attempts exhausted (2): tests still fail", best=candidate,
                           base_hash=base, log=log))
    finally:
        heals.close()
    return item.id


def stored_state(root: Path, heal_id: int) -> HealState:
    """The item's state in the journal on disk (read-only: the app may have it open)."""
    heals = HealStore.for_project(root, read_only=True)
    try:
        item = heals.get(heal_id)
    finally:
        heals.close()
    assert item is not None
    return item.state


def post(app: DreamscapeApp, events: list[Event]) -> None:
    """Send events the way the engine does: as messages, through the sink."""
    for event in events:
        app.post_message(EngineEvent(event))


async def settle(pilot: Pilot[None], delay: float = 0.25) -> None:
    """Let workers finish (failed ones too) and the coalesced tree rebuild run."""
    await pilot.pause()
    await asyncio.gather(*(w.wait() for w in list(pilot.app.workers)), return_exceptions=True)
    await pilot.pause(delay)


def record_notifications(app: DreamscapeApp) -> list[str]:
    """Capture what the app tells the user (toasts are off under run_test)."""
    messages: list[str] = []

    def notify(message: str, **kwargs: object) -> None:
        messages.append(message)

    app.notify = notify  # type: ignore[method-assign, assignment]
    return messages


async def wait_until(pilot: Pilot[None], predicate: Callable[[], bool],
                     timeout: float = 60.0, what: str = "condition") -> None:
    """Pause until ``predicate()`` holds (the engine works in threads)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.1)
    await asyncio.sleep(0)
