"""ProjectScanner: walk a project, analyse each file with radon once, rank by risk.

Design, for speed and for a live UI:

* the walk (``walk.py``) stats every candidate, and lists only the directories that
  changed since the last scan (``walk.DirCache``); a file whose size and mtime match the
  cache is a hit without being read. A cached file whose stat changed is read and
  hashed here; if the hash matches it is still a hit (a ``touch`` costs no analysis);
* only files that really changed are analysed: a few in this process, more in a
  process pool in batches, largest files first; results stream out as they finish,
  cache hits first. The pool is forked from a single-threaded process (the CLI: the
  workers start at once) and else started from a forkserver (safe from a threaded
  app). It (and ``multiprocessing`` itself) is started only when there is analysis to
  do, so a rescan of an unchanged project starts no process and imports neither radon
  nor ``multiprocessing``;
* the cache is the store (``Store.for_project``: ``.dreamscape/scan.json``), keyed by
  path, size, mtime and content hash, tagged with ``CACHE_VERSION`` so a change to the
  metrics invalidates it. It is read once, when the scan starts, and written once, when
  it ends, only if something changed (a deleted file leaves it). A cancelled scan still
  writes what it finished (files it did not reach keep their old entries, which no
  longer match, so the next scan redoes them). A read-only store (a process beside the
  one holding the project lock) is read and never written, unless ``claim_store`` lets
  it write.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dreamscape_tui.core.churn import NO_CHURN, ChurnPass
from dreamscape_tui.core.config import ScannerConfig
from dreamscape_tui.core.events import (
    EngineLog,
    Event,
    FileResult,
    FileScanned,
    ScanFinished,
    ScanStarted,
    SkippedFile,
)
from dreamscape_tui.core.ignore import RuleSet
from dreamscape_tui.core.metrics import (
    ANALYSIS_MODULES,
    FileMetrics,
    FileOutcome,
    analyze_data,
    analyze_file,
    analyze_files,
    content_hash,
    read_file,
)

# risk_score and ScanReport live in risk.py and scanreport.py; importable from here too
from dreamscape_tui.core.risk import risk_score as risk_score
from dreamscape_tui.core.risk import with_history
from dreamscape_tui.core.scanreport import ScanReport as ScanReport
from dreamscape_tui.core.store import Store, StoreError
from dreamscape_tui.core.walk import Candidate, DirCache, Rejected, walk

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.context import BaseContext

CACHE_TABLE = "scan_cache"
DIRS_TABLE = "scan_dirs"  # one document: the directory listings (walk.DirCache)
CACHE_VERSION = 2  # 2: metrics as FileMetrics.to_row() lists
BATCH_SIZE = 8  # files per worker task (fewer when they are large, see BATCH_BYTES)
BATCH_BYTES = 64_000
# Up to this many bytes to analyse, one process does it: starting a pool costs more.
SERIAL_MAX_BYTES = 150_000
# (relative path, status "ok" | "skip" | "same", size, mtime_ns, hash, payload)
WorkerResult = FileOutcome
Job = tuple[str, str, str]  # (relative path, absolute path, known hash)

PRELOAD = [*ANALYSIS_MODULES, "concurrent.futures.process"]
# None: "fork" in a single-threaded process on Linux (the CLI: workers start at once,
# with everything imported), else "forkserver" (a threaded app must not fork itself).
START_METHOD: str | None = None


def _process_context() -> BaseContext:
    import multiprocessing

    method = START_METHOD
    if method is None:
        single = threading.active_count() == 1
        method = "fork" if single and sys.platform == "linux" else "forkserver"
    if method == "fork":
        for module in PRELOAD:  # imported once here rather than in every worker
            importlib.import_module(module)
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_analysis_processes() -> None:
    """Start the forkserver (and resource tracker) now rather than on the first scan.

    Both hand ``sys.stderr``'s file descriptor to the process they spawn. Inside a
    Textual app ``sys.stderr`` is a capture object whose ``fileno()`` is -1, so a pool
    started lazily from a worker would fail ("bad value(s) in fds_to_keep"). Call this
    before such a UI takes over; the workers still start warm with the preload.
    """
    import multiprocessing
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


class ProjectScanner:
    """Scan one project root; ``stream()`` yields events, ``scan()`` returns a report.

    ``pools_started`` counts the process pools this scanner started: none when no file
    needed analysis (or when the analysis was small enough to run in this process).
    With a store, the walk reuses the saved listing of every directory that did not
    change (``walk.DirCache``, kept in the ``scan_dirs`` table).
    With a read-only store, ``claim_store`` is called once, only when the cache changed,
    just before it would be written: it returns True if it made the store writable
    (``dreamscape scan`` takes the project lock there, so it holds it only to write).
    """

    def __init__(
        self,
        root: Path,
        config: ScannerConfig,
        store: Store | None = None,
        *,
        cancel: threading.Event | None = None,
        claim_store: Callable[[], bool] | None = None,
        failure_history: Mapping[str, int] | None = None,
    ) -> None:
        self.root = root.resolve()
        self.config = config
        self.store = store if config.cache else None
        self.cancel = cancel or threading.Event()
        self.claim_store = claim_store
        self.failure_history = failure_history or {}  # path -> heal items it had
        self.churn: ChurnPass | None = None  # the last scan's churn pass
        self.rules = RuleSet(self.root, config.ignore, no_ignore=config.no_ignore)
        self.pools_started = 0
        self.dirs_listed = 0  # directories the last walk listed (unchanged ones are not)

    def scan(self) -> ScanReport:
        report = ScanReport(self.root)
        for event in self.stream():
            report.add(event)
        return report

    def stream(self) -> Iterator[Event]:
        """Walk, emit cache hits, analyse the rest, update the cache once at the end."""
        started = time.perf_counter()
        churn = self.churn = ChurnPass(self.root, self.config.churn_days, self.store)
        cache, dirs = self._load_cache()
        entries = list(walk(self.root, self.rules, self.config.max_file_bytes, dirs))
        self.dirs_listed = dirs.listed if dirs is not None else 0
        hits: list[FileResult | SkippedFile] = []
        misses: list[Candidate] = []
        rejected: list[Rejected] = []
        changed = False
        for entry in entries:
            if isinstance(entry, Rejected):
                rejected.append(entry)
                continue
            doc = cache.get(entry.rel)
            if doc is not None:
                result = _from_cache(entry.rel, doc)
                if result is None:  # a malformed entry: forget it, analyse the file
                    del cache[entry.rel]
                    changed = True
                elif doc["size"] == entry.size and doc["mtime_ns"] == entry.mtime_ns:
                    hits.append(result)
                    continue
            misses.append(entry)
        total = len(entries)
        paths = [e.rel for e in entries]
        yield ScanStarted(str(self.root), total, len(hits))
        counts = {"done": 0, "analyzed": 0, "cached": 0, "skipped": 0}

        def emit(result: FileResult | SkippedFile) -> FileScanned:
            counts["done"] += 1
            if isinstance(result, SkippedFile):
                counts["skipped"] += 1
            else:
                counts["analyzed"] += 1
                counts["cached"] += result.cached
                # the first result waits for git (it ran during the walk and, in a cold
                # scan, beside the first batch's analysis); later ones reuse its table
                table = churn.finish(paths, self.cancel)
                if table is not NO_CHURN or self.failure_history:
                    result = with_history(result, table, self.failure_history)
            return FileScanned(result, counts["done"], total)

        for hit in hits:
            yield emit(hit)
        for rej in rejected:
            yield emit(SkippedFile(rej.rel, rej.reason))
        for res in self._analyze(misses, cache):
            rel, status, size, mtime_ns, digest, payload = res
            if status == "same":
                doc = {**cache[rel], "size": size, "mtime_ns": mtime_ns}
            else:
                doc = {"path": rel, "size": size, "mtime_ns": mtime_ns, "hash": digest,
                       "metrics": payload if status == "ok" else None,
                       "skip": payload if status == "skip" else None,
                       "version": CACHE_VERSION}
            if digest:  # an unreadable file is not cached
                cache[rel] = doc
                changed = True
            result = _from_cache(rel, doc, cached=status == "same")
            yield emit(result or SkippedFile(rel, "analysis returned malformed metrics"))
        seen = {e.rel for e in entries}
        for gone in [p for p in cache if p not in seen and not (self.root / p).exists()]:
            del cache[gone]
            changed = True
        churn.finish(paths, self.cancel)  # when no file was sent: reap git all the same
        for warning in churn.warnings:
            yield EngineLog(warning, "warning")
        if changed or (dirs is not None and dirs.changed) or churn.changed:
            self._save_cache(cache, dirs)
        yield ScanFinished(
            files=total,
            analyzed=counts["analyzed"],
            cached=counts["cached"],
            skipped=counts["skipped"],
            seconds=time.perf_counter() - started,
            cancelled=self.cancel.is_set(),
        )

    def _analyze(self, misses: list[Candidate], cache: dict[str, Any]) -> Iterator[WorkerResult]:
        """Outcomes for the files the stat check could not vouch for.

        A file the cache knows is read and hashed here first: if only its stat changed
        it is "same", and no worker is needed for it. What is left is analysed here when
        it is small (or ``jobs`` is 1), else in a process pool.
        """
        todo: list[tuple[Candidate, bytes | None, str]] = []  # (file, data read, hash)
        for c in misses:
            if self.cancel.is_set():
                return
            known = cache[c.rel].get("hash", "") if c.rel in cache else ""
            if not known:
                todo.append((c, None, ""))
                continue
            try:
                data, size, mtime_ns = read_file(c.abspath)
            except OSError as exc:
                yield (c.rel, "skip", 0, 0, "", f"unreadable: {exc.strerror or exc}")
                continue
            digest = content_hash(data)
            if digest == known:
                yield (c.rel, "same", size, mtime_ns, digest, None)
            else:
                todo.append((Candidate(c.rel, c.abspath, size, mtime_ns), data, digest))
        workers = self.config.jobs or os.cpu_count() or 1
        if workers == 1 or sum(c.size for c, _d, _h in todo) <= SERIAL_MAX_BYTES:
            for c, read, digest in todo:
                if self.cancel.is_set():
                    return
                if read is None:
                    yield analyze_file(c.rel, c.abspath)
                else:
                    yield analyze_data(c.rel, read, c.size, c.mtime_ns, digest)
            return
        yield from self._analyze_in_pool([c for c, _d, _h in todo], workers)

    def _analyze_in_pool(self, files: list[Candidate], workers: int) -> Iterator[WorkerResult]:
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        batches = _batches(files)
        with self._start_pool(min(workers, len(batches))) as pool:
            futures: dict[Future[list[WorkerResult]], list[Job]] = {
                pool.submit(analyze_files, batch): batch for batch in batches
            }
            try:
                for future in as_completed(futures):
                    if self.cancel.is_set():
                        break
                    try:
                        yield from future.result()
                    except BrokenProcessPool:
                        for rel, _path, _hash in futures[future]:
                            yield (rel, "skip", 0, 0, "", "analyser process crashed")
            finally:
                for future in futures:
                    future.cancel()

    def _start_pool(self, workers: int) -> ProcessPoolExecutor:
        from concurrent.futures import ProcessPoolExecutor

        self.pools_started += 1
        return ProcessPoolExecutor(max_workers=workers, mp_context=_process_context())

    def _load_cache(self) -> tuple[dict[str, Any], DirCache | None]:
        """The file entries (by path) and the saved directory listings, read once."""
        if self.store is None:
            return {}, None
        with self.store.tables() as db:
            docs = db.table(CACHE_TABLE).all()
            dir_docs = db.table(DIRS_TABLE).all()
        cache = {d["path"]: dict(d) for d in docs if d.get("version") == CACHE_VERSION}
        saved = dir_docs[0].get("dirs") if len(dir_docs) == 1 else None
        if not isinstance(saved, dict) or dir_docs[0].get("version") != CACHE_VERSION:
            saved = {}
        return cache, DirCache({rel: v for rel, v in saved.items() if _listing_ok(v)})

    def _save_cache(self, cache: dict[str, Any], dirs: DirCache | None) -> None:
        """Replace the cache tables and write the file, once (never on a read-only store)."""
        if self.store is None:
            return
        if self.store.read_only and not (self.claim_store and self.claim_store()):
            return
        try:
            with self.store.tables() as db:
                table = db.table(CACHE_TABLE)
                table.truncate()
                table.insert_multiple(cache[path] for path in sorted(cache))
                dir_table = db.table(DIRS_TABLE)
                dir_table.truncate()
                if dirs is not None:
                    dir_table.insert({"version": CACHE_VERSION, "dirs": dirs.kept})
            self.store.flush()
        except StoreError:
            if not self.cancel.is_set():
                raise
            # cancelled, and the store was closed meanwhile (the app is quitting)


def _listing_ok(saved: Any) -> bool:
    """A saved directory listing has the shape ``walk.DirCache`` reads."""
    return (type(saved) is list and len(saved) == 4 and type(saved[3]) is list
            and all(type(e) is list and len(e) == 2 for e in saved[3]))


def _batches(files: list[Candidate]) -> list[list[Job]]:
    """Worker tasks, largest files first so that no worker is left with a long tail."""
    batches: list[list[Job]] = []
    batch: list[Job] = []
    size = 0
    for c in sorted(files, key=lambda c: -c.size):
        batch.append((c.rel, c.abspath, ""))
        size += c.size
        if len(batch) >= BATCH_SIZE or size >= BATCH_BYTES:
            batches.append(batch)
            batch, size = [], 0
    if batch:
        batches.append(batch)
    return batches


_ENTRY_KEYS = frozenset({"size", "mtime_ns", "hash", "metrics"})


def _from_cache(rel: str, doc: dict[str, Any],
                cached: bool = True) -> FileResult | SkippedFile | None:
    """A cache entry as a result; None when it is malformed (it is then re-analysed)."""
    if not doc.keys() >= _ENTRY_KEYS:
        return None
    row = doc["metrics"]
    if row is None:
        return SkippedFile(rel, str(doc.get("skip") or "unknown"))
    try:
        metrics = FileMetrics.from_row(row)
    except (TypeError, ValueError):
        return None
    return FileResult(rel, metrics, risk_score(metrics), cached)
