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
from tests.test_tui_support import (
    heal_events,
    make_app,
    post,
    risky_results,
    sample_root,
    scan_events,
    seed_escalation,
    settle,
)

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
