"""Benchmark: what a heal transition costs, and how the UI answers keys while heals run.

On a generated 10,000-file project (plus ``--faults`` modules with a wrong constant and
a test that catches it):

* **Per-transition cost.** The scan fills the scan cache (``.dreamscape/scan.json``);
  then heal items go through state changes (``HealStore.save``: one fsynced journal
  line each). Baseline: the store as it was, one TinyDB document holding the scan cache
  and the heal tables, rewritten and fsynced whole on every transition (measured here
  on a copy of the same cache). Goal: <= 5 ms per transition.
* **Key latency during heals.** The app built by ``create_app`` as the CLI builds it,
  with two workers healing the faults through a scripted openai-api model on loopback
  (each first answer wrong, so items retry and validate more than once); while any
  item is in progress, keys are pressed in the file tree (arrows, pages, home/end) and
  each is timed from the press to the next frame. Goal: p95 <= 50 ms.

    python bench/store.py [--files 10000] [--faults 12] [--latency 0.4] [--presses 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.tui import SIZE, percentile, watch_frames  # noqa: E402
from dreamscape_tui.app import DreamscapeApp, create_app  # noqa: E402
from dreamscape_tui.core.checks import Failure  # noqa: E402
from dreamscape_tui.core.config import load_config  # noqa: E402
from dreamscape_tui.core.engine import AutomationEngine  # noqa: E402
from dreamscape_tui.core.healstore import HealStore  # noqa: E402
from dreamscape_tui.core.healtypes import Candidate, HealState  # noqa: E402
from dreamscape_tui.core.store import Store  # noqa: E402
from tests.fake_openai import Scripted, fake_openai_server  # noqa: E402

GOAL_TRANSITION_MS = 5.0
GOAL_KEY_P95_MS = 50.0
FILLER = '''"""Generated module {n}."""


def handle_{n}(items, limit={limit}):
    total = 0
    for item in items:
        if item > limit:
            total += item
        elif item < 0:
            total -= item
    return total
'''


def generate(root: Path, files: int, faults: int) -> None:
    """``files`` plain modules in nested packages, and ``faults`` broken ones with tests."""
    for n in range(files):
        path = root / f"pkg{n % 40:02d}" / f"sub{n // 40 % 25:02d}" / f"mod{n:05d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FILLER.format(n=n, limit=n % 97))
    (root / "tests").mkdir(exist_ok=True)
    for n in range(faults):
        (root / f"fault{n:02d}.py").write_text(
            f'"""Fault {n}."""\n\n\ndef value():\n    return {n} + 1000\n')
        (root / "tests" / f"test_fault{n:02d}.py").write_text(
            f"from fault{n:02d} import value\n\n\ndef test_value():\n    assert value() == {n}\n")


def config_file(tmp: Path, url: str) -> Path:
    path = tmp / "config.toml"
    path.write_text(f"""
[[models]]
name = "scripted"
kind = "openai-api"
base_url = "{url}"
model = "scripted"
[routing]
ladder = ["scripted"]
[heal]
workers = 2
max_attempts = 3
""")
    return path


def transition_cost(root: Path, config: Path, rounds: int) -> tuple[list[float], list[float]]:
    """(ms per journal transition, ms per transition in the old single-file store)."""
    engine = AutomationEngine(root, load_config(root, config))
    try:
        report = engine.scan()
        print(f"  scanned {len(report.files)} files; scan cache "
              f"{engine.store.path.stat().st_size / 1e6:.1f} MB")
    finally:
        engine.close()
    with tempfile.TemporaryDirectory(prefix="dreamscape-bench-store-") as tmp:
        heals = HealStore(Path(tmp) / "heals.jsonl")
        items = [heals.enqueue(Failure(f"f{n}", f"pkg00/sub00/mod{n:05d}.py", "test",
                                       "pytest", "assert 1 == 2", "E" * 2000), n)
                 for n in range(40)]
        candidate = Candidate(FILLER.format(n=1, limit=3), 0, "0" * 64)
        new: list[float] = []
        cycle = (HealState.RUNNING, HealState.VALIDATING, HealState.RETRYING)
        for n in range(rounds):
            item = items[n % len(items)]
            assert item is not None
            item = replace(item, state=cycle[n % 3], best=candidate if n % 3 == 1 else item.best)
            started = time.perf_counter()
            items[n % len(items)] = heals.save(item)
            new.append((time.perf_counter() - started) * 1000)
        heals.close()
        old = old_store_cost(root, Path(tmp), max(10, rounds // 40))
    return new, old


def old_store_cost(root: Path, tmp: Path, rounds: int) -> list[float]:
    """The old design: the scan cache and the heal table in one TinyDB file, flushed
    whole after each heal update (``heals.update`` + ``store.flush`` as it was)."""
    data = json.loads((root / ".dreamscape" / "scan.json").read_bytes())
    data["heals"] = {str(n): {"id": f"h{n}", "state": "queued", "details": "E" * 2000}
                     for n in range(1, 41)}
    (tmp / "state.json").write_text(json.dumps(data))
    times: list[float] = []
    with Store(tmp / "state.json") as store:
        from tinydb import Query

        for n in range(rounds):
            started = time.perf_counter()
            with store.tables() as db:
                db.table("heals").update({"state": "running" if n % 2 else "validating"},
                                         Query().id == f"h{n % 40 + 1}")
            store.flush()
            times.append((time.perf_counter() - started) * 1000)
    return times


async def key_latency_during_heals(root: Path, config: Path, presses: int
                                   ) -> tuple[list[float], int]:
    """(ms from key to frame while heals are in progress, heal transitions seen)."""
    app = create_app(root, load_config(root, config))
    frames = watch_frames(app)
    plan = ["down"] * 6 + ["up"] * 2 + ["pagedown", "pageup", "end", "home"]
    latencies: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        transitions = 0
        seen: dict[int, HealState] = {}
        deadline = time.monotonic() + 600
        while not _healing(app) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        tree = app.dashboard.file_tree
        tree.focus()
        n = 0
        while _healing(app) and n < presses:
            for item in app.model.items.values():
                if seen.get(item.id) != item.state:
                    seen[item.id] = item.state
                    transitions += 1
            started = time.perf_counter()
            await pilot.press(plan[n % len(plan)])
            limit = started + 2.0
            while not (frames and frames[-1] > started) and time.perf_counter() < limit:
                await asyncio.sleep(0.0005)
            frame = next((f for f in frames if f > started), time.perf_counter())
            latencies.append((frame - started) * 1000)
            n += 1
            await asyncio.sleep(0.03)  # a person's typing pace, not a flood
        await pilot.press("q")
    return latencies, transitions


def _healing(app: DreamscapeApp) -> bool:
    return any(item.state.active and item.state is not HealState.QUEUED
               for item in app.model.items.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--faults", type=int, default=12)
    parser.add_argument("--latency", type=float, default=0.4, help="model seconds per answer")
    parser.add_argument("--rounds", type=int, default=2000, help="journal transitions timed")
    parser.add_argument("--presses", type=int, default=300)
    args = parser.parse_args()
    answered: dict[str, int] = {}

    def scripted(prompt: str) -> Scripted:
        time.sleep(args.latency)
        match = re.search(r"`(fault(\d+)\.py)`", prompt)
        if match is None:
            return Scripted.answer("I cannot tell.")
        name, n = match.group(1), int(match.group(2))
        answered[name] = answered.get(name, 0) + 1
        right = n if answered[name] > 1 else n + 1  # the first answer is wrong
        return Scripted.answer(f"```\n{name}\n<<<<<<< SEARCH\n    return {n} + 1000\n"
                               f"=======\n    return {right}\n>>>>>>> REPLACE\n```\n")

    with tempfile.TemporaryDirectory(prefix="dreamscape-bench-") as tmp, \
            fake_openai_server() as api:
        api.fallback = scripted
        root = Path(tmp) / "project"
        generate(root, args.files, args.faults)
        config = config_file(Path(tmp), api.url)
        print(f"{args.files} files + {args.faults} faults")
        new, old = transition_cost(root, config, args.rounds)
        mean_new, mean_old = statistics.fmean(new), statistics.fmean(old)
        print(f"transition (journal)   mean {mean_new:6.2f} ms  p95 {percentile(new, 95):6.2f} ms"
              f"  (goal <= {GOAL_TRANSITION_MS:g} ms)")
        print(f"transition (old store) mean {mean_old:6.2f} ms  p95 {percentile(old, 95):6.2f} ms"
              f"  -> {mean_old / mean_new:.0f}x cheaper now")
        latencies, transitions = asyncio.run(
            key_latency_during_heals(root, config, args.presses))
    if not latencies:
        raise SystemExit("no key was pressed while heals were in progress")
    p95 = percentile(latencies, 95)
    print(f"keys during heals      {len(latencies)} presses, {transitions} heal transitions "
          f"seen; median {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, "
          f"max {max(latencies):.1f} ms  (goal p95 <= {GOAL_KEY_P95_MS:g} ms)")
    ok = mean_new <= GOAL_TRANSITION_MS and p95 <= GOAL_KEY_P95_MS
    print("goals met" if ok else "GOALS MISSED")


if __name__ == "__main__":
    main()
