"""Micro-benchmark: ``analyze_bytes`` against radon's own per-file calls, one process.

The naive way to get every metric of a file from radon is four calls: ``analyze``
(raw), ``cc_visit``, ``mi_visit`` and ``h_visit``. Between them they parse the file
three times and run radon's slow raw analysis twice. ``analyze_bytes`` parses once and
counts lines in one linear pass, so it should be several times faster for the same
numbers (``--verify`` checks they are the same).

    python bench/metrics_micro.py [DIR] [--repeat N] [--verify]

DIR defaults to Django 5.2.19's ``django/`` package unpacked in /tmp. Files are read
before timing; both sides decode the bytes themselves. Best of N rounds, interleaved so
that a busy machine slows both sides alike; CPU time is shown next to wall time because
it is much less disturbed by other processes.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import time
import tokenize
from collections.abc import Callable
from pathlib import Path
from typing import Any

from radon.complexity import cc_visit
from radon.metrics import h_visit, mi_visit
from radon.raw import analyze

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dreamscape_tui.core import rawmetrics
from dreamscape_tui.core.metrics import AnalysisError, analyze_bytes, analyze_source

DEFAULT_DIR = Path("/tmp/django-5.2.19/django")


def decode(data: bytes) -> str:
    """Decode like Python does for source files."""
    return data.decode(tokenize.detect_encoding(io.BytesIO(data).readline)[0])


def radon_naive(data: bytes) -> Any:
    """Every metric the way a radon user would get it: four calls, each from source."""
    source = decode(data)
    return analyze(source), cc_visit(source), mi_visit(source, True), h_visit(source)


def run_all(func: Callable[[bytes], Any], files: list[bytes]) -> tuple[float, float, int]:
    """Wall and CPU seconds to call ``func`` on every file, and how many calls raised."""
    errors = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for data in files:
        try:
            func(data)
        except (AnalysisError, SyntaxError, ValueError, RecursionError, MemoryError):
            errors += 1
    return time.perf_counter() - wall, time.process_time() - cpu, errors


def breakdown(files: list[bytes]) -> dict[str, float]:
    """Where ``analyze_bytes`` spends its time: parse, radon's visitors, raw metrics."""
    from radon.visitors import ComplexityVisitor, HalsteadVisitor

    sources = [decode(d) for d in files]
    start = time.perf_counter()
    trees = [ast.parse(s) for s in sources]
    parsed = time.perf_counter()
    for tree in trees:
        ComplexityVisitor.from_ast(tree)
        HalsteadVisitor.from_ast(tree)
    visited = time.perf_counter()
    for source in sources:
        rawmetrics.raw_metrics(source)
    counted = time.perf_counter()
    return {"ast.parse": parsed - start, "cc + halstead visitors": visited - parsed,
            "raw metrics": counted - visited}


def verify(files: list[tuple[Path, bytes]]) -> int:
    """Number of files whose ``analyze_bytes`` result differs from radon's."""
    mismatches = 0
    for path, data in files:
        source = decode(data)
        try:
            ours = analyze_source(source)
        except AnalysisError:
            continue
        raw = tuple(analyze(source))
        blocks = [(b.fullname, b.lineno, b.complexity) for b in cc_visit(source)]
        got = (tuple(ours.to_dict()[k] for k in rawmetrics.RawMetrics._fields),
               [(f.name, f.lineno, f.cc) for f in ours.functions], ours.mi,
               ours.halstead_volume)
        expected = (raw, blocks, mi_visit(source, True), h_visit(source).total.volume)
        if got != expected:
            mismatches += 1
            print(f"  MISMATCH {path}")
    return mismatches


def best(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """The fastest wall time and the fastest CPU time over several rounds."""
    return min(r[0] for r in runs), min(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; best is kept")
    parser.add_argument("--verify", action="store_true", help="also compare every value")
    args = parser.parse_args()
    paths = sorted(args.directory.rglob("*.py"))
    if not paths:
        raise SystemExit(f"no .py files under {args.directory}")
    files = [p.read_bytes() for p in paths]
    lines = sum(d.count(b"\n") for d in files)
    print(f"{len(files)} files, {lines:,} lines under {args.directory}")

    naive: list[tuple[float, float]] = []
    ours: list[tuple[float, float]] = []
    for _ in range(args.repeat):
        wall, cpu, radon_errors = run_all(radon_naive, files)
        naive.append((wall, cpu))
        for key in rawmetrics.scan_stats:
            rawmetrics.scan_stats[key] = 0
        wall, cpu, our_errors = run_all(analyze_bytes, files)
        ours.append((wall, cpu))
    (naive_wall, naive_cpu), (ours_wall, ours_cpu) = best(naive), best(ours)
    stats = rawmetrics.scan_stats
    print(f"best of {args.repeat}:                                   wall         cpu")
    print(f"radon, naive (analyze + cc_visit + mi_visit + h_visit): {naive_wall:8.3f} s "
          f"{naive_cpu:8.3f} s  ({radon_errors} files raised)")
    print(f"analyze_bytes:                                          {ours_wall:8.3f} s "
          f"{ours_cpu:8.3f} s  ({our_errors} files raised AnalysisError)")
    print(f"speed-up:                                               {naive_wall / ours_wall:8.2f}x "
          f"{naive_cpu / ours_cpu:8.2f}x")
    print(f"raw-metric fallbacks: {stats['file_fallbacks']} of {stats['files']} files to the"
          f" tokenize path, {stats['group_fallbacks']} ';' statements to radon's tokenizer")
    parts = breakdown(files)
    print("analyze_bytes breakdown: " + ", ".join(f"{k} {v:.3f} s" for k, v in parts.items()))
    if args.verify:
        print(f"values differing from radon: {verify(list(zip(paths, files, strict=True)))}")


if __name__ == "__main__":
    main()
