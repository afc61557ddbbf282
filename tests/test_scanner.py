"""ProjectScanner: JSON contract, radon identity end to end, hostile files, incremental cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from radon.complexity import cc_rank, cc_visit
from radon.metrics import h_visit, mi_rank, mi_visit
from radon.raw import analyze

from dreamscape_tui.core import scanner as scanner_module
from dreamscape_tui.core.config import ScannerConfig
from dreamscape_tui.core.scanner import ProjectScanner, ScanReport
from dreamscape_tui.core.store import Store
from tests.conftest import Cli, write

COMPLEX = '''"""A module."""


class Shape:
    def area(self, kind, a, b):
        if kind == "rect":
            return a * b
        elif kind == "tri":
            return a * b / 2
        for i in range(3):
            if i and a or b:
                return i
        return 0


def helper(x):
    # a comment
    return [y for y in x if y] or None
'''
SIMPLE = "x = 1\n"


def scan(root: Path, store: Store | None = None, **kw: Any) -> ScanReport:
    config = ScannerConfig(jobs=kw.pop("jobs", 1), **kw)
    return ProjectScanner(root, config, store).scan()


def scan_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("scan", "--json", *args)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def test_json_contract_and_radon_identity(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"pkg/shapes.py": COMPLEX, "pkg/__init__.py": "", "simple.py": SIMPLE})
    data = scan_json(cli, str(tmp_path), "--no-cache")
    assert set(data) == {"root", "files", "skipped", "stats"}
    assert data["root"] == str(tmp_path.resolve())
    assert data["files"][0]["path"] == "pkg/shapes.py"
    scores = [f["score"] for f in data["files"]]
    assert scores == sorted(scores, reverse=True)
    assert data["stats"]["files"] == 3 and data["stats"]["analyzed"] == 3
    shapes = data["files"][0]
    raw = analyze(COMPLEX)
    blocks = cc_visit(COMPLEX)
    for key in ("loc", "lloc", "sloc", "comments", "multi", "blank"):
        assert shapes[key] == getattr(raw, key), key
    assert shapes["cc_max"] == max(b.complexity for b in blocks)
    assert shapes["cc_avg"] == sum(b.complexity for b in blocks) / len(blocks)
    assert shapes["cc_rank"] == cc_rank(shapes["cc_max"])
    assert shapes["mi"] == mi_visit(COMPLEX, True)
    assert shapes["mi_rank"] == mi_rank(shapes["mi"])
    assert shapes["halstead_volume"] == h_visit(COMPLEX).total.volume
    assert shapes["functions"] == [
        {"name": b.fullname, "lineno": b.lineno, "cc": b.complexity, "rank": cc_rank(b.complexity)}
        for b in blocks
    ]
    assert 0.0 <= shapes["score"] <= 1.0
    empty = next(f for f in data["files"] if f["path"] == "pkg/__init__.py")
    assert (empty["cc_max"], empty["cc_rank"], empty["functions"]) == (0, "A", [])


@pytest.fixture
def always_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyse even a few small files in the process pool (with jobs > 1)."""
    monkeypatch.setattr(scanner_module, "SERIAL_MAX_BYTES", 0)


def test_parallel_scan_equals_serial_scan(tmp_path: Path, always_pool: None) -> None:
    files: dict[str, str | bytes] = {f"m{i:02d}.py": COMPLEX * (i % 3 + 1) for i in range(40)}
    write(tmp_path, files)
    serial = scan(tmp_path, jobs=1).to_json()
    scanner = ProjectScanner(tmp_path, ScannerConfig(jobs=2))
    parallel = scanner.scan().to_json()
    assert scanner.pools_started == 1
    assert serial["files"] == parallel["files"]


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_both_start_methods_give_the_same_results(tmp_path: Path, always_pool: None,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  method: str) -> None:
    write(tmp_path, {f"m{i:02d}.py": COMPLEX * (i % 3 + 1) for i in range(20)})
    serial = scan(tmp_path, jobs=1).to_json()
    monkeypatch.setattr(scanner_module, "START_METHOD", method)
    scanner = ProjectScanner(tmp_path, ScannerConfig(jobs=2))
    assert scanner.scan().to_json()["files"] == serial["files"]
    assert scanner.pools_started == 1


def test_forks_only_when_single_threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(scanner_module, "START_METHOD", None)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert scanner_module._process_context().get_start_method() == "fork"
    monkeypatch.setattr(threading, "active_count", lambda: 3)  # a TUI's threads
    assert scanner_module._process_context().get_start_method() == "forkserver"


def test_small_analysis_needs_no_pool(tmp_path: Path) -> None:
    write(tmp_path, {f"m{i:02d}.py": COMPLEX for i in range(40)})  # 40 files, ~30 kB
    scanner = ProjectScanner(tmp_path, ScannerConfig(jobs=2))
    report = scanner.scan()
    assert report.stats is not None and report.stats.analyzed == 40
    assert scanner.pools_started == 0


def _hostile(root: Path) -> dict[str, str]:
    """Write one file of each hostile kind; return path -> expected reason fragment."""
    write(root, {
        "undecodable.py": b"x = '\xff\xfe\xfa'\n",
        "binary.py": b"\x00\x01\x02ELF\x00" * 10,
        "syntax.py": "def f(:\n    pass\n",
        "py2.py": "print 'hello'\nexec 'x = 1'\n",
        "taberror.py": "if True:\n        x = 1\n\ty = 2\n",
        "cookie.py": b"# -*- coding: klingon -*-\nx = 1\n",
        "nesting.py": "x = " + "(" * 5000 + ")" * 5000 + "\n",
        "deep_list.py": "x = " + "[" * 250 + "]" * 250 + "\n",
        "deep_unary.py": "x = " + "-" * 100_000 + "1\n",
        "huge.py": "x = 1\n" * 600_000,
        "fine.py": SIMPLE,
    })
    os.symlink("missing.py", root / "dangling.py")
    os.symlink("selfloop.py", root / "selfloop.py")
    os.symlink(".", root / "again")
    os.mkfifo(root / "fifo.py")
    return {
        "undecodable.py": "decode", "binary.py": "binary", "syntax.py": "syntax error",
        "py2.py": "syntax error", "taberror.py": "tab", "cookie.py": "encoding",
        "nesting.py": "nested", "deep_list.py": "nested", "deep_unary.py": "nested",
        "huge.py": "too large",
        "dangling.py": "dangling symlink", "selfloop.py": "symlink loop",
        "again": "symlink loop", "fifo.py": "not a regular file",
    }


@pytest.mark.parametrize("jobs", [1, 2])
def test_hostile_files_are_skipped_with_reasons(tmp_path: Path, jobs: int,
                                                always_pool: None) -> None:
    expected = _hostile(tmp_path)
    scanner = ProjectScanner(tmp_path, ScannerConfig(jobs=jobs))
    report = scanner.scan()
    assert scanner.pools_started == (jobs > 1)
    assert [f.path for f in report.files] == ["fine.py"]
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == set(expected)
    for path, fragment in expected.items():
        assert fragment in reasons[path].lower(), (path, reasons[path])


def test_unreadable_file_is_skipped_not_fatal(tmp_path: Path) -> None:
    write(tmp_path, {"secret.py": SIMPLE, "open.py": SIMPLE, "locked/x.py": SIMPLE})
    (tmp_path / "secret.py").chmod(0)
    (tmp_path / "locked").chmod(0)
    cmd = [sys.executable, "-m", "dreamscape_tui.cli", "scan", "--json", "--no-cache",
           str(tmp_path)]
    if os.geteuid() == 0:  # root reads everything: drop the capabilities that allow it
        if not shutil.which("setpriv"):
            pytest.skip("needs setpriv to drop root's read-override capabilities")
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [f["path"] for f in data["files"]] == ["open.py"]
    reasons = {s["path"]: s["reason"] for s in data["skipped"]}
    assert "permission denied" in reasons["secret.py"].lower()
    assert "unreadable directory" in reasons["locked"]


def test_incremental_rescans(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": SIMPLE, "b.py": COMPLEX, "c.py": "def f():\n    return 1\n"})
    with Store.for_project(tmp_path) as store:
        first = scan(tmp_path, store)
    assert first.stats is not None and (first.stats.analyzed, first.stats.cached) == (3, 0)

    with Store.for_project(tmp_path) as store:  # reopened: the cache is persistent
        warm = scan(tmp_path, store)
    assert warm.stats is not None and warm.stats.cached == 3
    assert warm.to_json()["files"] == first.to_json()["files"]

    (tmp_path / "a.py").write_text(COMPLEX)       # edited
    (tmp_path / "c.py").unlink()                  # deleted
    write(tmp_path, {"d.py": "import os\n"})      # added
    os.utime(tmp_path / "b.py")                   # touched, content unchanged
    with Store.for_project(tmp_path) as store:
        third = scan(tmp_path, store)
        with store.tables() as db:
            cached_paths = sorted(d["path"] for d in db.table("scan_cache").all())
    assert third.stats is not None
    assert (third.stats.files, third.stats.cached) == (3, 1)  # only b.py came from cache
    assert sorted(f.path for f in third.files) == ["a.py", "b.py", "d.py"]
    a = next(f for f in third.files if f.path == "a.py")
    assert a.metrics.cc_max == max(b.complexity for b in cc_visit(COMPLEX))
    assert cached_paths == ["a.py", "b.py", "d.py"]  # the deleted file left the cache


def test_skipped_files_are_cached_too(tmp_path: Path) -> None:
    write(tmp_path, {"bad.py": "def (:\n"})
    with Store.for_project(tmp_path) as store:
        scan(tmp_path, store)
        again = scan(tmp_path, store)
    assert [s.path for s in again.skipped] == ["bad.py"]


def test_no_cache_writes_no_state(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SIMPLE})
    scan_json(cli, str(tmp_path), "--no-cache")
    assert not (tmp_path / ".dreamscape").exists()


def test_corrupt_store_warns_and_scan_succeeds(tmp_path: Path, cli: Cli) -> None:
    torn = '{"scan_cache": {"1": {'
    write(tmp_path, {"a.py": SIMPLE, ".dreamscape/scan.json": torn})
    result = cli("scan", "--json", str(tmp_path))
    assert result.code == 0
    assert "corrupt" in result.err and "warning" in result.err
    assert json.loads(result.out)["files"][0]["path"] == "a.py"
    state = tmp_path / ".dreamscape"
    assert (state / "scan.json.corrupt-1").read_text() == torn  # moved aside, kept
    rebuilt = json.loads((state / "scan.json").read_text())
    assert [d["path"] for d in rebuilt["scan_cache"].values()] == ["a.py"]
    again = cli("scan", "--json", str(tmp_path))
    assert again.err == "" and json.loads(again.out)["stats"]["cached"] == 1


def test_cli_flags_ignore_and_no_ignore(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SIMPLE, "gen/b.py": SIMPLE, ".gitignore": "c.py\n", "c.py": SIMPLE})
    paths = {f["path"] for f in scan_json(cli, str(tmp_path), "--ignore", "gen/")["files"]}
    assert paths == {"a.py"}
    paths = {f["path"] for f in scan_json(cli, str(tmp_path), "--no-ignore")["files"]}
    assert paths == {"a.py", "gen/b.py", "c.py"}


def test_table_output_for_people(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SIMPLE, "b.py": COMPLEX, "bad.py": "def (:\n"})
    result = cli("scan", str(tmp_path))
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["score", "rank", "cc_max", "MI", "lloc", "path"]
    assert lines[1].endswith("b.py") and "bad.py" in result.out and "syntax error" in result.out
    assert "3 files" in result.out


@pytest.mark.parametrize("args", [["/definitely/not/here"], ["--bogus"], ["--jobs", "x"]])
def test_bad_usage_exits_2_with_one_line(cli: Cli, args: list[str], tmp_path: Path) -> None:
    result = cli("scan", *args)
    assert result.code == 2
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_path_that_is_a_file(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SIMPLE})
    result = cli("scan", str(tmp_path / "a.py"))
    assert result.code == 2 and "not a directory" in result.err
