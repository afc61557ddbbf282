"""The walk's directory cache: an unchanged directory is not listed again, and any
change to a directory's entries (or a chmod) makes it listed afresh."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dreamscape_tui.core import walk as walk_module
from dreamscape_tui.core.config import ScannerConfig
from dreamscape_tui.core.ignore import RuleSet
from dreamscape_tui.core.scanner import DIRS_TABLE, ProjectScanner
from dreamscape_tui.core.store import Store
from dreamscape_tui.core.walk import Candidate, DirCache, Rejected, walk
from tests.conftest import write

FILES: dict[str, str | bytes] = {
    "a.py": "", "pkg/b.py": "", "pkg/sub/c.py": "", "pkg/sub/deep/d.py": "",
    "docs/locale/fr/LC_MESSAGES/django.po": "", "docs/readme.txt": "",
    "pkg/.gitignore": "ignored.py\n", "pkg/ignored.py": "",
}
DIRS = {"", "docs", "docs/locale", "docs/locale/fr", "docs/locale/fr/LC_MESSAGES", "pkg",
        "pkg/sub", "pkg/sub/deep"}


@pytest.fixture
def old_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep listings however recent their directories (the tests change them only in ways
    that change the ctime, and wait for it to change)."""
    monkeypatch.setattr(walk_module, "RACY_NS", -10**30)


@pytest.fixture
def scandirs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    listed: list[str] = []
    real = os.scandir

    def spy(path: Any) -> Any:
        listed.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(walk_module.os, "scandir", spy)
    yield listed


def run(root: Path, dirs: DirCache | None) -> list[Candidate | Rejected]:
    return list(walk(root, RuleSet(root), 10**7, dirs))


def changed(path: Path, change: Any) -> None:
    """Apply ``change`` and make sure the directory's ctime moved (clock ticks are coarse)."""
    before = path.stat().st_ctime_ns
    change()
    while path.stat().st_ctime_ns == before:
        time.sleep(0.005)
        path.chmod(path.stat().st_mode)  # a chmod sets the ctime again, to the new tick


def test_unchanged_directories_are_not_listed_again(tmp_path: Path, old_enough: None,
                                                   scandirs: list[str]) -> None:
    write(tmp_path, FILES)
    first = DirCache()
    entries = run(tmp_path, first)
    assert first.listed == len(DIRS) and set(first.kept) == DIRS and first.changed
    scandirs.clear()
    again = DirCache(json.loads(json.dumps(first.kept)))  # as stored in scan.json
    assert run(tmp_path, again) == entries
    assert again.listed == 0 and scandirs == [] and not again.changed
    assert [e.rel for e in entries] == ["a.py", "pkg/b.py", "pkg/sub/c.py",
                                        "pkg/sub/deep/d.py"]


@pytest.mark.parametrize("how", ["add", "remove", "rename", "chmod"])
def test_a_changed_directory_is_listed_again(tmp_path: Path, old_enough: None, how: str,
                                             scandirs: list[str]) -> None:
    write(tmp_path, FILES)
    first = DirCache()
    run(tmp_path, first)
    sub = tmp_path / "pkg" / "sub"
    change = {
        "add": lambda: (sub / "new.py").write_text(""),
        "remove": lambda: (sub / "c.py").unlink(),
        "rename": lambda: (sub / "c.py").rename(sub / "e.py"),
        "chmod": lambda: sub.chmod(0o700),
    }[how]
    changed(sub, change)
    scandirs.clear()
    again = DirCache(json.loads(json.dumps(first.kept)))
    rels = {e.rel for e in run(tmp_path, again)}
    assert scandirs == [str(sub)] and again.listed == 1 and again.changed
    expected = {"add": {"pkg/sub/c.py", "pkg/sub/new.py"}, "remove": set(),
                "rename": {"pkg/sub/e.py"}, "chmod": {"pkg/sub/c.py"}}[how]
    assert {r for r in rels if r.startswith("pkg/sub/") and "deep" not in r} == expected


def test_a_new_ignore_file_and_a_file_edit_are_seen(tmp_path: Path, old_enough: None) -> None:
    write(tmp_path, FILES)
    first = DirCache()
    run(tmp_path, first)
    changed(tmp_path / "pkg" / "sub", lambda: (tmp_path / "pkg/sub/.gitignore").write_text(
        "c.py\n"))
    (tmp_path / "pkg/.gitignore").write_text("b.py\n")  # an edit: pkg is not re-listed
    again = DirCache(json.loads(json.dumps(first.kept)))
    rels = [e.rel for e in run(tmp_path, again)]
    assert rels == ["a.py", "pkg/ignored.py", "pkg/sub/deep/d.py"]
    assert again.listed == 1  # pkg/sub only: ignore files are read afresh on every walk


def test_links_are_followed_afresh(tmp_path: Path, old_enough: None) -> None:
    outside = tmp_path / "outside"
    root = tmp_path / "root"
    write(outside, {"target/x.py": ""})
    write(root, {"a.py": ""})
    os.symlink(outside / "target", root / "lib")
    first = DirCache()
    assert [e.rel for e in run(root, first)] == ["a.py", "lib/x.py"]
    # the link's target becomes a file: root itself does not change
    (outside / "target" / "x.py").unlink()
    (outside / "target").rmdir()
    (outside / "target").write_text("")
    again = DirCache(json.loads(json.dumps(first.kept)))
    assert [e.rel for e in run(root, again)] == ["a.py"]
    assert again.listed == 0


def test_recently_changed_directories_are_not_kept(tmp_path: Path) -> None:
    write(tmp_path, FILES)  # just now: within the racy window of their ctime
    dirs = DirCache()
    run(tmp_path, dirs)
    assert dirs.listed == len(DIRS) and dirs.kept == {} and not dirs.changed


def test_a_stale_listing_inside_the_racy_window_is_not_a_change(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    write(tmp_path, FILES)
    monkeypatch.setattr(walk_module, "RACY_NS", -10**30)
    first = DirCache()
    run(tmp_path, first)
    changed(tmp_path / "pkg", lambda: (tmp_path / "pkg/new.py").write_text(""))
    monkeypatch.setattr(walk_module, "RACY_NS", 10**30)  # pkg changed "just now"
    again = DirCache(json.loads(json.dumps(first.kept)))
    assert "pkg/new.py" in {e.rel for e in run(tmp_path, again)}
    assert again.listed == 1 and not again.changed  # the old listing stays, unmatched


def test_scanner_keeps_listings_in_the_scan_cache(tmp_path: Path, old_enough: None) -> None:
    write(tmp_path, FILES)
    with Store.for_project(tmp_path) as store:
        cold = ProjectScanner(tmp_path, ScannerConfig(jobs=1), store)
        cold.scan()
        assert cold.dirs_listed == len(DIRS)
        with store.tables() as db:
            saved = db.table(DIRS_TABLE).all()
        assert len(saved) == 1 and set(saved[0]["dirs"]) == DIRS
        flushes = store.flushes
        warm = ProjectScanner(tmp_path, ScannerConfig(jobs=1), store)
        report = warm.scan()
        assert warm.dirs_listed == 0 and store.flushes == flushes
    assert report.stats is not None and report.stats.cached == 4
    with Store.for_project(tmp_path) as store:  # reopened: read back from scan.json
        warm = ProjectScanner(tmp_path, ScannerConfig(jobs=1), store)
        assert warm.scan().stats.cached == 4  # type: ignore[union-attr]
        assert warm.dirs_listed == 0


def test_malformed_saved_listings_are_ignored(tmp_path: Path, old_enough: None) -> None:
    write(tmp_path, FILES)
    with Store.for_project(tmp_path) as store:
        ProjectScanner(tmp_path, ScannerConfig(jobs=1), store).scan()
    path = tmp_path / ".dreamscape" / "scan.json"
    data = json.loads(path.read_text())
    dirs = next(iter(data[DIRS_TABLE].values()))["dirs"]
    dirs["pkg"][3] = [["b.py"]]
    dirs["pkg/sub"] = "nonsense"
    path.write_text(json.dumps(data))
    with Store.for_project(tmp_path) as store:
        scanner = ProjectScanner(tmp_path, ScannerConfig(jobs=1), store)
        report = scanner.scan()
    assert scanner.dirs_listed == 2
    assert report.stats is not None and report.stats.cached == 4
