"""Continuous healing: the watcher, the engine's rechecks, ``heal --headless --watch`` and
the TUI, all on real file saves (issue 12, item 3).

Timing is asserted only as generous upper bounds; everything else polls for a condition
with a deadline.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dreamscape_tui.core.config import EngineConfig, ScannerConfig, load_config
from dreamscape_tui.core.engine import AutomationEngine
from dreamscape_tui.core.events import EngineLog, Event, HealChanged
from dreamscape_tui.core.healtypes import HealState
from dreamscape_tui.core.lock import ProjectLock
from dreamscape_tui.core.recheck import GONE, Recheck, WatchState
from dreamscape_tui.core.watch import ProjectWatcher, WatchError
from dreamscape_tui.practice.sample import FIXED_CART, SAMPLE_FILES, scripted_answer, target_of
from tests.conftest import write
from tests.fake_openai import FakeOpenAI, Scripted, fake_openai_server
from tests.heal_helpers import api_config, sample_project

DEBOUNCE = 0.3
BACKENDS = ["native", "poll"]
UTIL = SAMPLE_FILES["util.py"]
BROKEN_UTIL = UTIL.replace("def clamp(x, lo, hi):", "def clamp(x, lo, hi)")
WATCH_CONFIG = f"\n[engine]\nwatch_debounce_s = {DEBOUNCE}\n"


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "it") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def make_watcher(root: Path, mode: str, stop: threading.Event,
                 events: list[Event] | None = None) -> ProjectWatcher:
    sink = events.append if events is not None else None
    return ProjectWatcher(root, ScannerConfig(),
                          EngineConfig(watcher=mode, watch_debounce_s=DEBOUNCE),  # type: ignore[arg-type]
                          stop=stop, sink=sink, poll_interval_s=0.2)


def next_batch(watcher: ProjectWatcher, timeout: float = 15.0) -> tuple[str, ...] | None:
    """The next batch within ``timeout`` (None if nothing came)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = watcher.next_batch(0.1)
        if batch:
            return batch
    return None


def quiet_for(watcher: ProjectWatcher) -> float:
    """Long enough for any batch still on its way to arrive (debounce + a poll + slack)."""
    return watcher.debounce_s + watcher.interval_s + 1.5


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write(tmp_path / "proj", {"pkg/__init__.py": "", "pkg/a.py": "x = 1\n",
                                     "notes.md": "notes\n"})


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def no_watchfiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if watchfiles were not installed: importing it fails."""
    monkeypatch.setitem(sys.modules, "watchfiles", None)


# -- the watcher ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", BACKENDS)
def test_a_save_is_one_batch(project: Path, stop: threading.Event, mode: str) -> None:
    watcher = make_watcher(project, mode, stop)
    assert watcher.start() == mode
    saved = time.monotonic()
    (project / "pkg" / "a.py").write_text("x = 2\n")
    assert next_batch(watcher) == ("pkg/a.py",)
    assert time.monotonic() - saved < 5  # "within a second or two", generously
    assert next_batch(watcher, quiet_for(watcher)) is None


@pytest.mark.parametrize("mode", BACKENDS)
def test_a_burst_of_500_files_is_one_batch(project: Path, stop: threading.Event,
                                           mode: str) -> None:
    watcher = make_watcher(project, mode, stop)
    watcher.start()
    for n in range(500):
        (project / "pkg" / f"m{n:03}.py").write_text(f"n = {n}\n")
    batch = next_batch(watcher)
    assert batch is not None and len(batch) == 500
    assert set(batch) == {f"pkg/m{n:03}.py" for n in range(500)}
    assert next_batch(watcher, quiet_for(watcher)) is None


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("mode", BACKENDS)
def test_a_git_checkout_of_500_files_is_one_batch(project: Path, stop: threading.Event,
                                                  mode: str) -> None:
    git(project, "init", "-q", "-b", "main")
    for n in range(500):
        (project / "pkg" / f"m{n:03}.py").write_text(f"n = {n}\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "one")
    git(project, "checkout", "-q", "-b", "other")
    for n in range(500):
        (project / "pkg" / f"m{n:03}.py").write_text(f"n = {n} + 1\n")
    git(project, "commit", "-q", "-am", "two")
    watcher = make_watcher(project, mode, stop)
    watcher.start()
    git(project, "checkout", "-q", "main")
    batch = next_batch(watcher)
    assert batch is not None and len(batch) == 500, batch  # .git/ is not in it
    assert next_batch(watcher, quiet_for(watcher)) is None


@pytest.mark.parametrize("mode", BACKENDS)
def test_ignored_paths_produce_nothing(project: Path, stop: threading.Event,
                                       mode: str) -> None:
    write(project, {".gitignore": "build/\n", ".scannerignore": "gen_*.py\n",
                    "venv2/pyvenv.cfg": "home = /usr\n", "build/keep.txt": ""})
    watcher = make_watcher(project, mode, stop)
    watcher.start()
    write(project, {
        ".git/hooks/x.py": "x = 1\n", ".dreamscape/heals.jsonl": "{}\n",
        ".dreamscape/backups/h1/pkg/a.py": "x = 0\n", "pkg/__pycache__/a.cpython-311.py": "",
        ".venv/lib/site.py": "x = 1\n", "venv2/lib/mod.py": "x = 1\n",
        "build/out.py": "x = 1\n", "pkg/gen_table.py": "x = 1\n", "notes.md": "more notes\n",
        "data.json": "{}\n", ".mypy_cache/x.py": "",
    })
    assert next_batch(watcher, quiet_for(watcher)) is None
    (project / "pkg" / "a.py").write_text("x = 3\n")
    assert next_batch(watcher) == ("pkg/a.py",)  # it watches; the rest was ignored


@pytest.mark.parametrize("mode", BACKENDS)
def test_ignore_files_and_tool_configs_are_changes(project: Path, stop: threading.Event,
                                                   mode: str) -> None:
    watcher = make_watcher(project, mode, stop)
    watcher.start()
    write(project, {".gitignore": "pkg/\n", "pyproject.toml": "[tool.pytest.ini_options]\n"})
    assert next_batch(watcher) == (".gitignore", "pyproject.toml")
    (project / "pkg" / "a.py").write_text("x = 4\n")  # ignored now
    assert next_batch(watcher, quiet_for(watcher)) is None


@pytest.mark.parametrize("mode", BACKENDS)
def test_stops_within_a_second(project: Path, stop: threading.Event, mode: str) -> None:
    watcher = make_watcher(project, mode, stop)
    watcher.start()
    batches: list[tuple[str, ...]] = []
    thread = threading.Thread(target=lambda: batches.extend(watcher.batches()), daemon=True)
    thread.start()
    (project / "pkg" / "a.py").write_text("x = 5\n")
    wait_for(lambda: batches, 15, "the batch")
    stopped = time.monotonic()
    stop.set()
    thread.join(1.0)
    assert not thread.is_alive()
    assert watcher.join(1.0)  # the source thread too
    assert time.monotonic() - stopped < 2.0


def test_auto_polls_without_watchfiles(project: Path, stop: threading.Event,
                                       no_watchfiles: None) -> None:
    events: list[Event] = []
    watcher = make_watcher(project, "auto", stop, events)
    assert watcher.start() == "poll"
    assert any(isinstance(e, EngineLog) and "watchfiles is not installed" in e.text
               and e.level == "warning" for e in events)
    (project / "pkg" / "a.py").write_text("x = 6\n")
    assert next_batch(watcher) == ("pkg/a.py",)
    for n in range(500):
        (project / "pkg" / f"m{n:03}.py").write_text(f"n = {n}\n")
    batch = next_batch(watcher)
    assert batch is not None and len(batch) == 500


def test_native_without_watchfiles_is_a_clear_error(project: Path, stop: threading.Event,
                                                    no_watchfiles: None) -> None:
    with pytest.raises(WatchError, match="watchfiles is not installed"):
        make_watcher(project, "native", stop).start()


def test_auto_polls_when_the_native_watch_cannot_start(
        project: Path, stop: threading.Event, monkeypatch: pytest.MonkeyPatch) -> None:
    """What watchfiles raises at the inotify watch limit."""
    def watch(*args: object, **kwargs: object) -> Iterator[set[tuple[int, str]]]:
        raise OSError("OS file watch limit reached. about ['/proj']")
        yield set()

    monkeypatch.setitem(sys.modules, "watchfiles", types.SimpleNamespace(watch=watch))
    events: list[Event] = []
    watcher = make_watcher(project, "auto", stop, events)
    assert watcher.start() == "poll"
    assert any(isinstance(e, EngineLog) and "watch limit" in e.text for e in events)
    (project / "pkg" / "a.py").write_text("x = 7\n")
    assert next_batch(watcher) == ("pkg/a.py",)


# -- what a recheck covers -----------------------------------------------------------------
SELECTION = {
    "pkg/__init__.py": "", "pkg/core.py": "X = 1\n", "pkg/mid.py": "from pkg.core import X\n",
    "app.py": "from pkg import mid\n", "lonely.py": "Y = 2\n",
    "tests/__init__.py": "", "tests/conftest.py": "", "tests/helpers.py": "H = 1\n",
    "tests/test_app.py": "import app\n", "tests/test_core.py": "from pkg.core import X\n",
    "tests/test_other.py": "from tests.helpers import H\n",
    "tests/test_lonely.py": "Z = 3\n", "tests/sub/test_deep.py": "",
}


@pytest.mark.parametrize(("changed", "tests"), [
    (["pkg/core.py"], ["tests/test_app.py", "tests/test_core.py"]),  # transitively
    (["app.py"], ["tests/test_app.py"]),
    (["lonely.py"], ["tests/test_lonely.py"]),  # named after it
    (["tests/helpers.py"], ["tests/test_other.py"]),
    (["tests/test_other.py"], ["tests/test_other.py"]),  # a changed test runs itself
    (["tests/conftest.py"], ["tests/sub/test_deep.py", "tests/test_app.py",
                             "tests/test_core.py", "tests/test_lonely.py",
                             "tests/test_other.py"]),
])
def test_the_tests_of_a_change_are_those_that_import_it(tmp_path: Path, changed: list[str],
                                                        tests: list[str]) -> None:
    root = write(tmp_path, SELECTION)
    files = {p for p in SELECTION if p.endswith(".py")}
    plan = WatchState(root).plan(changed, files, files, lambda rel: False)
    assert plan is not None and not plan.full
    assert list(plan.tests) == tests
    assert list(plan.changed) == changed
    assert set(changed) <= set(plan.compile)


def test_a_recheck_plan_for_deletions_configs_and_own_writes(tmp_path: Path) -> None:
    root = write(tmp_path, SELECTION)
    files = {p for p in SELECTION if p.endswith(".py")}
    state = WatchState(root)
    (root / "pkg" / "mid.py").unlink()
    plan = state.plan(["pkg/mid.py"], files, files - {"pkg/mid.py"}, lambda rel: False)
    assert plan is not None and plan.deleted == ("pkg/mid.py",)
    assert plan.tests == ("tests/test_app.py",)  # it imported the deleted module
    moved = state.plan(["pkg"], files, files - {"pkg/mid.py", "pkg/core.py"}, lambda r: False)
    assert moved is not None and moved.deleted == ("pkg/core.py", "pkg/mid.py")
    assert state.plan(["notes.md"], files, files, lambda rel: False) is None
    assert state.plan(["app.py"], files, files, lambda rel: rel == "app.py") is None
    full = state.plan([".gitignore"], files, files, lambda rel: False)
    assert full is not None and full.full


IMPORTS = {
    "src/app/__init__.py": "from .core import X\n", "src/app/core.py": "X = 1\n",
    "src/app/sub/__init__.py": "from .. import core\n",
    "src/app/sub/deep.py": "from . import *\nfrom ..core import X\n",
    "src/app/sub/leaf.py": "import app.sub.deep as d\n",
    "lib.py": "import types\nfrom app import sub\n", "types.py": "",
    "pkg2/__init__.py": "", "pkg2/other.py": "",
    "pkg2/mod.py": "from pkg2 import (\n    other,\n)\n",
    "tests/test_a.py": "from app.sub import leaf\n",
    "tests/test_b.py": "def f():\n    import lib  # lazily\n",
}


def test_the_import_index_finds_exactly_the_importers(tmp_path: Path) -> None:
    """Its cheap pre-filter never loses an importer the full parse would find."""
    from dreamscape_tui.core.imports import imported_project_files
    from dreamscape_tui.core.recheck import ImportIndex

    root = write(tmp_path, IMPORTS)
    files = set(IMPORTS)
    index = ImportIndex(root)
    index.refresh(files)
    for target in sorted(files):
        expected = {f for f in files if target in imported_project_files(root, f, files)}
        assert set(index.importers(target)) == expected, target
    assert set(index.importers("src/app/sub/deep.py")) == {"src/app/sub/leaf.py"}


# -- the engine ------------------------------------------------------------------------------
def heal_answers(api: FakeOpenAI) -> None:
    """The sample's scripted model, plus a fix for a broken util.py."""
    def answer(prompt: str) -> Scripted:
        if target_of(prompt) == "util.py":
            return Scripted.answer(f"Restore the colon:\n\n```python\n{UTIL}```\n")
        return Scripted.answer(scripted_answer(prompt))

    api.fallback = answer


@pytest.fixture
def api() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        heal_answers(server)
        yield server


class Watched:
    """An engine after its first pass, watching in a thread; records what it does."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.events: list[Event] = []
        self.engine = AutomationEngine(root, load_config(root, None), sink=self.events.append)
        config = self.engine.config
        self.watcher = ProjectWatcher(root, config.scanner, config.engine,
                                      stop=self.engine.cancel, sink=self.engine.sink)
        self.watcher.start()
        self.engine.run_all()
        self.batches: list[tuple[tuple[str, ...], Recheck | None]] = []
        recheck = self.engine.recheck

        def recorded(paths: tuple[str, ...], options: object = None) -> Recheck | None:
            result = recheck(paths)
            self.batches.append((paths, result))
            return result

        self.engine.recheck = recorded  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.engine.watch, args=(self.watcher,),
                                       daemon=True)
        self.thread.start()

    def items(self, path: str) -> list[Any]:
        return [e.item for e in self.events if isinstance(e, HealChanged) and e.path == path]

    def close(self) -> None:
        self.engine.cancel.set()
        self.thread.join(5)
        self.engine.close()


@pytest.fixture
def watched(tmp_path: Path, api: FakeOpenAI) -> Iterator[Watched]:
    root = sample_project(tmp_path, api_config(api, WATCH_CONFIG))
    engine = Watched(root)
    yield engine
    engine.close()
    assert not engine.thread.is_alive()


def test_a_saved_syntax_error_is_queued_and_healed(watched: Watched, api: FakeOpenAI) -> None:
    root = watched.root
    saved = time.monotonic()
    (root / "util.py").write_text(BROKEN_UTIL)
    wait_for(lambda: any(i.state is HealState.HEALED for i in watched.items("util.py")), 60,
             "util.py to be healed")
    assert time.monotonic() - saved < 45
    assert (root / "util.py").read_text() == UTIL
    states = [i.state for i in watched.items("util.py")]
    assert states[0] is HealState.QUEUED and states[-1] is HealState.HEALED
    assert watched.items("util.py")[0].kind == "syntax"
    logs = [e.text for e in watched.events if isinstance(e, EngineLog)]
    assert "changed: util.py; rechecking with 1 test module" in logs
    paths, result = wait_for(lambda: next(((b, r) for b, r in watched.batches
                                           if r is not None), None), 15, "the recheck")
    assert "util.py" in paths
    assert result.plan.tests == ("tests/test_util.py",)  # only the tests that import it
    # the fix's own write comes back as a batch, and is no change: no recheck, no loop
    requests = len(api.requests)
    done = watched.batches.index((paths, result))
    wait_for(lambda: any("util.py" in b and r is None for b, r in watched.batches[done + 1:]),
             15, "the heal's own write to be seen and dropped")
    time.sleep(watched.watcher.debounce_s + 1)
    assert sum(r is not None for _b, r in watched.batches) == 1
    assert len(api.requests) == requests


def test_a_newly_failing_test_is_healed(watched: Watched) -> None:
    root = watched.root
    healed_before = len(watched.items("shop/cart.py"))
    (root / "shop" / "cart.py").write_text(SAMPLE_FILES["shop/cart.py"])  # the bug is back
    wait_for(lambda: any(i.state is HealState.HEALED
                         for i in watched.items("shop/cart.py")[healed_before:]), 60,
             "shop/cart.py to be healed again")
    item = watched.items("shop/cart.py")[-1]
    assert item.kind == "test" and "tests/test_cart.py::test_empty" in item.failure.tests
    assert (root / "shop" / "cart.py").read_text() == FIXED_CART


def test_a_failure_fixed_by_hand_is_dropped_before_any_model_sees_it(
        watched: Watched, api: FakeOpenAI) -> None:
    root = watched.root
    watched.engine.pause()  # so the item waits in the queue
    requests = len(api.requests)
    (root / "util.py").write_text(BROKEN_UTIL)
    queued = wait_for(lambda: watched.items("util.py"), 30, "util.py to be queued")[0]
    assert queued.state is HealState.QUEUED
    (root / "util.py").write_text(UTIL)  # the person fixed it first
    wait_for(lambda: watched.items("util.py")[-1].state is HealState.REJECTED, 30,
             "the item to be dropped")
    assert watched.items("util.py")[-1].reason == GONE
    assert watched.engine.heals.get(queued.id).state is HealState.REJECTED  # type: ignore[union-attr]
    assert len(api.requests) == requests
    assert (root / "util.py").read_text() == UTIL


# -- heal --headless --watch --------------------------------------------------------------
def test_heal_headless_watch_heals_saves_until_sigterm(tmp_path: Path, api: FakeOpenAI) -> None:
    root = sample_project(tmp_path, api_config(api, WATCH_CONFIG))
    exe = Path(sys.executable).with_name("dreamscape")
    proc = subprocess.Popen([str(exe), "heal", "--headless", "--watch", "--json", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or ()],
                     daemon=True).start()
    try:
        first = json.loads(lines.get(timeout=120))  # the first pass's summary
        assert {h["path"] for h in first["healed"]} == {"shop/cart.py", "calc.py", "greet.py"}
        assert ProjectLock.held_by(root) is not None  # a long-running healer holds it
        (root / "util.py").write_text(BROKEN_UTIL)
        rechecked = json.loads(lines.get(timeout=60))
        assert rechecked["watch"]["changed"] == ["util.py"]
        assert [h["path"] for h in rechecked["healed"]] == ["util.py"]
        assert (root / "util.py").read_text() == UTIL
        stopped = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 128 + signal.SIGTERM
        assert time.monotonic() - stopped < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert ProjectLock.held_by(root) is None
    assert lines.empty()  # no pass after the fix: its own write did not trigger one


# -- the TUI ---------------------------------------------------------------------------------
async def test_the_tui_watches_and_queues_a_saved_failure(tmp_path: Path,
                                                          api: FakeOpenAI) -> None:
    from tests.test_tui_support import make_app, sample_root, wait_until
    from widgets.heal_queue import HealQueue
    from widgets.status_bar import StatusBar

    root = sample_root(tmp_path)
    write(root, {".dreamscape/config.toml": api_config(api, WATCH_CONFIG)})
    app = make_app(root, autostart=True)
    async with app.run_test(size=(120, 36)) as pilot:
        bar = app.dashboard.query_one(StatusBar)
        watching = bar.query_one("#watching")
        await wait_until(pilot, lambda: app.phase == "idle" and watching.display, 120,
                         "the first pass, then watching")
        assert str(watching.render()) == "watching"
        assert str(bar.query_one("#phase").render()) == "Done: 3 healed"
        (root / "util.py").write_text(BROKEN_UTIL)
        queue_widget = app.dashboard.query_one(HealQueue)
        await wait_until(pilot, lambda: any(i.path == "util.py"
                                            for i in queue_widget.items.values()), 30,
                         "util.py in the heal queue")
        await wait_until(pilot, lambda: app.phase == "idle" and any(
            i.path == "util.py" and i.state == "healed" for i in queue_widget.items.values()),
            60, "util.py healed")
        assert (root / "util.py").read_text() == UTIL
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, 30, "the app to exit")
    assert app.return_code == 0
    thread = app.watching.thread
    assert thread is not None
    thread.join(2)
    assert not thread.is_alive()


async def test_no_watcher_without_autostart_or_when_read_only(tmp_path: Path) -> None:
    from tests.test_tui_support import make_app, sample_root, settle

    root = sample_root(tmp_path)
    for app in (make_app(root), make_app(root, autostart=True, read_only="a test")):
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app.watching.thread is None
            await pilot.press("q")
