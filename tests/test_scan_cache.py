"""The scan cache: its own file, written once per scan, no processes when nothing changed.

``.dreamscape/scan.json`` holds only the scanner's cache: a scan reads it once and
rewrites it once, at its end, and only when something changed; heal transitions go to
their own journal and never touch it. A rescan of an unchanged (or merely touched)
project starts no worker process and imports none of the analysis machinery. ``scan``
beside a process that holds the project lock reads the cache and writes nothing.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from dreamscape_tui.core import scanner as scanner_module
from dreamscape_tui.core import walk as walk_module
from dreamscape_tui.core.checks import Failure
from dreamscape_tui.core.config import ScannerConfig
from dreamscape_tui.core.events import Event, FileScanned
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.lock import ProjectLock
from dreamscape_tui.core.scanner import CACHE_TABLE, ProjectScanner, ScanReport
from dreamscape_tui.core.store import Store
from tests.conftest import Cli, write

SOURCE = '''def f(x):
    if x:
        return [y for y in range(x) if y % 2]
    return None
'''


def project(root: Path, n: int = 30) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {f"pkg/m{i:02d}.py": SOURCE * (i % 4 + 1) for i in range(n)}
    write(root, files)
    return files


def scan_json(root: Path) -> Path:
    return root / ".dreamscape" / "scan.json"


def identity(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def cached_paths(path: Path) -> list[str]:
    return sorted(d["path"] for d in json.loads(path.read_text())[CACHE_TABLE].values())


@pytest.fixture(autouse=True)
def no_listing_is_old_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    """Directory listings are never kept here, so whether a scan writes cannot depend on
    how long the test took (a listing is kept once its directory is 2 s old; the
    directory cache has its own tests, in test_walk_cache.py)."""
    monkeypatch.setattr(walk_module, "RACY_NS", 10**30)


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every analysis goes to the pool (jobs=2); the list counts the pools started."""
    monkeypatch.setattr(scanner_module, "SERIAL_MAX_BYTES", 0)
    started: list[int] = []
    real = ProjectScanner._start_pool

    def counting(self: ProjectScanner, workers: int) -> Any:
        started.append(workers)
        return real(self, workers)

    monkeypatch.setattr(ProjectScanner, "_start_pool", counting)
    return started


def scan(root: Path, store: Store | None, **kw: Any) -> ScanReport:
    return ProjectScanner(root, ScannerConfig(jobs=kw.pop("jobs", 2), **kw), store).scan()


def test_cache_is_its_own_file_written_once_at_the_end_of_a_scan(tmp_path: Path) -> None:
    files = project(tmp_path)
    legacy = tmp_path / ".dreamscape" / "state.json"  # an older version's store
    legacy.parent.mkdir()
    legacy.write_text('{"scan_cache": {"1": {"path": "pkg/m00.py", "version": 1}}}')
    before = legacy.read_bytes()
    with Store.for_project(tmp_path) as store:
        assert store.path == scan_json(tmp_path)
        events: list[Event] = []
        for event in ProjectScanner(tmp_path, ScannerConfig(jobs=1), store).stream():
            if isinstance(event, FileScanned):
                assert not store.path.exists()  # nothing written while the scan runs
            events.append(event)
        assert store.flushes == 1
        first = identity(store.path)
        assert cached_paths(store.path) == sorted(files)

        warm = scan(tmp_path, store)  # nothing changed: nothing written
        assert warm.stats is not None and warm.stats.cached == len(files)
        assert store.flushes == 1 and identity(store.path) == first

        (tmp_path / "pkg/m03.py").write_text(SOURCE + "x = 1\n")
        scan(tmp_path, store)
        assert store.flushes == 2 and identity(store.path) != first
    assert legacy.read_bytes() == before  # left alone: not read, not written, not deleted


def test_heal_transitions_never_touch_the_scan_cache(tmp_path: Path) -> None:
    project(tmp_path, n=3)
    with Store.for_project(tmp_path) as store:
        scan(tmp_path, store)
    before = identity(scan_json(tmp_path))
    heals = HealStore.for_project(tmp_path)
    failure = Failure("f1", "pkg/m00.py", "syntax", "syntax", "bad")
    item = heals.enqueue(failure, cc_max=3)
    assert item is not None
    claimed = heals.claim_next()
    assert claimed is not None and claimed.id == item.id
    heals.close()
    assert (tmp_path / ".dreamscape" / "heals.jsonl").stat().st_size > 0
    assert identity(scan_json(tmp_path)) == before


def test_unchanged_or_touched_project_starts_no_process(tmp_path: Path,
                                                       pools: list[int]) -> None:
    files = project(tmp_path)
    with Store.for_project(tmp_path) as store:
        cold = scan(tmp_path, store)
        assert cold.stats is not None and cold.stats.analyzed == len(files)
        assert len(pools) == 1  # the cold scan needed the pool
        written = identity(store.path)

        warm = scan(tmp_path, store)
        assert warm.stats is not None and warm.stats.cached == len(files)
        assert len(pools) == 1 and multiprocessing.active_children() == []
        assert identity(store.path) == written

        for rel in files:  # a checkout or `touch`: new mtimes, same contents
            os.utime(tmp_path / rel, ns=(1, 10**18))
        touched = scan(tmp_path, store)
        assert touched.stats is not None and touched.stats.cached == len(files)
        assert len(pools) == 1 and multiprocessing.active_children() == []
        assert identity(store.path) != written  # the new mtimes were recorded
        assert warm.to_json()["files"] == touched.to_json()["files"]

        again = ProjectScanner(tmp_path, ScannerConfig(jobs=2), store)
        assert again.scan().stats.cached == len(files)  # type: ignore[union-attr]
        assert again.pools_started == 0  # the recorded mtimes now match


def test_changed_files_are_reanalysed(tmp_path: Path, pools: list[int]) -> None:
    project(tmp_path)
    with Store.for_project(tmp_path) as store:
        scan(tmp_path, store)
        (tmp_path / "pkg/m01.py").write_text("def g(a, b):\n    return a if b else -a\n")
        (tmp_path / "pkg/m02.py").write_text("def (:\n")
        report = scan(tmp_path, store)
    assert len(pools) == 2  # the two changed files went to the pool, nothing else did
    assert report.stats is not None
    assert (report.stats.cached, report.stats.analyzed) == (28, 29)
    g = next(f for f in report.files if f.path == "pkg/m01.py")
    assert not g.cached and [fn.name for fn in g.metrics.functions] == ["g"]
    assert g.metrics.cc_max == 2
    assert [(s.path, s.reason[:12]) for s in report.skipped] == [("pkg/m02.py", "syntax error")]


def test_few_changed_files_are_analysed_in_process(tmp_path: Path) -> None:
    project(tmp_path)
    with Store.for_project(tmp_path) as store:
        scan(tmp_path, store)
        (tmp_path / "pkg/m04.py").write_text("y = 2\n")
        scanner = ProjectScanner(tmp_path, ScannerConfig(jobs=2), store)
        report = scanner.scan()
    assert scanner.pools_started == 0
    assert report.stats is not None and report.stats.cached == 29
    assert next(f for f in report.files if f.path == "pkg/m04.py").metrics.lloc == 1


def test_cancelled_scan_writes_what_it_finished(tmp_path: Path) -> None:
    files = project(tmp_path)
    cancel = threading.Event()
    with Store.for_project(tmp_path) as store:
        scanner = ProjectScanner(tmp_path, ScannerConfig(jobs=1), store, cancel=cancel)
        done = 0
        for event in scanner.stream():
            if isinstance(event, FileScanned):
                done += 1
                if done == 10:
                    cancel.set()
        assert store.flushes == 1
        assert cached_paths(store.path) == sorted(files)[:10]
        rest = scan(tmp_path, store)
    assert rest.stats is not None and (rest.stats.cached, rest.stats.analyzed) == (10, 30)


def test_warm_cli_scan_imports_no_analysis_machinery(tmp_path: Path, cli: Cli) -> None:
    project(tmp_path)
    cold = cli("scan", "--json", str(tmp_path))
    assert cold.code == 0
    heavy = ["radon", "multiprocessing", "concurrent.futures", "pathspec", "textual", "rich",
             "selenium", "tinydb.middlewares"]
    code = ("import sys; from dreamscape_tui.cli import main; "
            f"code = main(['scan', '--json', {str(tmp_path)!r}]); "
            f"print(code, [m for m in {heavy!r} if m in sys.modules], file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.stderr.strip() == "0 []"
    data = json.loads(proc.stdout)
    assert data["stats"]["cached"] == 30
    assert data["files"] == json.loads(cold.out)["files"]


def test_scan_beside_a_held_lock_reads_the_cache_and_writes_nothing(tmp_path: Path,
                                                                   cli: Cli) -> None:
    project(tmp_path)
    assert cli("scan", "--json", str(tmp_path)).code == 0  # takes the lock, writes, releases
    before = identity(scan_json(tmp_path))
    state = sorted(p.name for p in (tmp_path / ".dreamscape").iterdir())
    (tmp_path / "pkg/m05.py").write_text("z = 3\n")
    with ProjectLock.acquire(tmp_path, "dreamscape (the TUI)"):
        result = cli("scan", "--json", str(tmp_path))
        assert result.code == 0 and result.err == ""
        data = json.loads(result.out)
        assert data["stats"]["cached"] == 29  # read the cache
        assert next(f for f in data["files"] if f["path"] == "pkg/m05.py")["lloc"] == 1
        assert identity(scan_json(tmp_path)) == before  # and wrote nothing
        assert sorted(p.name for p in (tmp_path / ".dreamscape").iterdir()) == state
    after = cli("scan", "--json", str(tmp_path))  # the lock is free again: it writes
    assert json.loads(after.out)["stats"]["cached"] == 29
    assert identity(scan_json(tmp_path)) != before
    assert json.loads(cli("scan", "--json", str(tmp_path)).out)["stats"]["cached"] == 30


def test_scan_beside_a_held_lock_creates_no_cache(tmp_path: Path, cli: Cli) -> None:
    project(tmp_path, n=2)
    with ProjectLock.acquire(tmp_path, "dreamscape heal --headless"):
        result = cli("scan", "--json", str(tmp_path))
        assert result.code == 0
        assert json.loads(result.out)["stats"]["analyzed"] == 2
        assert not scan_json(tmp_path).exists()


def test_scan_releases_the_lock_it_took(tmp_path: Path, cli: Cli) -> None:
    project(tmp_path, n=2)
    assert cli("scan", str(tmp_path)).code == 0
    lock = ProjectLock.try_acquire(tmp_path, "after")
    assert lock is not None
    lock.release()


def test_unchanged_scan_takes_no_lock_and_changes_nothing(tmp_path: Path, cli: Cli) -> None:
    project(tmp_path, n=3)
    assert cli("scan", "--json", str(tmp_path)).code == 0
    state = tmp_path / ".dreamscape"
    (state / "lock").unlink(missing_ok=True)
    before = {p.name: identity(p) for p in state.iterdir()}
    assert json.loads(cli("scan", "--json", str(tmp_path)).out)["stats"]["cached"] == 3
    assert {p.name: identity(p) for p in state.iterdir()} == before  # no lock file either


def test_claim_is_asked_once_and_only_when_the_cache_changed(tmp_path: Path) -> None:
    project(tmp_path, n=3)
    claims: list[bool] = []

    def scan_read_only(grant: bool) -> ScanReport:
        store = Store.for_project(tmp_path, read_only=True)

        def claim() -> bool:
            claims.append(grant)
            if grant:
                store.make_writable()
            return grant

        with store:
            return ProjectScanner(tmp_path, ScannerConfig(jobs=1), store,
                                  claim_store=claim).scan()

    scan_read_only(grant=False)  # refused: nothing written
    assert claims == [False] and not scan_json(tmp_path).exists()
    scan_read_only(grant=True)
    assert claims == [False, True] and cached_paths(scan_json(tmp_path)) == [
        "pkg/m00.py", "pkg/m01.py", "pkg/m02.py"]
    assert scan_read_only(grant=True).stats.cached == 3  # type: ignore[union-attr]
    assert claims == [False, True]  # nothing changed: not asked


def test_malformed_cache_entries_are_reanalysed(tmp_path: Path) -> None:
    project(tmp_path, n=4)
    with Store.for_project(tmp_path) as store:
        scan(tmp_path, store, jobs=1)
    data = json.loads(scan_json(tmp_path).read_text())
    docs = {d["path"]: d for d in data[CACHE_TABLE].values()}
    docs["pkg/m00.py"]["metrics"] = docs["pkg/m00.py"]["metrics"][:5]  # short row
    docs["pkg/m01.py"]["metrics"][13] = [["f", 1]]  # short function row
    docs["pkg/m02.py"]["metrics"][0] = "many"  # not a number
    del docs["pkg/m03.py"]["mtime_ns"]
    scan_json(tmp_path).write_text(json.dumps(data))
    with Store.for_project(tmp_path) as store:
        report = scan(tmp_path, store, jobs=1)
    assert report.stats is not None
    assert (report.stats.analyzed, report.stats.cached) == (4, 0)
    with Store.for_project(tmp_path) as store:
        assert scan(tmp_path, store, jobs=1).stats.cached == 4  # type: ignore[union-attr]


def test_metrics_row_round_trip(tmp_path: Path) -> None:
    from dreamscape_tui.core.metrics import FileMetrics, analyze_source

    metrics = analyze_source(SOURCE + "class K:\n    def m(self):\n        return 1\n")
    row = json.loads(json.dumps(metrics.to_row()))
    assert FileMetrics.from_row(row) == metrics
    assert FileMetrics.from_row(row).to_dict() == metrics.to_dict()
    with pytest.raises(ValueError):
        FileMetrics.from_row(row[:-1])
