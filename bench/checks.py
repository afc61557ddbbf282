"""Benchmark: the check phase on a suite where a quarter of the modules hang.

A generated project has 40 small modules, each with one test file of 5 tests. In a
quarter of the modules (10) two of the tests hang, each in its own way (a busy loop,
a long sleep, a wait on an event nobody sets); a few other tests fail plainly. The
checks run with ``test_timeout_s = 5`` and ``jobs = 0`` (one process per core), exactly
as ``dreamscape check`` runs them. The named baseline is the issue's ideal:

    ideal = hanging modules x test_timeout_s / cores

and the bench prints the check phase's wall time against it (goal: ratio <= 1.5), and
the largest number of timeouts any one hanging module cost (goal: 1: a module that has
hung once is not waited for again).

    python bench/checks.py [--modules 40] [--timeout 5] [--jobs 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dreamscape_tui.core.checks import run_checks
from dreamscape_tui.core.config import ChecksConfig

HANGS = ("spin", "nap", "wait")

MODULE = '''"""Module {n}."""
import threading
import time


def add(a, b):
    return a + b + {bug}


def spin():
    n = 0
    while {hangs}:
        n += 1
    return n


def nap():
    time.sleep(1000 if {hangs} else 0)


def wait():
    event = threading.Event()
    if not {hangs}:
        event.set()
    event.wait()
'''

TESTS = '''from mod{n:02d} import add, nap, spin, wait


def test_add():
    assert add(1, 2) == 3


def test_add_zero():
    assert add(0, 0) == 0


def test_hang_a():
    {first}()


def test_hang_b():
    {second}()


def test_add_negative():
    assert add(-1, -1) == -2
'''


def make_project(root: Path, modules: int) -> set[str]:
    """Write the project; returns the paths of the modules that hang."""
    hanging = set()
    (root / "tests").mkdir(parents=True)
    for n in range(modules):
        hangs = n % 4 == 0
        bug = 1 if n % 7 == 3 else 0  # a few plain failures beside the hangs
        (root / f"mod{n:02d}.py").write_text(MODULE.format(n=n, bug=bug, hangs=hangs))
        first, second = HANGS[n % 3], HANGS[(n + 1) % 3]
        (root / "tests" / f"test_mod{n:02d}.py").write_text(
            TESTS.format(n=n, first=first, second=second))
        if hangs:
            hanging.add(f"mod{n:02d}.py")
    return hanging


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=40)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--jobs", type=int, default=0)
    args = parser.parse_args()
    cores = args.jobs or os.cpu_count() or 1
    config = ChecksConfig(test_timeout_s=args.timeout, jobs=args.jobs)
    with tempfile.TemporaryDirectory(prefix="dreamscape-bench-checks-") as tmp:
        root = Path(tmp)
        hanging = make_project(root, args.modules)
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
        started = time.perf_counter()
        report = run_checks(root, config, files)
        seconds = time.perf_counter() - started
    timed_out = {o.nodeid for o in report.outcomes if o.outcome == "timeout"}
    per_module = max((len(timed_out & set(f.tests)) for f in report.failures), default=0)
    failing = {f.path for f in report.failures}
    not_run = sum(o.outcome == "notrun" for o in report.outcomes)
    ideal = len(hanging) * args.timeout / cores
    ratio = seconds / ideal
    print(f"project: {args.modules} modules, {len(hanging)} hanging, "
          f"test_timeout_s={args.timeout:g}, {cores} processes")
    print(f"results: {len(report.outcomes)} outcomes, {len(timed_out)} timeouts, "
          f"{not_run} not run (module hung), {len(failing)} failing files, "
          f"errors: {report.errors or 'none'}")
    print(f"check phase {seconds:.1f} s vs ideal {ideal:.1f} s "
          f"(hanging x timeout / cores): ratio {ratio:.2f} (goal <= 1.5)")
    print(f"most timeouts for one hanging module: {per_module} (goal: 1)")
    missed = hanging - failing
    if missed:
        print(f"MISSED hanging modules: {sorted(missed)}")
    ok = ratio <= 1.5 and per_module <= 1 and not missed and not report.errors
    print("goal met" if ok else "goal NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
