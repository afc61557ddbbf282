"""Git-aware risk (core/churn.py, core/gitrepo.py): churn from a real git repository
these tests create.

Commits carry explicit dates (inside and outside the window), one file is renamed (its
churn from before the rename counts for the new name), one churns on every commit and
is the top hotspot. A warm scan with the same HEAD starts no process; a HEAD that moved
reads only the new commits and equals a full recompute; outside git nothing changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dreamscape_tui.core import churn as churn_module
from dreamscape_tui.core.checks import Failure, failure_id
from dreamscape_tui.core.churn import (
    CHURN_TABLE,
    DAY_S,
    ChurnPass,
    ChurnTable,
    fold,
    parse_log,
)
from dreamscape_tui.core.config import ScannerConfig, load_config
from dreamscape_tui.core.engine import AutomationEngine
from dreamscape_tui.core.events import EngineLog, FileResult
from dreamscape_tui.core.gitrepo import find_repo, read_head
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.metrics import analyze_source
from dreamscape_tui.core.scanner import ProjectScanner, ScanReport, risk_score
from dreamscape_tui.core.store import Store
from tests.conftest import Cli

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

NOW = int(time.time())
HOT = '''def route(kind, amount, urgent):
    if kind == "a" and amount > 10:
        return 1
    if kind == "b" or urgent:
        return 2
    for step in range(amount):
        if step % 3 == 0 and urgent:
            return step
    return 0
'''
COMPLEX = "def tangle(x):\n" + "".join(
    f"    if x == {n}:\n        return {n}\n" for n in range(20)) + "    return -1\n"
SIMPLE = "def one():\n    return 1\n"


def days_ago(days: float) -> int:
    return int(NOW - days * DAY_S)


def git(repo: Path, *args: str, when: int | None = None) -> str:
    """Run git in ``repo`` with a fixed identity, no user config, and a given date."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
    proc = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True,
                          text=True, check=True)
    return proc.stdout.strip()


def commit(repo: Path, when: int, files: dict[str, str] | None = None,
           append: tuple[str, ...] = (), message: str = "change") -> None:
    """Write ``files``, append a line to each of ``append``, commit everything."""
    for rel, text in (files or {}).items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for rel in append:
        with (repo / rel).open("a") as fh:
            fh.write(f"# {message} {when}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message, when=when)


def make_history(repo: Path) -> Path:
    """Outside the window (400 days ago): everything is added, old.py last changes.
    Inside (180 days): hot.py churns 12 times, complex.py changes once, legacy.py three
    times, is renamed (and edited) to pkg/renamed.py, which changes once more; a
    README churns too (not a .py file: not counted)."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, days_ago(400), {"hot.py": HOT, "complex.py": COMPLEX, "old.py": SIMPLE,
                                 "legacy.py": SIMPLE * 5, "README.md": "# r\n",
                                 ".gitignore": ".dreamscape/\n"}, message="start")
    commit(repo, days_ago(390), append=("old.py",), message="old")
    for n in range(12):
        commit(repo, days_ago(170 - 10 * n), append=("hot.py", "README.md"), message=f"h{n}")
    commit(repo, days_ago(120), append=("complex.py",), message="c")
    for n in range(3):
        commit(repo, days_ago(100 - n), append=("legacy.py",), message=f"l{n}")
    (repo / "pkg").mkdir()
    git(repo, "mv", "legacy.py", "pkg/renamed.py")
    commit(repo, days_ago(60), append=("pkg/renamed.py",), message="rename")
    commit(repo, days_ago(30), append=("pkg/renamed.py",), message="r")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_history(tmp_path / "proj")


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every process started in this process from now on (git or anything else)."""
    calls: list[list[str]] = []
    real = subprocess.Popen

    def counting(args: Any, *rest: Any, **kwargs: Any) -> Any:
        calls.append(list(args))
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", counting)
    return calls


def scan(root: Path, store: Store | None = None, days: int = 180,
         **kwargs: Any) -> ScanReport:
    return ProjectScanner(root, ScannerConfig(jobs=1, churn_days=days), store,
                          **kwargs).scan()


def by_path(report: ScanReport) -> dict[str, FileResult]:
    return {f.path: f for f in report.files}


def full_recompute(root: Path, days: int = 180) -> ChurnPass:
    churn = ChurnPass(root.resolve(), days, None)
    churn.finish()
    return churn


# -- counting -----------------------------------------------------------------------------


def test_commits_lines_window_and_rename(repo: Path) -> None:
    files = by_path(scan(repo))
    hot = files["hot.py"]
    assert (hot.commits, hot.churn_lines) == (12, 12)
    # three commits as legacy.py, the rename (with its edit) and one more after it
    renamed = files["pkg/renamed.py"]
    assert (renamed.commits, renamed.churn_lines) == (5, 5)
    assert files["complex.py"].commits == 1
    assert (files["old.py"].commits, files["old.py"].churn_lines, files["old.py"].hotspot) == (
        0, 0, 0.0)  # its only changes are 390 and 400 days old
    assert "legacy.py" not in files


def test_a_longer_window_counts_older_commits(repo: Path) -> None:
    files = by_path(scan(repo, days=395))
    assert files["old.py"].commits == 1  # 390 days ago; the add (400) is still outside
    assert files["hot.py"].commits == 12
    assert all(f.commits == 0 for f in scan(repo, days=0).files)


def test_the_file_that_churns_is_the_top_hotspot(repo: Path) -> None:
    files = by_path(scan(repo))
    ranked = sorted(files.values(), key=lambda f: -f.hotspot)
    assert ranked[0].path == "hot.py"
    hot, tangle = files["hot.py"], files["complex.py"]
    assert tangle.metrics.cc_max > hot.metrics.cc_max  # more complex, changed once
    assert hot.hotspot == hot.metrics.cc_max  # the busiest file: its whole cc_max
    assert tangle.hotspot == round(tangle.metrics.cc_max * 1 / 12, 2)
    # churn raises the score above the code's own (static) part
    assert hot.score > risk_score(hot.metrics)
    assert files["old.py"].score == risk_score(files["old.py"].metrics)


def test_scan_json_carries_churn_and_hotspot(repo: Path, cli: Cli) -> None:
    result = cli("scan", "--json", str(repo))
    assert result.code == 0, result.err
    assert result.err == ""
    files = {f["path"]: f for f in json.loads(result.out)["files"]}
    assert files["hot.py"]["churn"] == {"commits": 12, "lines": 12}
    assert files["hot.py"]["hotspot"] == files["hot.py"]["cc_max"]
    assert files["old.py"]["churn"] == {"commits": 0, "lines": 0}
    assert files["old.py"]["hotspot"] == 0.0
    keys = list(files["hot.py"])
    assert keys[-3:] == ["score", "churn", "hotspot"]  # added after the old keys


def test_a_subdirectory_of_the_work_tree(repo: Path) -> None:
    files = by_path(scan(repo / "pkg"))
    assert list(files) == ["renamed.py"]
    # git looks below the scanned directory only: the rename into it is an add there
    assert files["renamed.py"].commits == 2


# -- outside git, and git that cannot help -------------------------------------------------


def test_outside_git_churn_is_zero_and_no_process_starts(
        tmp_path: Path, spawned: list[list[str]]) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "a.py").write_text(HOT)
    report = scan(root, Store.for_project(root))
    assert [(f.commits, f.churn_lines, f.hotspot) for f in report.files] == [(0, 0, 0.0)]
    assert report.files[0].score == risk_score(report.files[0].metrics)
    assert report.warnings == []
    assert spawned == []
    assert "hotspot" in report.to_json()["files"][0]


def test_empty_repository(tmp_path: Path, spawned: list[list[str]]) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.py").write_text(SIMPLE)
    spawned.clear()
    report = scan(root)
    assert report.files[0].commits == 0 and report.warnings == []
    assert spawned == []  # the unborn branch is read from .git/HEAD


def test_shallow_clone_warns_once_and_counts_nothing(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "3", f"file://{repo}", str(clone))
    events = list(ProjectScanner(clone, ScannerConfig(jobs=1)).stream())
    logs = [e for e in events if isinstance(e, EngineLog)]
    assert len(logs) == 1 and "shallow" in logs[0].text and logs[0].level == "warning"
    report = ScanReport(clone)
    for event in events:
        report.add(event)
    assert all(f.commits == 0 for f in report.files) and len(report.files) == 4


def test_git_missing_warns_once(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                cli: Cli) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    report = scan(repo)
    assert report.warnings == ["churn: git is not installed; churn is 0"]
    assert all(f.commits == 0 for f in report.files)
    result = cli("scan", "--json", str(repo))
    assert result.code == 0
    assert result.err == "dreamscape: warning: churn: git is not installed; churn is 0\n"


def test_git_failing_warns(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = churn_module.log_args
    monkeypatch.setattr(churn_module, "log_args",
                        lambda *a, **k: [*real(*a, **k)[:-3], "no-such-rev", "--"])
    report = scan(repo)
    assert len(report.warnings) == 1 and "git log failed" in report.warnings[0]
    assert all(f.commits == 0 for f in report.files)


# -- HEAD from the files ---------------------------------------------------------------


def rev_parse(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def test_head_loose_packed_detached_and_worktree(repo: Path, tmp_path: Path) -> None:
    found = find_repo(repo / "pkg")
    assert found is not None and found.top == repo
    assert read_head(found) == rev_parse(repo)
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert read_head(found) == rev_parse(repo)
    git(repo, "checkout", "-q", "--detach", "HEAD~2")
    assert read_head(found) == rev_parse(repo)
    git(repo, "checkout", "-q", "main")
    other = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "side", str(other), "HEAD~1")
    in_worktree = find_repo(other)
    assert in_worktree is not None and in_worktree.top == other
    assert read_head(in_worktree) == rev_parse(other) != rev_parse(repo)
    files = by_path(scan(other))
    assert files["pkg/renamed.py"].commits == 4  # the worktree is one commit behind


def test_detached_head_counts_its_commit(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    assert by_path(scan(repo))["pkg/renamed.py"].commits == 4


# -- the cache: warm, incremental, a new day -------------------------------------------


def test_warm_scan_with_the_same_head_starts_no_process(
        repo: Path, spawned: list[list[str]]) -> None:
    store = Store.for_project(repo)
    first = by_path(scan(repo, store))
    assert len(spawned) == 1 and "log" in spawned[0]  # HEAD from the files, one git log
    spawned.clear()
    second = by_path(scan(repo, store))
    assert spawned == []
    assert second == {p: FileResult(f.path, f.metrics, f.score, True, f.commits,
                                    f.churn_lines, f.hotspot) for p, f in first.items()}
    store.close()
    reopened = Store.for_project(repo, read_only=True)  # and from the file, too
    assert by_path(scan(repo, reopened)) == second
    assert spawned == []


def test_warm_cli_scan_in_git_imports_no_process_machinery(repo: Path, cli: Cli) -> None:
    assert cli("scan", "--json", str(repo)).code == 0  # fills the cache, churn included
    heavy = ["subprocess"]  # (argparse imports shutil; the store imports tempfile to write)
    code = ("import sys; from dreamscape_tui.cli import main; "
            f"code = main(['scan', '--json', {str(repo)!r}]); "
            f"print(code, [m for m in {heavy!r} if m in sys.modules], file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=os.environ | {"PATH": ""})  # and no git to find
    assert proc.stderr.strip() == "0 []"
    hot = next(f for f in json.loads(proc.stdout)["files"] if f["path"] == "hot.py")
    assert hot["churn"] == {"commits": 12, "lines": 12}


def test_head_moved_reads_only_new_commits_and_equals_a_full_recompute(
        repo: Path, spawned: list[list[str]]) -> None:
    store = Store.for_project(repo)
    scan(repo, store)
    old_head = rev_parse(repo)
    git(repo, "mv", "hot.py", "core.py")
    commit(repo, days_ago(2), append=("core.py", "complex.py"), message="move")
    commit(repo, days_ago(1), append=("core.py",), message="again")
    commit(repo, days_ago(0.5), {"new.py": SIMPLE}, message="new")
    spawned.clear()
    scanner = ProjectScanner(repo, ScannerConfig(jobs=1), store)
    files = by_path(scanner.scan())
    logs = [c for c in spawned if "log" in c]
    assert len(logs) == 1 and f"{old_head}..HEAD" in logs[0]
    assert any("merge-base" in c for c in spawned)
    assert scanner.churn is not None
    assert scanner.churn.buckets == full_recompute(repo).buckets
    assert (files["core.py"].commits, files["core.py"].churn_lines) == (14, 14)
    assert files["complex.py"].commits == 2 and files["new.py"].commits == 1
    assert files["core.py"].hotspot == files["core.py"].metrics.cc_max


def test_rewritten_history_is_recomputed(repo: Path, spawned: list[list[str]]) -> None:
    store = Store.for_project(repo)
    scan(repo, store)
    git(repo, "reset", "-q", "--hard", "HEAD~2")  # the rename is gone
    commit(repo, days_ago(1), append=("hot.py",), message="instead")
    spawned.clear()
    scanner = ProjectScanner(repo, ScannerConfig(jobs=1), store)
    files = by_path(scanner.scan())
    assert next(c for c in spawned if "log" in c)[-3] == "HEAD"  # a full log
    assert files["legacy.py"].commits == 3 and files["hot.py"].commits == 13
    assert scanner.churn is not None and scanner.churn.buckets == full_recompute(repo).buckets


def test_a_new_day_drops_what_left_the_window_without_git(
        repo: Path, spawned: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.for_project(repo)
    assert by_path(scan(repo, store))["hot.py"].commits == 12
    today = churn_module.current_day()
    later = today + 15  # the commit of 170 days ago is now 185 days old
    monkeypatch.setattr(churn_module, "current_day", lambda: later)
    spawned.clear()
    scanner = ProjectScanner(repo, ScannerConfig(jobs=1), store)
    files = by_path(scanner.scan())
    assert spawned == []
    assert files["hot.py"].commits == 11
    assert scanner.churn is not None and scanner.churn.buckets == full_recompute(repo).buckets
    saved = store.table(CHURN_TABLE).all()[0]
    assert saved["today"] == later


def test_a_malformed_cache_or_another_window_is_recomputed(
        repo: Path, spawned: list[list[str]]) -> None:
    store = Store.for_project(repo)
    scan(repo, store)
    with store.tables() as db:
        table = db.table(CHURN_TABLE)
        doc = dict(table.all()[0])
        table.truncate()
        table.insert({**doc, "files": {"hot.py": [doc["today"], "x", 1]}})
    spawned.clear()
    assert by_path(scan(repo, store))["hot.py"].commits == 12
    assert [c for c in spawned if "log" in c]
    spawned.clear()
    assert by_path(scan(repo, store, days=395))["old.py"].commits == 1  # another window
    assert next(c for c in spawned if "log" in c)[-3] == "HEAD"


def test_scan_without_cache_recomputes(repo: Path, spawned: list[list[str]]) -> None:
    for _ in range(2):
        ProjectScanner(repo, ScannerConfig(jobs=1, cache=False), Store.for_project(repo)).scan()
    assert len([c for c in spawned if "log" in c]) == 2


# -- failure history -------------------------------------------------------------------


def test_failure_history_raises_the_score(repo: Path) -> None:
    plain = by_path(scan(repo))["old.py"]
    failed = by_path(scan(repo, failure_history={"old.py": 2}))["old.py"]
    assert failed.score > plain.score
    assert by_path(scan(repo, failure_history={"old.py": 3}))["old.py"].score > failed.score
    metrics = analyze_source(HOT)
    assert risk_score(metrics, None, 1) > risk_score(metrics)


def test_the_engine_passes_each_files_heal_count(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "a.py").write_text(HOT)
    (root / "b.py").write_text(HOT)
    heals = HealStore.for_project(root)
    try:
        heals.enqueue(Failure(failure_id("syntax", "syntax", "b.py"), "b.py", "syntax",
                              "syntax", "broken"), 3)
    finally:
        heals.close()
    engine = AutomationEngine(root, load_config(root, None))
    try:
        files = by_path(engine.scan())
    finally:
        engine.close()
    assert files["b.py"].score > files["a.py"].score == risk_score(files["a.py"].metrics)


def test_the_score_formula() -> None:
    metrics = analyze_source(HOT)
    static = risk_score(metrics)
    change = churn_module.Churn(31, 2 * metrics.loc)  # full churn on both counts
    assert risk_score(metrics, change) == round(1 - (1 - static) * 0.6, 4)
    assert risk_score(metrics, change, 3) == round(1 - (1 - static) * 0.6 * 0.7, 4)
    assert risk_score(metrics, churn_module.Churn(0, 0)) == static
    assert 0 <= risk_score(metrics, churn_module.Churn(10_000, 10**9), 99) <= 1
    assert ChurnTable({}, 4).hotspot(10, 2) == 5.0 and ChurnTable({}, 0).hotspot(10, 2) == 0


# -- parsing ---------------------------------------------------------------------------


def test_parse_log_renames_binaries_and_empty_commits() -> None:
    data = (b"\x01aaa 200\x00\n-\t-\tbin.py\x003\t1\t\x00old name.py\x00new/name.py\x00"
            b"\x01bbb 100\x00\x01ccc 50\x00\n2\t0\told name.py\x00")
    commits = parse_log(data)
    assert commits == [(200, [("bin.py", None, 0), ("new/name.py", "old name.py", 4)]),
                       (100, []), (50, [("old name.py", None, 2)])]
    buckets: dict[str, dict[int, list[int]]] = {}
    fold(buckets, commits)
    assert buckets == {"bin.py": {0: [1, 0]}, "new/name.py": {0: [2, 6]}}


def test_non_utf8_and_odd_paths_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "odd"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    name = "sp ace\tand \"quote\" é.py"
    commit(root, days_ago(5), {name: SIMPLE})
    commit(root, days_ago(4), append=(name,))
    files = by_path(scan(root))
    assert files[name].commits == 2

