"""Snapshot tests of the dashboard and its screens at 120x36 and 80x24.

Built with the same factory as the CLI (``create_app``) and a deterministic config; the
engine never runs here (``autostart=False``): events are posted as the engine would
post them, or a review is seeded in the store, so every frame is reproducible. No
clock, absolute path or timing is on screen. ``snap_compare`` is a sync fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from dreamscape_tui.app import DreamscapeApp
from dreamscape_tui.core.churn import Churn, ChurnTable
from dreamscape_tui.core.events import (
    Event,
    FileResult,
    FileScanned,
    ScanFinished,
    ScanStarted,
    SkippedFile,
)
from dreamscape_tui.core.scanner import risk_score
from tests.test_tui_support import (
    heal_events,
    make_app,
    post,
    risky_results,
    sample_root,
    scan_events,
    scan_results,
    seed_escalation,
    settle,
)
from widgets.file_tree import FileTree

SnapCompare = Callable[..., bool]
SIZES = [pytest.param((120, 36), id="120x36"), pytest.param((80, 24), id="80x24")]


@pytest.fixture
def app(tmp_path: Path) -> DreamscapeApp:
    return make_app(sample_root(tmp_path))


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_empty(snap_compare: SnapCompare, app: DreamscapeApp,
                         size: tuple[int, int]) -> None:
    """Just opened: nothing scanned yet, no sessions, nothing to review."""
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_mid_scan(snap_compare: SnapCompare, app: DreamscapeApp,
                            size: tuple[int, int]) -> None:
    """Six of eleven results in: the progress bar runs while the tree fills."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        post(app, scan_events(limit=6))
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_populated(snap_compare: SnapCompare, app: DreamscapeApp,
                             size: tuple[int, int]) -> None:
    """Scanned and healing: markers in the tree, sessions, the queue, one review waiting."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        post(app, [*scan_events(extra=risky_results()), *heal_events()])
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_review_panel(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """An escalation opened with v: failure, attempts and the best candidate's diff."""
    root = sample_root(tmp_path)
    seed_escalation(root)
    app = make_app(root)

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        post(app, scan_events())
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare: SnapCompare, app: DreamscapeApp, size: tuple[int, int]) -> None:
    """? lists every key, per screen."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# commits in the churn window per file (a git work tree), for the churn snapshots
CHURN = {"legacy/billing.py": 23, "legacy/report.py": 4, "inventory.py": 31, "shop/cart.py": 9,
         "greet.py": 2, "tests/test_cart.py": 12}


def churn_events() -> list[Event]:
    """The populated dashboard's scan as a scan of a git work tree sends it: results
    with churn, scored and with hotspots as the scanner makes them."""
    table = ChurnTable({p: Churn(n, n * 6) for p, n in CHURN.items()}, max(CHURN.values()))
    results: list[FileResult | SkippedFile] = []
    for r in [*scan_results(), *risky_results()]:
        change = table.files.get(r.path)
        if isinstance(r, FileResult) and change is not None:
            r = FileResult(r.path, r.metrics, risk_score(r.metrics, change), False,
                           change.commits, change.lines,
                           table.hotspot(r.metrics.cc_max, change.commits))
        results.append(r)
    total, skipped = len(results), sum(isinstance(r, SkippedFile) for r in results)
    return [ScanStarted("/sample", total, 0),
            *(FileScanned(r, n, total) for n, r in enumerate(results, 1)),
            ScanFinished(total, total - skipped, 0, skipped, 0.5)]


@pytest.mark.parametrize("size", SIZES)
def test_tree_churn_by_hotspot(snap_compare: SnapCompare, app: DreamscapeApp,
                               size: tuple[int, int]) -> None:
    """In a git work tree: the churn column (commits in the window), and the tree sorted
    by hotspot (complexity x change frequency; set directly: the toast s shows would
    time out on a slow machine)."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        post(app, churn_events())
        await settle(pilot)
        app.screen.query_one(FileTree).set_sort("hotspot")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_detail_with_trend(snap_compare: SnapCompare, app: DreamscapeApp,
                           size: tuple[int, int]) -> None:
    """A file's detail after twelve recorded scans: cc_max and MI sparklines, the change
    since the previous scan, the functions and the (empty) heal history."""
    from dreamscape_tui.core.events import TrendsUpdated
    from tests.test_trends import sample_history

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        post(app, [*scan_events(extra=risky_results()), TrendsUpdated(sample_history())])
        await settle(pilot)
        app.open_detail("legacy/billing.py")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
