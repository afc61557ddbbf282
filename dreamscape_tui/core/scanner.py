"""ProjectScanner: walk a project, analyse each file with radon once, rank by risk.

Design, for speed and for a live UI:

* the walk (``walk.py``) stats every candidate; a file whose size and mtime match the
  cache is a hit without being read. Otherwise a worker reads it, hashes it, and if the
  hash matches the cache it is still a hit (a ``touch`` costs no analysis);
* misses are analysed in a process pool (forkserver: safe to start from a threaded
  app) in small batches, and results stream out as they finish, cache hits first;
* the cache lives in the store, keyed by path, size, mtime and content hash, tagged with
  ``CACHE_VERSION`` so a change to the metrics invalidates it; it is rewritten only when
  something changed, and a deleted file leaves it.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dreamscape_tui.core.config import ScannerConfig
from dreamscape_tui.core.events import (
    Event,
    FileResult,
    FileScanned,
    ScanFinished,
    ScanStarted,
    SkippedFile,
)
from dreamscape_tui.core.ignore import RuleSet
from dreamscape_tui.core.metrics import AnalysisError, FileMetrics, analyze_bytes
from dreamscape_tui.core.store import Store
from dreamscape_tui.core.walk import Candidate, Rejected, walk

CACHE_TABLE = "scan_cache"
CACHE_VERSION = 1
BATCH_SIZE = 8
# (relative path, status "ok" | "skip" | "same", size, mtime_ns, hash, payload)
WorkerResult = tuple[str, str, int, int, str, Any]


PRELOAD = ["dreamscape_tui.core.metrics"]


def _process_context() -> multiprocessing.context.ForkServerContext:
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
    from multiprocessing import forkserver

    _process_context()
    forkserver.ensure_running()


def risk_score(metrics: FileMetrics) -> float:
    """A 0..1 risk score: how likely the file is to break and how hard it is to fix.

    Half of it is the worst function's cyclomatic complexity (cc 30 or more scores
    full), 35 % the maintainability index read as a defect (MI 0 scores full, MI 100
    nothing), 15 % size (logical lines on a log scale, 1,000 scoring full). Files are
    ranked by it, riskiest first; ties break by path.
    """
    complexity = min(metrics.cc_max / 30.0, 1.0)
    maintainability = min(max((100.0 - metrics.mi) / 100.0, 0.0), 1.0)
    size = min(math.log10(1 + metrics.lloc) / 3.0, 1.0)
    return round(0.5 * complexity + 0.35 * maintainability + 0.15 * size, 4)


def _analyze_batch(jobs: list[tuple[str, str, str]]) -> list[WorkerResult]:
    """Worker entry point: read, hash and (unless unchanged) analyse each file."""
    return [_analyze_one(rel, path, known_hash) for rel, path, known_hash in jobs]


def _analyze_one(rel: str, path: str, known_hash: str) -> WorkerResult:
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            data = fh.read()
    except OSError as exc:
        return (rel, "skip", 0, 0, "", f"unreadable: {exc.strerror or exc}")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    if digest == known_hash:
        return (rel, "same", st.st_size, st.st_mtime_ns, digest, None)
    try:
        payload: Any = analyze_bytes(data).to_dict()
        status = "ok"
    except AnalysisError as exc:
        payload, status = str(exc), "skip"
    return (rel, status, st.st_size, st.st_mtime_ns, digest, payload)


@dataclass
class ScanReport:
    """Everything one scan found, ranked riskiest first."""

    root: Path
    files: list[FileResult] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    stats: ScanFinished | None = None

    def add(self, event: Event) -> None:
        """Fold one streamed event in; the lists are ranked once the scan finishes."""
        if isinstance(event, FileScanned):
            if isinstance(event.result, FileResult):
                self.files.append(event.result)
            else:
                self.skipped.append(event.result)
        elif isinstance(event, ScanFinished):
            self.stats = event
            self.files = rank(self.files)
            self.skipped.sort(key=lambda s: s.path)

    def to_json(self) -> dict[str, Any]:
        """The ``scan --json`` object of DESIGN §4."""
        stats = self.stats
        return {
            "root": str(self.root),
            "files": [
                {"path": f.path, **f.metrics.to_dict(), "score": f.score} for f in self.files
            ],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "stats": {
                "files": stats.files if stats else 0,
                "analyzed": stats.analyzed if stats else 0,
                "cached": stats.cached if stats else 0,
                "skipped": stats.skipped if stats else 0,
                "seconds": round(stats.seconds, 3) if stats else 0.0,
            },
        }


def rank(files: list[FileResult]) -> list[FileResult]:
    """Riskiest first; ties by path so the order is stable."""
    return sorted(files, key=lambda f: (-f.score, f.path))


class ProjectScanner:
    """Scan one project root; ``stream()`` yields events, ``scan()`` returns a report."""

    def __init__(
        self,
        root: Path,
        config: ScannerConfig,
        store: Store | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> None:
        self.root = root.resolve()
        self.config = config
        self.store = store if config.cache else None
        self.cancel = cancel or threading.Event()
        self.rules = RuleSet(self.root, config.ignore, no_ignore=config.no_ignore)

    def scan(self) -> ScanReport:
        report = ScanReport(self.root)
        for event in self.stream():
            report.add(event)
        return report

    def stream(self) -> Iterator[Event]:
        """Walk, emit cache hits, analyse the rest in parallel, update the cache."""
        started = time.perf_counter()
        cache = self._load_cache()
        entries = list(walk(self.root, self.rules, self.config.max_file_bytes))
        hits: list[Candidate] = []
        misses: list[Candidate] = []
        rejected = [e for e in entries if isinstance(e, Rejected)]
        for entry in entries:
            if isinstance(entry, Candidate):
                doc = cache.get(entry.rel)
                fresh = doc and doc["size"] == entry.size and doc["mtime_ns"] == entry.mtime_ns
                (hits if fresh else misses).append(entry)
        total = len(entries)
        yield ScanStarted(str(self.root), total, len(hits))
        counts = {"done": 0, "analyzed": 0, "cached": 0, "skipped": 0}
        changed = False

        def emit(result: FileResult | SkippedFile) -> FileScanned:
            counts["done"] += 1
            if isinstance(result, SkippedFile):
                counts["skipped"] += 1
            else:
                counts["analyzed"] += 1
                counts["cached"] += result.cached
            return FileScanned(result, counts["done"], total)

        for hit in hits:
            yield emit(_from_cache(hit.rel, cache[hit.rel]))
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
            yield emit(_from_cache(rel, doc, cached=status == "same"))
        seen = {e.rel for e in entries}
        for gone in [p for p in cache if p not in seen and not (self.root / p).exists()]:
            del cache[gone]
            changed = True
        if changed and not self.cancel.is_set():
            self._save_cache(cache)
        yield ScanFinished(
            files=total,
            analyzed=counts["analyzed"],
            cached=counts["cached"],
            skipped=counts["skipped"],
            seconds=time.perf_counter() - started,
            cancelled=self.cancel.is_set(),
        )

    def _analyze(self, misses: list[Candidate], cache: dict[str, Any]) -> Iterator[WorkerResult]:
        jobs = [(c.rel, c.abspath, cache.get(c.rel, {}).get("hash", "")) for c in misses]
        workers = self.config.jobs or os.cpu_count() or 1
        if workers == 1 or len(jobs) <= BATCH_SIZE:
            for job in jobs:
                if self.cancel.is_set():
                    return
                yield _analyze_one(*job)
            return
        batches = [jobs[i : i + BATCH_SIZE] for i in range(0, len(jobs), BATCH_SIZE)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=_process_context()) as pool:
            futures: dict[Future[list[WorkerResult]], list[tuple[str, str, str]]] = {
                pool.submit(_analyze_batch, batch): batch for batch in batches
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

    def _load_cache(self) -> dict[str, Any]:
        if self.store is None:
            return {}
        with self.store.tables() as db:
            docs = db.table(CACHE_TABLE).all()
        return {d["path"]: dict(d) for d in docs if d.get("version") == CACHE_VERSION}

    def _save_cache(self, cache: dict[str, Any]) -> None:
        if self.store is None:
            return
        with self.store.tables() as db:
            table = db.table(CACHE_TABLE)
            table.truncate()
            table.insert_multiple(cache[path] for path in sorted(cache))


def _from_cache(rel: str, doc: dict[str, Any], cached: bool = True) -> FileResult | SkippedFile:
    if doc.get("metrics") is None:
        return SkippedFile(rel, str(doc.get("skip") or "unknown"))
    metrics = FileMetrics.from_dict(doc["metrics"])
    return FileResult(rel, metrics, risk_score(metrics), cached)
