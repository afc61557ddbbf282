"""The file tree with git churn: the churn column, the hotspot order and its key.

Outside git (no file has churn) the tree is what it was: no column, and ``s`` cycles
score, cc, MI, name. With churn ``s`` goes through hotspot after score, and the column
shows each file's commits (a folder its busiest file's), unless the names would get
too narrow.
"""

from __future__ import annotations

from pathlib import Path

from dreamscape_tui.app import DreamscapeApp
from dreamscape_tui.core.events import FileResult, SkippedFile
from tests.test_tui_snapshots import churn_events
from tests.test_tui_support import make_app, post, risky_results, sample_root, settle
from widgets.file_tree import CHURN_HEADER, NAME_MIN, RIGHT_HEADER, FileTree, compact_count
from widgets.file_tree_model import FileEntry, FileTreeModel, FolderEntry


def results() -> list[FileResult | SkippedFile]:
    """billing: complex, changed a little; report: simple, changed a lot."""
    billing, report = (r for r in risky_results() if isinstance(r, FileResult))
    return [FileResult(billing.path, billing.metrics, billing.score, False, 2, 40, 3.4),
            FileResult(report.path, report.metrics, report.score, False, 20, 300, 9.0),
            FileResult("top.py", report.metrics, 0.1, False),
            SkippedFile("broken.py", "syntax error")]


def test_model_hotspot_order_and_folder_aggregates() -> None:
    model = FileTreeModel()
    for result in results():
        model.add(result)
    assert model.has_churn
    rows = [entry.path for _depth, entry in model.rows("hotspot")]
    assert rows == ["legacy", "legacy/report.py", "legacy/billing.py", "broken.py", "top.py"]
    folder = model.folder("legacy")
    assert isinstance(folder, FolderEntry)
    assert (folder.commits, folder.hotspot) == (20, 9.0)
    assert [e.path for _d, e in model.rows("score")][:2] == ["broken.py", "legacy"]
    entry = model.files["legacy/report.py"]
    assert isinstance(entry, FileEntry) and (entry.commits, entry.hotspot) == (20, 9.0)


def test_model_without_churn() -> None:
    model = FileTreeModel()
    model.add(FileResult("a.py", risky_results()[0].metrics, 0.5, False))  # type: ignore[union-attr]
    assert not model.has_churn
    model.clear()
    assert not model.has_churn


def test_compact_counts() -> None:
    assert [compact_count(n) for n in (0, 7, 1234, 9999, 12_345, 5_000_000)] == [
        "-", "7", "1234", "9999", "12k", "999k"]
    assert len(CHURN_HEADER) == len(RIGHT_HEADER) + 5


async def test_sort_key_goes_through_hotspot_with_churn(tmp_path: Path) -> None:
    app: DreamscapeApp = make_app(sample_root(tmp_path))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        post(app, churn_events())
        await settle(pilot)
        tree = app.dashboard.query_one(FileTree)
        orders = []
        for _ in range(5):
            await pilot.press("s")
            orders.append(tree.sort)
        assert orders == ["hotspot", "cc", "mi", "name", "score"]
        await pilot.press("s")
        assert [e.path for _d, e in tree.rows][:2] == ["legacy", "legacy/billing.py"]
        width = tree.scrollable_content_region.width
        assert tree._right_header(width) is CHURN_HEADER
        assert tree._right_header(len(CHURN_HEADER) + NAME_MIN) is CHURN_HEADER
        assert tree._right_header(len(CHURN_HEADER) + NAME_MIN - 1) is RIGHT_HEADER
        header = "".join(segment.text for segment in tree.render_line(0))
        assert header.rstrip().endswith("MI  Chg")
