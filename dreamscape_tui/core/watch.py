"""Watch a project for saved files: debounced batches of root-relative paths.

``ProjectWatcher`` runs a source in a daemon thread and hands out *batches*: every path
that changed until the project was quiet for ``[engine] watch_debounce_s``, so a save is
one batch and a ``git checkout`` of 500 files is one batch too (a batch is also cut after
``MAX_BATCH_S`` of uninterrupted changes, so a tool that never stops writing cannot
starve the engine). Two sources:

* ``native``: file-system events through watchfiles (inotify, FSEvents, ...);
* ``poll``: our own stat polling over the scanner's walk (``walk.py``): it needs no
  library, stats only what the scanner would read, and works where events do not
  (network file systems, containers without inotify).

``[engine] watcher = "auto"`` takes native events when watchfiles imports and its watch
starts, and falls back to polling otherwise (watchfiles missing, the inotify watch limit
reached), saying why in an ``EngineLog``; a native source that fails later falls back
the same way. ``"native"`` raises ``WatchError`` instead; ``"poll"`` polls.

Only paths that can matter reach a batch (``PathFilter``): ``.py`` files the scanner's
ignore rules keep (the same ``RuleSet``, so ``.git``, ``.dreamscape``, virtualenvs,
``__pycache__`` and ignored directories produce nothing, not even a delay), ignore
files, the project's tool configs (``CONFIG_FILES`` at the root), directories (a package
moved in) and vanished paths (a package moved away: the engine knows which of its files
were under it). The watcher stops within ``TICK_S`` of its ``stop`` being set.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dreamscape_tui.core.config import EngineConfig, ScannerConfig
from dreamscape_tui.core.errors import UserError
from dreamscape_tui.core.events import EngineLog, EventSink
from dreamscape_tui.core.ignore import IGNORE_FILES, VENV_MARKER, RuleSet
from dreamscape_tui.core.interrupt import Interrupt
from dreamscape_tui.core.walk import Candidate, DirCache, walk

__all__ = ["CONFIG_FILES", "MAX_BATCH_S", "POLL_INTERVAL_S", "TICK_S", "PathFilter",
           "ProjectWatcher", "WatchError"]

CONFIG_FILES = frozenset({"pyproject.toml", "setup.cfg", "pytest.ini", "tox.ini"})
"""Root files whose change can change every check's result: a full recheck."""
TICK_S = 0.1  # how often every wait looks at ``stop``
POLL_INTERVAL_S = 0.5  # the poll source's period, at least
POLL_SHARE = 0.2  # ... and at most this share of a core: a slow walk polls less often
MAX_BATCH_S = 10.0  # a batch is cut after this long even if changes never stop
READY_TIMEOUT_S = 30.0  # how long a native watch may take to set up before we poll
NATIVE_TIMEOUT_MS = 200  # watchfiles' wait per call: its first return proves the watch


class WatchError(UserError):
    """``watcher = "native"`` and native file events are not available."""


class PathFilter:
    """Which changed paths matter, by the scanner's own rules (see the module docs)."""

    def __init__(self, root: Path, config: ScannerConfig) -> None:
        self.root = root
        self.config = config
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.rules = RuleSet(self.root, self.config.ignore, no_ignore=self.config.no_ignore)
        self._dirs: dict[str, bool] = {}  # rel dir -> ignored (itself or an ancestor)

    def relevant(self, rel: str) -> bool:
        """Whether a change of ``rel`` (root-relative, '/'-separated) can matter."""
        with self._lock:
            return self._relevant(rel)

    def _relevant(self, rel: str) -> bool:
        if not rel or rel.startswith("../"):
            return False
        parent, _, name = rel.rpartition("/")
        if parent and self._dir_ignored(parent):
            return False
        if name in IGNORE_FILES:
            self._reset()  # the rules changed: decide afresh from now on
            return True
        if name == VENV_MARKER:
            self._reset()  # its directory is a virtualenv now: ignored from here on
            return False
        if name.endswith(".py"):
            return not self.rules.ignored(rel, is_dir=False)
        if not parent and name in CONFIG_FILES:
            return True
        path = self.root / rel
        if path.is_dir():
            return not self._dir_ignored(rel)
        # a vanished path may have been a directory of sources (the engine knows);
        # hidden names are editors' and our own temp files (``atomicfile.py``)
        return not name.startswith(".") and not os.path.lexists(path)

    def _dir_ignored(self, rel: str) -> bool:
        known = self._dirs.get(rel)
        if known is None:
            parent = rel.rpartition("/")[0]
            known = (bool(parent) and self._dir_ignored(parent)) or \
                self.rules.ignored(rel, is_dir=True)
            self._dirs[rel] = known
        return known


class ProjectWatcher:
    """Debounced batches of changed paths under ``root`` until ``stop`` is set."""

    def __init__(self, root: Path, scanner: ScannerConfig, engine: EngineConfig, *,
                 stop: Interrupt, sink: EventSink | None = None,
                 poll_interval_s: float = POLL_INTERVAL_S) -> None:
        self.root = root.resolve()
        self.scanner = scanner
        self.mode = engine.watcher
        self.debounce_s = engine.watch_debounce_s
        self.stop = stop
        self.sink = sink or (lambda event: None)
        self.poll_interval_s = poll_interval_s
        self.interval_s = poll_interval_s  # pause + walk of the last poll (big trees: more)
        self.filter = PathFilter(self.root, scanner)
        self.backend = ""  # "native" or "poll" once started
        self._changes: queue.Queue[str | BaseException] = queue.Queue()
        self._thread: threading.Thread | None = None

    # -- life --------------------------------------------------------------------------
    def start(self) -> str:
        """Start watching (idempotent); returns the backend in use, "native" or "poll".

        Changes are collected from here on, so start before the first pass: a file
        saved while it runs is in the first batch.
        """
        if self._thread is not None:
            return self.backend
        if self.mode != "poll":
            problem = self._start_native()
            if problem is None:
                return self.backend
            if self.mode == "native":
                raise WatchError(f"[engine] watcher = \"native\": {problem}")
            self.sink(EngineLog(f"native file events unavailable ({problem}); "
                                "polling for changes instead", "warning"))
        self._start_poll()
        return self.backend

    def _start_native(self) -> str | None:
        """Start the watchfiles source; None when it runs, else why it cannot."""
        try:
            watchfiles = importlib.import_module("watchfiles")
        except ImportError as exc:
            return f"watchfiles is not installed: {exc}"
        ready = threading.Event()
        failed: list[BaseException] = []
        thread = threading.Thread(target=self._native, args=(watchfiles, ready, failed),
                                  name="watch-native", daemon=True)
        thread.start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready.is_set() and not failed and thread.is_alive() \
                and time.monotonic() < deadline and not self.stop.is_set():
            ready.wait(TICK_S)
        if failed:
            return _describe(failed[0])
        if not ready.is_set() and not thread.is_alive() and not self.stop.is_set():
            return "the watch ended at once"
        self._thread, self.backend = thread, "native"
        return None

    def _start_poll(self) -> None:
        ready = threading.Event()
        thread = threading.Thread(target=self._poll, args=(ready,), name="watch-poll",
                                  daemon=True)
        thread.start()
        ready.wait()  # the first snapshot is taken: later changes are seen
        self._thread, self.backend = thread, "poll"

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the source thread to end (after ``stop``); True
        once it has (or never started)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    # -- sources -----------------------------------------------------------------------
    def _native(self, watchfiles: Any, ready: threading.Event,
                failed: list[BaseException]) -> None:
        root = str(self.root)
        try:
            for changes in watchfiles.watch(
                    root, watch_filter=None, stop_event=self.stop, debounce=1_600, step=50,
                    rust_timeout=NATIVE_TIMEOUT_MS, yield_on_timeout=True,
                    raise_interrupt=False, force_polling=False, recursive=True,
                    ignore_permission_denied=True):
                ready.set()
                for _change, path in changes:
                    self._offer(os.path.relpath(path, root))
        except Exception as exc:  # the watch could not start, or broke later
            if not ready.is_set():
                failed.append(exc)
            else:
                self._changes.put(exc)
        finally:
            ready.set()

    def _poll(self, ready: threading.Event) -> None:
        try:
            seen, dirs = self._snapshot(DirCache())
        finally:
            ready.set()
        pause = self.poll_interval_s
        while not self._wait(pause):
            started = time.monotonic()
            now, dirs = self._snapshot(DirCache(saved=dirs.kept))
            took = time.monotonic() - started
            pause = max(self.poll_interval_s, took / POLL_SHARE - took)
            self.interval_s = pause + took
            for rel in sorted(seen.keys() ^ now.keys()):
                self._offer(rel)
            for rel in sorted(seen.keys() & now.keys()):
                if seen[rel] != now[rel]:
                    self._offer(rel)
            seen = now

    def _snapshot(self, dirs: DirCache) -> tuple[dict[str, tuple[int, ...]], DirCache]:
        """Stat of every file the scanner would read, its ignore files and the configs."""
        rules = RuleSet(self.root, self.scanner.ignore, no_ignore=self.scanner.no_ignore)
        stats: dict[str, tuple[int, ...]] = {}
        folders = {""}
        for entry in walk(self.root, rules, self.scanner.max_file_bytes, dirs):
            if isinstance(entry, Candidate):
                stats[entry.rel] = (entry.size, entry.mtime_ns)
                folders.add(entry.rel.rpartition("/")[0])
        folders |= set(dirs.kept)
        extra = [f"{d}/{n}" if d else n for d in folders for n in IGNORE_FILES]
        for rel in [*extra, *CONFIG_FILES]:
            with contextlib.suppress(OSError):
                st = os.stat(self.root / rel)
                stats[rel] = (st.st_size, st.st_mtime_ns, st.st_ino)
        return stats, dirs

    def _offer(self, rel: str) -> None:
        rel = rel.replace(os.sep, "/")
        if self.filter.relevant(rel):
            self._changes.put(rel)

    def _wait(self, seconds: float) -> bool:
        """Sleep in ticks; True as soon as ``stop`` is set."""
        until = time.monotonic() + seconds
        while not self.stop.is_set():
            left = until - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(TICK_S, left))
        return True

    # -- batches -----------------------------------------------------------------------
    def batches(self) -> Iterator[tuple[str, ...]]:
        """Each batch of changed paths, sorted, as soon as the project is quiet; ends
        when ``stop`` is set (within ``TICK_S``). Starts the watch if needed."""
        self.start()
        while not self.stop.is_set():
            batch = self.next_batch(TICK_S)
            if batch:
                yield batch

    def next_batch(self, timeout: float) -> tuple[str, ...] | None:
        """The next batch, or None if nothing changed within ``timeout`` (or stopping).

        Quiet means no change for the debounce; a poll source only sees a change at its
        next poll, so its quiet window includes one whole poll period (``interval_s``:
        the pause and the walk).
        """
        first = self._take(timeout)
        if first is None:
            return None
        quiet = self.debounce_s + (self.interval_s if self.backend == "poll" else 0.0)
        batch = {first}
        started = last = time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            left = quiet - (now - last)
            if left <= 0 or now - started >= MAX_BATCH_S:
                break
            rel = self._take(min(TICK_S, left))
            if rel is not None:
                batch.add(rel)
                last = time.monotonic()
        return None if self.stop.is_set() else tuple(sorted(batch))

    def _take(self, timeout: float) -> str | None:
        try:
            item = self._changes.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(item, BaseException):
            self._native_failed(item)
            return None
        return item

    def _native_failed(self, exc: BaseException) -> None:
        """The native source broke after it started: poll instead (or raise)."""
        if self.mode == "native":
            raise WatchError(f"native file events stopped: {_describe(exc)}")
        self.sink(EngineLog(f"native file events stopped ({_describe(exc)}); "
                            "polling for changes instead", "warning"))
        self._thread = None
        self._start_poll()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
