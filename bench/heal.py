"""Benchmark: heal engine overhead and worker utilisation on 20 faults.

A generated project has 20 modules, each with one wrong constant and a test that
catches it. A scripted openai-api model on loopback answers every prompt with the right
SEARCH/REPLACE after a fixed latency. The engine heals all 20 with its default two
workers; the bench prints, from the engine's own accounting:

* engine overhead = worker busy time - model time - validation time, as a share of
  worker busy time (what the engine itself costs per attempt: prompts, parsing, store
  writes, apply) - goal <= 5 %;
* worker utilisation = busy time / (workers x heal wall time), while the queue is not
  empty - goal >= 90 %.

    python bench/heal.py [--faults 20] [--latency 0.5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dreamscape_tui.core.config import load_config
from dreamscape_tui.core.engine import AutomationEngine
from tests.fake_openai import Scripted, fake_openai_server


def make_project(root: Path, faults: int) -> None:
    (root / "tests").mkdir(parents=True)
    for n in range(faults):
        (root / f"mod{n:02d}.py").write_text(
            f'"""Module {n}."""\n\n\ndef value():\n    return {n} + 1000\n')
        (root / "tests" / f"test_mod{n:02d}.py").write_text(
            f"from mod{n:02d} import value\n\n\ndef test_value():\n    assert value() == {n}\n")


def answer(prompt: str) -> str:
    import re

    match = re.search(r"`(mod\d+\.py)`", prompt)
    name = match.group(1) if match else "x.py"
    n = int(name[3:5]) if match else 0
    return (f"```\n{name}\n<<<<<<< SEARCH\n    return {n} + 1000\n=======\n"
            f"    return {n}\n>>>>>>> REPLACE\n```\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.5, help="model seconds per answer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fake_openai_server() as api:
        def slow(prompt: str) -> Scripted:
            time.sleep(args.latency)
            return Scripted.answer(answer(prompt))

        api.fallback = slow
        root = Path(tmp) / "project"
        make_project(root, args.faults)
        config_file = Path(tmp) / "config.toml"
        config_file.write_text(f"""
[[models]]
name = "scripted"
kind = "openai-api"
base_url = "{api.url}"
model = "scripted"
[routing]
ladder = ["scripted"]
""")
        engine = AutomationEngine(root, load_config(root, config_file))
        try:
            report = engine.scan()
            engine.check([f.path for f in report.files])
            engine.enqueue(engine.check_report.failures)
            summary = engine.heal()
        finally:
            engine.close()
    stats = summary.stats
    workers, wall = stats["workers"], stats["seconds"]
    busy, model, validation = (stats["busy_seconds"], stats["model_seconds"],
                               stats["validation_seconds"])
    overhead = busy - model - validation
    print(f"faults {args.faults}, healed {stats['healed']}, escalated {stats['escalated']}, "
          f"workers {workers}, model latency {args.latency:g} s")
    print(f"heal wall time       {wall:7.2f} s")
    print(f"worker busy time     {busy:7.2f} s  (model {model:.2f} s, "
          f"validation {validation:.2f} s)")
    print(f"engine overhead      {overhead:7.2f} s  = {overhead / busy:6.1%} of busy time "
          "(goal <= 5 %)")
    print(f"worker utilisation   {busy / (workers * wall):6.1%}  (goal >= 90 %)")


if __name__ == "__main__":
    main()
