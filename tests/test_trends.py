"""Trends (issue 12, item 2): the per-scan history, ``scan --since`` and the ratchet.

Real git repositories made here (commits with fixed dates), the real CLI in-process,
the real engine and the app through the same factory as the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from dreamscape_tui.core.config import ScannerConfig, load_config
from dreamscape_tui.core.engine import AutomationEngine
from dreamscape_tui.core.events import EngineLog, Event, FileResult, TrendsUpdated
from dreamscape_tui.core.lock import ProjectLock
from dreamscape_tui.core.metrics import analyze_source
from dreamscape_tui.core.scanner import ProjectScanner, ScanReport, risk_score
from dreamscape_tui.core.since import compare
from dreamscape_tui.core.store import Store
from dreamscape_tui.core.trendlog import TrendKeeper, TrendLog, record_scan
from dreamscape_tui.core.trends import HISTORY_FILE, TrendHistory, scan_digest, state_of
from dreamscape_tui.screens.detail import DetailScreen
from tests.conftest import Cli, write
from tests.test_tui_support import make_app, post, risky_results, sample_root, scan_events, settle
from widgets.trend import TrendView, signed, sparkline

SIMPLE = "def area(w, h):\n    return w * h\n"
BRANCHY = '''def area(w, h):
    if w < 0 or h < 0:
        raise ValueError("negative")
    if w == 0:
        return 0
    for _ in range(3):
        if h > w:
            h -= 1
    return w * h
'''
OTHER = "def name():\n    return 'x'\n"


# -- helpers -------------------------------------------------------------------------------------
def git(root: Path, *args: str, date: str = "2024-01-01T12:00:00") -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True,
                          text=True).stdout


def repo(root: Path, files: dict[str, str | bytes]) -> Path:
    """A git repository holding ``files`` in one commit (2024-01-01)."""
    write(root, files)
    git(root, "init", "-q", "-b", "main")
    commit(root, "first", "2024-01-01T12:00:00")
    return root


def commit(root: Path, message: str, date: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, date=date)
    return git(root, "rev-parse", "HEAD").strip()


def history(root: Path, limit: int = 50) -> TrendHistory:
    return TrendLog(root / ".dreamscape" / HISTORY_FILE, limit, read_only=True).load()


def history_lines(root: Path) -> list[dict[str, Any]]:
    text = (root / ".dreamscape" / HISTORY_FILE).read_text()
    return [json.loads(line) for line in text.splitlines()]


def scan(cli: Cli, root: Path, *args: str) -> dict[str, Any]:
    result = cli("scan", "--json", str(root), *args)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def set_history_scans(root: Path, n: int) -> None:
    write(root, {".dreamscape/config.toml": f"[scanner]\nhistory_scans = {n}\n"})


def result(path: str, source: str) -> FileResult:
    metrics = analyze_source(source)
    return FileResult(path, metrics, risk_score(metrics), False)


def records(series: list[dict[str, list[Any] | None]], first: int = 1) -> list[dict[str, Any]]:
    """History records as stored: the first full, the rest changes."""
    return [{"v": 1, "scan": first + i, "time": 1_700_000_000 + i, "head": None,
             "full": i == 0, "files": files, "digest": ""} for i, files in enumerate(series)]


def sample_history() -> TrendHistory:
    """Twelve recorded scans (#7 to #18) in which legacy/billing.py got steadily worse
    and calc.py changed once (deterministic: for the detail's snapshots)."""
    cc = [21, 21, 22, 22, 25, 25, 27, 30, 30, 31, 31, 34]
    mi = [19.4, 19.1, 18.0, 18.0, 15.2, 14.9, 12.3, 11.0, 10.7, 9.5, 9.5, 8.25]
    series: list[dict[str, list[Any] | None]] = []
    for i in range(12):
        files: dict[str, list[Any] | None] = {
            "legacy/billing.py": [cc[i], mi[i], 788 + i * 12, round(0.55 + i * 0.01, 4)]}
        if i == 0:
            files["calc.py"] = [3, 70.0, 20, 0.1]
        if i == 11:
            files["calc.py"] = [4, 66.0, 24, 0.12]
        series.append(files)
    return TrendHistory.from_records(records(series, first=7), 50)


# -- the history ---------------------------------------------------------------------------------
def test_each_changing_scan_appends_one_compact_record(tmp_path: Path, cli: Cli) -> None:
    root = repo(tmp_path / "p", {"geo.py": SIMPLE, "names.py": OTHER})
    head = git(root, "rev-parse", "HEAD").strip()
    scan(cli, root)
    scan(cli, root)  # unchanged: nothing appended
    assert len(history(root)) == 1
    (root / "geo.py").write_text(BRANCHY)
    scan(cli, root)
    trail = history(root)
    assert [m.id for m in trail.marks] == [1, 2]
    assert all(m.head == head for m in trail.marks)
    lines = history_lines(root)
    assert lines[0]["full"] is True and sorted(lines[0]["files"]) == ["geo.py", "names.py"]
    assert list(lines[1]["files"]) == ["geo.py"]  # only what changed
    assert list(lines[1])[-1] == "digest"  # last key: a warm scan reads only the tail
    geo = trail.trend("geo.py")
    assert [p.cc_max for p in geo.points] == [1, analyze_source(BRANCHY).cc_max]
    assert geo.delta() is not None and geo.delta()["cc_max"] > 0  # type: ignore[index]
    assert [p.cc_max for p in trail.trend("names.py").points] == [1, 1]
    (root / "names.py").unlink()
    scan(cli, root)
    assert history_lines(root)[-1]["files"] == {"names.py": None}
    assert trail.state() != history(root).state() and "names.py" not in history(root).state()


def test_history_is_bounded_by_history_scans(tmp_path: Path, cli: Cli) -> None:
    root = repo(tmp_path / "p", {"geo.py": SIMPLE, "names.py": OTHER})
    set_history_scans(root, 3)
    for n in range(1, 9):
        (root / "geo.py").write_text(SIMPLE + f"\nLIMIT = {n}\n" + "x = 1\n" * n)
        scan(cli, root)
    trail = history(root, 3)
    assert [m.id for m in trail.marks] == [6, 7, 8]
    assert len(trail.trend("geo.py").points) == 3
    assert [p.sloc for p in trail.trend("geo.py").points] == [9, 10, 11]
    assert len(history_lines(root)) <= 2 * 3  # compacted once it reaches twice the window
    assert history_lines(root)[0]["full"] is True
    # reading it with the configured limit gives the same three scans, whatever the file
    assert history(root, 3).state() == state_of(ProjectScanner(root, ScannerConfig()).scan().files)


def test_warm_scan_writes_nothing_and_reads_only_the_tail(tmp_path: Path, cli: Cli,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path / "p", {"geo.py": SIMPLE})
    scan(cli, root)
    path = root / ".dreamscape" / HISTORY_FILE
    before = (path.stat().st_mtime_ns, path.read_bytes())

    def no_load(self: TrendLog) -> TrendHistory:
        raise AssertionError("a warm scan loaded the whole history")

    monkeypatch.setattr(TrendLog, "load", no_load)
    scan(cli, root)
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


def test_no_cache_and_a_held_lock_write_no_history(tmp_path: Path, cli: Cli) -> None:
    root = repo(tmp_path / "p", {"geo.py": SIMPLE})
    scan(cli, root, "--no-cache")
    assert not (root / ".dreamscape").exists()
    scan(cli, root)
    (root / "geo.py").write_text(BRANCHY)
    lock = ProjectLock.acquire(root, "dreamscape (another process)")
    try:
        scan(cli, root)  # beside the lock holder: reads, writes nothing
    finally:
        lock.release()
    assert len(history(root)) == 1


def test_read_only_engine_reads_history_and_writes_none(tmp_path: Path, cli: Cli) -> None:
    root = repo(tmp_path / "p", {"geo.py": SIMPLE})
    scan(cli, root)
    (root / "geo.py").write_text(BRANCHY)
    before = (root / ".dreamscape" / HISTORY_FILE).read_bytes()
    events: list[Event] = []
    engine = AutomationEngine(root, load_config(root, None), read_only=True, sink=events.append)
    try:
        engine.scan()
    finally:
        engine.close()
    assert (root / ".dreamscape" / HISTORY_FILE).read_bytes() == before
    updates = [e for e in events if isinstance(e, TrendsUpdated)]
    assert len(updates) == 1 and len(updates[0].history) == 1  # the stored scan, shown


def test_engine_records_each_scan_and_sends_the_history(tmp_path: Path) -> None:
    root = repo(tmp_path / "p", {"geo.py": SIMPLE})
    events: list[Event] = []
    engine = AutomationEngine(root, load_config(root, None), sink=events.append)
    try:
        engine.scan()
        (root / "geo.py").write_text(BRANCHY)
        engine.scan()
        engine.scan()  # unchanged
    finally:
        engine.close()
    updates = [e.history for e in events if isinstance(e, TrendsUpdated)]
    assert [len(h) for h in updates] == [1, 2, 2]
    assert updates[-1] is updates[-2]  # nothing new: the same immutable window
    assert len(history(root)) == 2
    assert events.index(next(e for e in events if isinstance(e, TrendsUpdated))) > 0


def test_cancelled_scan_appends_nothing(tmp_path: Path) -> None:
    root = write(tmp_path / "p", {"geo.py": SIMPLE})
    keeper = TrendKeeper(root / ".dreamscape" / HISTORY_FILE, 50, clock=lambda: 5.0,
                         head=lambda _root: None)
    cancel = threading.Event()
    cancel.set()
    cancelled = ProjectScanner(root, ScannerConfig(), cancel=cancel).scan()
    assert cancelled.stats is not None and cancelled.stats.cancelled
    events = keeper.after_scan(cancelled)
    assert not (root / ".dreamscape" / HISTORY_FILE).exists()
    assert [type(e) for e in events] == [TrendsUpdated]
    assert record_scan(root / ".dreamscape" / HISTORY_FILE, cancelled, 50,
                       writable=lambda: True) is False
    done = ProjectScanner(root, ScannerConfig()).scan()
    assert record_scan(root / ".dreamscape" / HISTORY_FILE, done, 50, writable=lambda: True,
                       clock=lambda: 7.0, head=lambda: None)
    assert [m.time for m in history(root).marks] == [7]


def test_a_corrupt_history_is_set_aside_and_rebuilt(tmp_path: Path, cli: Cli) -> None:
    root = repo(tmp_path / "p", {"geo.py": SIMPLE})
    scan(cli, root)
    path = root / ".dreamscape" / HISTORY_FILE
    path.write_text("{not json\n" + path.read_text() + "{\"v\":1,\"scan\":")
    (root / "geo.py").write_text(BRANCHY)
    scan(cli, root)
    assert (root / ".dreamscape" / f"{HISTORY_FILE}.corrupt-1").exists()
    assert [m.id for m in history(root).marks] == [1]  # a new history, one full record
    # records of another format are replaced, not appended after
    path.write_text('{"v":99,"scan":1}\n')
    (root / "geo.py").write_text(SIMPLE)
    scan(cli, root)
    assert [r["v"] for r in history_lines(root)] == [1]


def test_digest_ignores_order_and_sees_every_value() -> None:
    a, b = result("a.py", SIMPLE), result("b.py", BRANCHY)
    assert scan_digest([a, b]) == scan_digest([b, a])
    assert scan_digest([a, b]) != scan_digest([a, result("b.py", SIMPLE)])
    assert scan_digest([a]) != scan_digest([a, b])


def test_records_fold_into_a_window() -> None:
    series: list[dict[str, list[Any] | None]] = [
        {"a.py": [1, 90.0, 10, 0.1], "b.py": [2, 80.0, 5, 0.2]},
        {"a.py": [3, 85.0, 12, 0.15]},
        {"b.py": None},
        {"a.py": [2, 88.0, 11, 0.12], "c.py": [1, 100.0, 2, 0.04]},
    ]
    full = TrendHistory.from_records(records(series), 50)
    assert [p.cc_max for p in full.trend("a.py").points] == [1, 3, 3, 2]
    assert [p.scan for p in full.trend("b.py").points] == [1, 2]
    window = TrendHistory.from_records(records(series), 2)
    assert [m.id for m in window.marks] == [3, 4]
    assert window.state(0) == {"a.py": (3, 85.0, 12, 0.15)}
    assert window.state() == full.state() == {"a.py": (2, 88.0, 11, 0.12),
                                                "c.py": (1, 100.0, 2, 0.04)}
    trend = full.trend("a.py")
    assert trend.delta() == {"cc_max": -1, "mi": 3.0, "sloc": -1, "score": -0.03}
    stale = full.trend("b.py")
    assert stale.delta() == {"cc_max": 0, "mi": 0.0, "sloc": 0, "score": 0.0}
    # a malformed record ends the history; the records before it stand
    broken = [*records(series)[:2], {"v": 1, "scan": "x"}, *records(series)[2:]]
    assert [m.id for m in TrendHistory.from_records(broken, 50).marks] == [1, 2]


def test_worse_means_cc_up_mi_down_or_score_up() -> None:
    before = {"same.py": (3, 70.0, 10, 0.2), "cc.py": (3, 70.0, 10, 0.2),
              "mi.py": (3, 70.0, 10, 0.2), "tiny.py": (3, 70.0, 10, 0.2),
              "better.py": (9, 40.0, 50, 0.5), "gone.py": (1, 90.0, 3, 0.1),
              "broken.py": (1, 90.0, 3, 0.1)}
    after = {"same.py": (3, 70.0, 10, 0.2), "cc.py": (4, 70.0, 10, 0.2),
             "mi.py": (3, 68.9, 10, 0.2), "tiny.py": (3, 69.5, 11, 0.205),
             "better.py": (5, 60.0, 30, 0.3), "new.py": (30, 5.0, 900, 0.9)}
    deltas = {d.path: d for d in compare(before, after, unanalysable=["broken.py"])}
    assert "same.py" not in deltas
    assert {p for p, d in deltas.items() if d.worse} == {"cc.py", "mi.py", "broken.py"}
    assert deltas["cc.py"].worse == ("cc_max",) and deltas["mi.py"].worse == ("mi",)
    assert deltas["tiny.py"].worse == ()  # MI -0.5, score +0.005: within the epsilons
    assert deltas["new.py"].status == "added" and not deltas["new.py"].worse
    assert deltas["gone.py"].status == "removed" and not deltas["gone.py"].worse
    assert deltas["broken.py"].status == "unanalysable"
    assert deltas["cc.py"].to_json()["delta"] == {"cc_max": 1, "mi": 0.0, "sloc": 0,
                                                  "score": 0.0}


# -- scan --since --------------------------------------------------------------------------------
def test_since_last_reports_deltas_and_worse(tmp_path: Path, cli: Cli) -> None:
    root = repo(tmp_path / "p", {"geo.py": SIMPLE, "names.py": OTHER, "keep.py": OTHER})
    scan(cli, root)
    (root / "geo.py").write_text(BRANCHY)
    (root / "names.py").unlink()
    write(root, {"fresh.py": SIMPLE})
    since = scan(cli, root, "--since", "last")["since"]
    assert since["ref"] == "last" and since["source"] == "history" and since["scan"] == 1
    files = {f["path"]: f for f in since["files"]}
    assert set(files) == {"geo.py", "names.py", "fresh.py"}  # keep.py did not change
    geo = files["geo.py"]
    branchy = analyze_source(BRANCHY)
    simple = analyze_source(SIMPLE)
    assert geo["before"] == {"cc_max": 1, "mi": round(simple.mi, 2), "sloc": 2,
                             "score": risk_score(simple)}
    assert geo["after"]["cc_max"] == branchy.cc_max and geo["after"]["mi"] == round(branchy.mi, 2)
    assert geo["delta"]["cc_max"] == branchy.cc_max - 1 and geo["delta"]["mi"] < -1
    assert geo["worse"] == ["cc_max", "mi", "score"]
    assert files["names.py"]["after"] is None and files["names.py"]["status"] == "removed"
    assert files["fresh.py"]["before"] is None and files["fresh.py"]["delta"] is None
    assert since["worse"] == ["geo.py"]
    # the previous scan is now the one just recorded: nothing changed since
    again = scan(cli, root, "--since", "last")["since"]
    assert again["scan"] == 2 and again["files"] == [] and again["worse"] == []


def test_since_a_git_ref_needs_no_history(tmp_path: Path, cli: Cli) -> None:
    root = repo(tmp_path / "p", {"pkg/geo.py": SIMPLE, "pkg/names.py": OTHER,
                                 "pkg/old.py": OTHER, "build/gen.py": OTHER,
                                 ".gitignore": "build/\n", "notes.txt": "x\n"})
    first = git(root, "rev-parse", "HEAD").strip()
    (root / "pkg/geo.py").write_text(BRANCHY)
    (root / "pkg/old.py").unlink()
    write(root, {"pkg/new.py": SIMPLE, "build/gen.py": BRANCHY})
    commit(root, "second", "2024-02-01T12:00:00")
    assert not (root / ".dreamscape").exists()  # never scanned: no history at all
    since = scan(cli, root, "--no-cache", "--since", "HEAD~1")["since"]
    assert since["source"] == "git" and since["commit"] == first and since["scan"] is None
    files = {f["path"]: f for f in since["files"]}
    assert set(files) == {"pkg/geo.py", "pkg/old.py", "pkg/new.py"}  # build/ is ignored
    assert files["pkg/geo.py"]["before"]["cc_max"] == 1
    assert files["pkg/geo.py"]["after"]["cc_max"] == analyze_source(BRANCHY).cc_max
    assert files["pkg/old.py"]["status"] == "removed" and files["pkg/new.py"]["status"] == "added"
    assert since["worse"] == ["pkg/geo.py"]
    # uncommitted edits count too: the work tree against the ref
    (root / "pkg/names.py").write_text(BRANCHY.replace("area", "name"))
    worse = scan(cli, root, "--since", "HEAD")["since"]["worse"]
    assert worse == ["pkg/names.py"]


def test_since_a_git_ref_from_a_subdirectory(tmp_path: Path, cli: Cli) -> None:
    top = repo(tmp_path / "top", {"app/geo.py": SIMPLE, "app/sub/x.py": OTHER, "lib/y.py": OTHER})
    (top / "app/geo.py").write_text(BRANCHY)
    (top / "lib/y.py").write_text(BRANCHY)  # outside the scanned root
    since = scan(cli, top / "app", "--since", "main")["since"]
    assert [f["path"] for f in since["files"]] == ["geo.py"]
    assert since["worse"] == ["geo.py"]


def test_fail_on_worse_exits_3_with_one_line(tmp_path: Path, cli: Cli) -> None:
    root = repo(tmp_path / "p", {"geo.py": BRANCHY, "names.py": OTHER})
    ok = cli("scan", "--json", "--since", "HEAD", "--fail-on-worse", str(root))
    assert ok.code == 0 and ok.err == ""
    assert json.loads(ok.out)["since"]["worse"] == []
    (root / "geo.py").write_text(SIMPLE)  # better: still 0
    better = cli("scan", "--json", "--since", "HEAD", "--fail-on-worse", str(root))
    assert better.code == 0 and json.loads(better.out)["since"]["files"][0]["worse"] == []
    (root / "names.py").write_text(BRANCHY.replace("area", "name"))
    worse = cli("scan", "--json", "--since", "HEAD", "--fail-on-worse", str(root))
    assert worse.code == 3
    assert json.loads(worse.out)["since"]["worse"] == ["names.py"]  # the report is printed
    assert worse.err.count("\n") == 1
    assert worse.err.startswith("dreamscape: 1 file got worse since HEAD: names.py (cc_max 1→")
    # without --fail-on-worse a worse file is reported, and the exit code is 0
    assert cli("scan", "--json", "--since", "HEAD", str(root)).code == 0
    # the text mode prints a short delta table after the ranking
    text = cli("scan", "--since", "HEAD", "--fail-on-worse", str(root))
    assert text.code == 3
    table = text.out.split("\n\nsince HEAD", 1)[1].splitlines()
    assert table[0].startswith(" (commit ") and table[0].endswith("2 files changed, 1 worse")
    assert table[1].split() == ["Δcc_max", "ΔMI", "Δsloc", "Δscore", "path"]
    assert any(line.endswith("names.py  worse: cc_max, mi, score") for line in table)


@pytest.mark.parametrize(("args", "message"), [
    (["--fail-on-worse"], "--fail-on-worse needs --since"),
    (["--since", "no-such-branch"], "unknown git ref"),
    (["--since=-p"], "not a git ref"),
    (["--since", ""], "--since needs a git ref"),
])
def test_bad_since_usage_exits_2_with_one_line(tmp_path: Path, cli: Cli, args: list[str],
                                               message: str) -> None:
    root = repo(tmp_path / "p", {"geo.py": SIMPLE})
    bad = cli("scan", "--json", str(root), *args)
    assert bad.code == 2 and bad.out == ""
    assert bad.err.count("\n") == 1 and message in bad.err and "Traceback" not in bad.err
    assert not (root / ".dreamscape").exists()  # refused before scanning


def test_since_outside_git_and_without_history_exit_2(tmp_path: Path, cli: Cli) -> None:
    root = write(tmp_path / "plain", {"geo.py": SIMPLE})
    env_ceiling = os.environ.get("GIT_CEILING_DIRECTORIES")
    os.environ["GIT_CEILING_DIRECTORIES"] = str(tmp_path)  # tmp_path may sit inside a repo
    try:
        outside = cli("scan", "--since", "HEAD", str(root))
    finally:
        if env_ceiling is None:
            del os.environ["GIT_CEILING_DIRECTORIES"]
        else:
            os.environ["GIT_CEILING_DIRECTORIES"] = env_ceiling
    assert outside.code == 2 and outside.err.count("\n") == 1
    assert "not in a git repository" in outside.err
    first = cli("scan", "--since", "last", str(root))
    assert first.code == 2 and "no scan of" in first.err and first.err.count("\n") == 1
    scan(cli, root)
    assert cli("scan", "--since", "last", "--fail-on-worse", str(root)).code == 0


# -- the file detail -----------------------------------------------------------------------------
def test_sparkline_and_signs() -> None:
    assert sparkline([]) == ""
    assert sparkline([5, 5, 5]) == "▄▄▄"
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([10.0, 0.0]) == "█▁"
    assert signed(3) == "+3" and signed(-4.2, 2) == "\N{MINUS SIGN}4.20" and signed(0) == "0"
    assert signed(-0.001, 2) == "0.00"


async def test_detail_shows_sparklines_and_the_delta(tmp_path: Path) -> None:
    app = make_app(sample_root(tmp_path))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        post(app, [*scan_events(extra=risky_results()), TrendsUpdated(sample_history())])
        await settle(pilot)
        app.open_detail("legacy/billing.py")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        text = str(app.screen.query_one(TrendView).render())
        lines = text.splitlines()
        assert "the last 12 scans with this file (#7 to #18)" in lines[0]
        assert lines[1].startswith("cc max  ▁▁▂▂▃▃▄▆▆▆▆█") and lines[1].split()[-2:] == ["34", "+3"]
        assert lines[2].startswith("MI      ██▇▇▅▅▄▃▃▂▂▁")
        assert lines[2].split()[-2:] == ["8.25", "\N{MINUS SIGN}1.25"]
        assert lines[3] == ("Δ since the previous scan: cc max +3 · MI \N{MINUS SIGN}1.25 · "
                            "sloc +12 · score +0.0100")
        await pilot.press("escape")
        app.open_detail("greet.py")  # in the first scan only, never changed
        await settle(pilot)
        text = str(app.screen.query_one(TrendView).render())
        assert "no scan of this file recorded yet" in text


async def test_detail_redraws_when_a_scan_brings_a_new_history(tmp_path: Path) -> None:
    app = make_app(sample_root(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        post(app, scan_events(extra=risky_results()))
        await settle(pilot)
        app.open_detail("calc.py")
        await settle(pilot)
        assert "no scan of this file recorded yet" in str(
            app.screen.query_one(TrendView).render())
        post(app, [TrendsUpdated(sample_history())])
        await settle(pilot)
        text = str(app.screen.query_one(TrendView).render()).splitlines()
        assert "(#7 to #18)" in text[0]
        # calc.py changed in the last scan only: flat, then one step
        assert text[1].startswith("cc max  ▁▁▁▁▁▁▁▁▁▁▁█")
        assert text[3].startswith("Δ since the previous scan: cc max +1")


async def test_narrow_detail_keeps_the_latest_scans(tmp_path: Path) -> None:
    long = TrendHistory.from_records(records(
        [{"calc.py": [i % 7, 50.0 + i, 10, 0.1]} for i in range(50)]), 50)
    app = make_app(sample_root(tmp_path))
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(pilot)
        post(app, [*scan_events(), TrendsUpdated(long)])
        await settle(pilot)
        app.open_detail("calc.py")
        await settle(pilot)
        view = app.screen.query_one(TrendView)
        lines = str(view.render()).splitlines()
        assert all(len(line) <= view.size.width for line in lines[:3])
        assert "to #50)" in lines[0] and "the last 50" not in lines[0]


def test_read_model_keeps_the_latest_history() -> None:
    from dreamscape_tui.readmodel import ReadModel

    model = ReadModel()
    assert model.trend("calc.py") is None
    model.apply(TrendsUpdated(sample_history()))
    trend = model.trend("calc.py")
    assert trend is not None and [p.scan for p in trend.points][-2:] == [17, 18]
    model.apply(scan_events()[0])  # a new scan keeps the old history until its own comes
    assert model.trends is not None


def test_history_survives_an_unchanged_report_from_the_scanner(tmp_path: Path) -> None:
    """The values come from the metrics alone: the churn-weighted score is not stored."""
    root = write(tmp_path / "p", {"geo.py": SIMPLE})
    report: ScanReport = ProjectScanner(root, ScannerConfig()).scan()
    weighted = ScanReport(root, [FileResult(f.path, f.metrics, min(f.score + 0.3, 1.0),
                                            f.cached, 12, 400, 0.8) for f in report.files],
                          report.skipped, report.stats)
    assert state_of(weighted.files) == state_of(report.files)
    assert scan_digest(weighted.files) == scan_digest(report.files)


def test_store_beside_history_is_untouched(tmp_path: Path, cli: Cli) -> None:
    """The history is its own file: the scan cache holds no trend table."""
    root = repo(tmp_path / "p", {"geo.py": SIMPLE})
    scan(cli, root)
    (root / "geo.py").write_text(BRANCHY)
    scan(cli, root)
    with Store.for_project(root, read_only=True) as store, store.tables() as db:
        assert set(db.tables()) <= {"scan_cache", "scan_dirs", "scan_churn"}


def test_an_unwritable_history_warns_and_the_scan_goes_on(tmp_path: Path) -> None:
    root = write(tmp_path / "p", {"geo.py": SIMPLE})
    (root / ".dreamscape" / HISTORY_FILE).mkdir(parents=True)  # a directory: cannot write
    events: list[Event] = []
    engine = AutomationEngine(root, load_config(root, None), sink=events.append)
    try:
        report = engine.scan()
    finally:
        engine.close()
    assert [f.path for f in report.files] == ["geo.py"]
    warnings = [e.text for e in events if isinstance(e, EngineLog) and e.level == "warning"]
    assert len(warnings) == 1 and "trend history not updated" in warnings[0]
    assert not any(isinstance(e, TrendsUpdated) for e in events)


def test_same_values_from_new_raw_numbers_refresh_the_digest(tmp_path: Path) -> None:
    path = tmp_path / HISTORY_FILE
    first = result("geo.py", SIMPLE)
    log = TrendLog(path, 5)
    assert log.record([first], when=1, head=lambda: None)
    # the same rounded values, another raw MI: no new scan, but the digest follows
    m = first.metrics
    nudged = FileResult("geo.py", type(m)(**{**{f: getattr(m, f) for f in m.__slots__},
                                             "mi": m.mi + 0.001}), first.score, True)
    assert state_of([nudged]) == state_of([first])
    assert not log.record([nudged], when=2, head=lambda: None)
    log.close()
    stored = TrendLog(path, 5, read_only=True)
    assert stored.tail_digest() == scan_digest([nudged])
    assert [m.id for m in stored.load().marks] == [1]
