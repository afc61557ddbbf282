"""The UI's read model, fed only by events, and the layering around it.

See docs/architecture.md#read-model.

The read model and the decisions it leads to are plain Python (test_layering.py checks
that a fresh interpreter importing them loads no Textual). Screens and widgets never
import the app back.
"""

from __future__ import annotations

import ast
from dataclasses import replace

from dreamscape_tui.core.events import (
    ChecksFinished,
    FileScanned,
    HealChanged,
    ScanFinished,
    ScanStarted,
)
from dreamscape_tui.core.healtypes import Attempt, HealState
from dreamscape_tui.readmodel import ReadModel, ReplayFinished
from tests.conftest import REPO
from tests.test_tui_support import heal_item, scan_results
from widgets.heal_style import LOOKS, file_marker, state_style


def test_screens_and_widgets_never_import_the_app() -> None:
    """Not even under TYPE_CHECKING: the app imports them, never the other way round."""
    sources = [*(REPO / "dreamscape_tui" / "screens").glob("*.py"),
               *(REPO / "widgets").glob("*.py")]
    assert len(sources) > 10
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            assert not any(n == "dreamscape_tui.app" or n.startswith("dreamscape_tui.app.")
                           for n in names), path


def test_every_state_has_one_look() -> None:
    assert set(LOOKS) == set(HealState)
    markers = {state: file_marker(state) for state in HealState}
    assert markers == {
        HealState.QUEUED: "failing", HealState.REJECTED: "failing",
        HealState.UNDONE: "failing", HealState.RUNNING: "healing",
        HealState.VALIDATING: "healing", HealState.RETRYING: "healing",
        HealState.APPLYING: "healing", HealState.HEALED: "healed",
        HealState.ACCEPTED: "healed", HealState.ESCALATED: "review"}
    assert state_style(HealState.ESCALATED) == "$accent bold"
    assert state_style(HealState.HEALED) == state_style(HealState.ACCEPTED) == "$success"


def test_replayed_history_stays_out_of_the_session() -> None:
    model = ReadModel()
    old_fix = heal_item(1, "calc.py", "syntax", HealState.ACCEPTED, 1, "o3")
    waiting = heal_item(2, "inventory.py", "test", HealState.ESCALATED, 3, "o3")
    stuck = heal_item(3, "greet.py", "test", HealState.RUNNING, 1, "o3")
    for item in (old_fix, waiting, stuck):
        model.apply(HealChanged(item))
    model.apply(ReplayFinished())
    # the history is there for the file detail, but not in the queue nor the markers
    assert model.history("calc.py") == [old_fix] and model.undoable("calc.py") == old_fix
    assert not model.in_session(1) and model.marker("calc.py") == ""
    assert model.in_session(2) and model.marker("inventory.py") == "review"
    assert model.in_session(3) and model.marker("greet.py") == "healing"
    assert model.escalations() == [2]
    assert sorted(model.session_states()) == sorted([HealState.ESCALATED, HealState.RUNNING])
    assert model.phase == "starting"  # a replay is not a heal run
    # what changes from now on is this session's
    again = heal_item(4, "calc.py", "syntax", HealState.QUEUED, 0, "")
    model.apply(HealChanged(again))
    assert model.in_session(4) and model.marker("calc.py") == "failing"
    assert [i.id for i in model.history("calc.py")] == [4, 1]  # newest first


def test_escalations_in_order_and_decisions_move_them() -> None:
    model = ReadModel()
    model.apply(ReplayFinished())
    items = {n: heal_item(n, f"f{n}.py", "test", HealState.ESCALATED, 2, "o3")
             for n in (7, 3, 12)}
    for item in items.values():
        model.apply(HealChanged(item))
    assert model.escalations() == [3, 7, 12]
    model.apply(HealChanged(replace(items[7], state=HealState.REJECTED)))
    model.apply(HealChanged(replace(items[7], state=HealState.REJECTED)))  # twice: no harm
    assert model.escalations() == [3, 12] and model.marker("f7.py") == "failing"
    log = (Attempt(1, "o3", "validated", "tests pass"),)
    accepted = replace(items[3], state=HealState.ACCEPTED, backup="b/f3.py", log=log)
    model.apply(HealChanged(accepted))
    assert model.escalations() == [12] and model.item(3) == accepted
    assert model.undoable("f3.py") == accepted and model.undoable("f12.py") is None
    assert model.item(None) is None and model.item(99) is None


def test_phase_follows_the_pass_and_a_rescan_clears_results() -> None:
    model = ReadModel()
    model.apply(ReplayFinished())
    results = scan_results()
    model.apply(ScanStarted("/sample", len(results), 0))
    assert model.phase == "scanning"
    for n, result in enumerate(results, 1):
        model.apply(FileScanned(result, n, len(results)))
    model.apply(ScanFinished(len(results), len(results), 0, 0, 0.1))
    assert model.phase == "checking" and model.scanned
    assert set(model.results) == {r.path for r in results}
    model.apply(ChecksFinished(1, ("pytest: not installed",)))
    assert model.check_errors == ("pytest: not installed",)
    model.apply(HealChanged(heal_item(1, "calc.py", "syntax", HealState.QUEUED, 0, "")))
    assert model.phase == "healing"
    model.apply(ScanStarted("/sample", 0, 0))
    assert model.results == {} and model.phase == "scanning"
    read_only = ReadModel(checks=False)  # nothing is checked after its scans
    read_only.apply(ScanStarted("/sample", 0, 0))
    read_only.apply(ScanFinished(0, 0, 0, 0, 0.1))
    assert read_only.phase == "scanning" and read_only.scanned
