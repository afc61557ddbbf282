"""Benchmark: the dashboard's time to first paint and its key-to-frame latency.

* First paint: a generated 3,000-file project, the app built by ``create_app`` exactly
  as the CLI builds it (engine starting on its own), driven by ``App.run_test`` at
  120x36. Measured from just before ``create_app`` to the first frame the compositor
  hands to the driver (``App._display``); the scan then streams into the tree, and the
  time until the last result is in the tree is printed too. One cold run (no scan
  cache), then warm runs. With ``--pty``, also from process start (imports included)
  to the first frame written to a real pseudo-terminal by the installed ``dreamscape``.
* Key latency: 10,000 files in the tree; for each key press, from sending the key to the
  next frame. Navigation keys (arrows, pages, home/end), fold/unfold and the sort key.

Goal: first paint <= 0.5 s (the scan streams in after it), p95 key latency <= 50 ms.

    python bench/tui.py [--files 3000] [--tree 10000] [--presses 400] [--pty]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dreamscape_tui.app import DreamscapeApp, create_app  # noqa: E402
from dreamscape_tui.core.config import ChecksConfig, Config, load_config  # noqa: E402
from dreamscape_tui.core.events import (  # noqa: E402
    FileResult,
    FileScanned,
    ScanFinished,
    ScanStarted,
)
from dreamscape_tui.core.metrics import FileMetrics, FunctionMetric  # noqa: E402
from dreamscape_tui.core.scanner import risk_score  # noqa: E402
from widgets.file_tree import FileTree  # noqa: E402

SIZE = (120, 36)
MODULE = '''"""Generated module {n}."""


def handle_{n}(items, limit={limit}):
    total = 0
    for item in items:
{branches}
    return total


class Thing{n}:
    def value(self, x):
        return x * {n} if x else -{n}
'''


def generate_project(root: Path, files: int) -> Path:
    """``files`` modules in nested packages, with varied complexity."""
    rng = random.Random(files)
    for n in range(files):
        package = root / f"pkg{n % 30:02d}" / f"sub{n // 30 % 10}"
        package.mkdir(parents=True, exist_ok=True)
        branches = "\n".join(
            f"        {'if' if b == 0 else 'elif'} item == {b}:\n            total += {b}"
            for b in range(rng.randint(1, 12)))
        (package / f"mod{n:04d}.py").write_text(
            MODULE.format(n=n, limit=rng.randint(1, 99), branches=branches))
    return root


def bench_config(root: Path) -> Config:
    """The project's config without pytest (the benchmark is about the UI, not tests)."""
    config = load_config(root, None)
    return replace(config, checks=ChecksConfig(pytest=False, syntax=True))


def watch_frames(app: DreamscapeApp) -> list[float]:
    """Record when each frame reaches the driver (headless: it is then dropped)."""
    frames: list[float] = []
    display = app._display

    def timed_display(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            frames.append(time.perf_counter())
        display(screen, renderable)

    app._display = timed_display  # type: ignore[method-assign]
    return frames


async def first_paint(root: Path) -> tuple[float, float]:
    """(seconds to the first frame, seconds until the scan is all in the tree)."""
    started = time.perf_counter()
    app = create_app(root, bench_config(root))
    frames = watch_frames(app)
    async with app.run_test(size=SIZE) as pilot:
        while not frames:
            await asyncio.sleep(0.001)
        painted = frames[0] - started
        total = sum(1 for p in root.rglob("*.py"))
        tree = app.dashboard.query_one(FileTree)
        while not (app.scanned and tree.file_count >= total and tree.rows):
            await asyncio.sleep(0.01)
        streamed = time.perf_counter() - started
        while app.engine_busy():  # let the check pass end before quitting
            await asyncio.sleep(0.05)
        await pilot.press("q")
        while app.is_running:
            await asyncio.sleep(0.01)
    return painted, streamed


def synthetic_results(count: int) -> list[FileResult]:
    rng = random.Random(count)
    results = []
    for n in range(count):
        cc = rng.randint(1, 40)
        rank = "ABCDEF"[min(5, (cc - 1) // 5 if cc <= 30 else 5)]
        mi = rng.uniform(0, 100)
        metrics = FileMetrics(50, 30, 40, 5, 0, 5, 5, cc, cc / 2, rank, mi, "A", 300.0,
                              (FunctionMetric("f", 1, cc, rank),))
        path = f"pkg{n % 40:02d}/sub{n // 40 % 12:02d}/part{n % 3}/mod{n:05d}.py"
        results.append(FileResult(path, metrics, risk_score(metrics), False))
    return results


async def key_latency(tree_files: int, presses: int) -> dict[str, list[float]]:
    """Milliseconds from key to frame, per kind of key, with ``tree_files`` in the tree."""
    with tempfile.TemporaryDirectory(prefix="dreamscape-bench-") as tmp:
        root = Path(tmp) / "bench"
        root.mkdir()
        app = create_app(root, bench_config(root), autostart=False)
        frames = watch_frames(app)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            results = synthetic_results(tree_files)
            fed = time.perf_counter()
            app.apply_event(ScanStarted(str(root), len(results), 0))
            for n, result in enumerate(results, 1):
                app.apply_event(FileScanned(result, n, len(results)))
            app.apply_event(ScanFinished(len(results), len(results), 0, 0, 1.0))
            tree = app.dashboard.query_one(FileTree)
            tree.rebuild()
            await pilot.pause()
            print(f"  {tree_files} results into the tree in {time.perf_counter() - fed:.2f} s"
                  f" ({len(tree.rows)} rows)")
            plan = (["down"] * 6 + ["up"] * 2 + ["pagedown", "pageup", "end", "home",
                                                  "space", "space", "s"])
            latencies: dict[str, list[float]] = {}
            for n in range(presses):
                key = plan[n % len(plan)]
                kind = {"down": "arrows", "up": "arrows", "pagedown": "pages",
                        "pageup": "pages", "end": "home/end", "home": "home/end",
                        "space": "fold/unfold", "s": "sort"}[key]
                started = time.perf_counter()
                await pilot.press(key)
                deadline = started + 2.0
                while not (frames and frames[-1] > started) and time.perf_counter() < deadline:
                    await asyncio.sleep(0.0005)
                frame = next((f for f in frames if f > started), time.perf_counter())
                latencies.setdefault(kind, []).append((frame - started) * 1000)
            await pilot.press("q")
    return latencies


def pty_first_paint(root: Path) -> float:
    """Seconds from starting the installed ``dreamscape`` to its first frame on a pty."""
    import fcntl
    import pty
    import struct
    import termios

    exe = Path(sys.executable).with_name("dreamscape")
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    started = time.perf_counter()
    proc = subprocess.Popen([str(exe), str(root)], stdin=secondary, stdout=secondary,
                            stderr=secondary, env=env, close_fds=True, start_new_session=True)
    os.close(secondary)
    seen, painted = b"", 0.0
    while not painted and time.perf_counter() - started < 30:
        with contextlib.suppress(OSError):
            seen += os.read(primary, 65536)
        if b"Files" in seen and b"Sessions" in seen:  # the dashboard's panels are drawn
            painted = time.perf_counter() - started
    time.sleep(1.0)
    os.write(primary, b"q")
    deadline = time.perf_counter() + 30
    while proc.poll() is None and time.perf_counter() < deadline:
        with contextlib.suppress(OSError):
            os.read(primary, 65536)
        time.sleep(0.05)
    if proc.poll() is None:
        proc.terminate()
    os.close(primary)
    return painted


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3000, help="files in the project")
    parser.add_argument("--tree", type=int, default=10_000, help="files in the tree")
    parser.add_argument("--presses", type=int, default=400, help="key presses to time")
    parser.add_argument("--warm", type=int, default=3, help="warm first-paint runs")
    parser.add_argument("--pty", action="store_true", help="also time the installed CLI")
    args = parser.parse_args()

    print(f"first paint, {args.files}-file project, {SIZE[0]}x{SIZE[1]}:")
    with tempfile.TemporaryDirectory(prefix="dreamscape-bench-") as tmp:
        root = generate_project(Path(tmp) / "project", args.files)
        paints = []
        for run in range(1 + args.warm):
            painted, streamed = asyncio.run(first_paint(root))
            label = "cold" if run == 0 else "warm"
            print(f"  {label}: first paint {painted * 1000:6.0f} ms; "
                  f"scan streamed into the tree by {streamed:5.2f} s")
            paints.append(painted)
        if args.pty:
            seconds = pty_first_paint(root)
            print(f"  installed CLI on a pty, process start to first frame: "
                  f"{seconds * 1000:.0f} ms (imports included)")
    worst = max(paints)
    print(f"  worst first paint {worst * 1000:.0f} ms (goal <= 500 ms): "
          f"{'ok' if worst <= 0.5 else 'MISSED'}")

    print(f"key-to-frame latency, {args.tree} files in the tree, {args.presses} presses:")
    latencies = asyncio.run(key_latency(args.tree, args.presses))
    every = [v for values in latencies.values() for v in values]
    for kind, values in latencies.items():
        print(f"  {kind:<12} n={len(values):<4} p50 {statistics.median(values):6.1f} ms   "
              f"p95 {percentile(values, 95):6.1f} ms   max {max(values):6.1f} ms")
    p95 = percentile(every, 95)
    print(f"  all keys     n={len(every):<4} p50 {statistics.median(every):6.1f} ms   "
          f"p95 {p95:6.1f} ms (goal <= 50 ms): {'ok' if p95 <= 50 else 'MISSED'}")


if __name__ == "__main__":
    main()
