"""Benchmark: `dreamscape scan` against radon's own CLI on Django's source.

Baseline: radon's CLI trio run one after another (`radon cc -j`, `radon mi -j`,
`radon raw -j`), which is what the scripts Dreamscape replaces did. Against it:

* cold: `dreamscape scan --no-cache --json` (every file analysed, in worker processes);
* warm: `dreamscape scan --json` with the cache filled and nothing changed (no worker
  process, no analysis: a stat per file and directory, the cache read once, the JSON
  written).

Goals, on Django 5.2.19's `django/` package (885 files) on 2 cores, in one run of this
script: warm >= 100x the trio, cold >= 8x.

    python bench/scan.py [--src DIR] [--rounds N] [--warm-runs K]

Without --src it fetches Django 5.2.19's sdist from PyPI once (pip download) into
.cache/bench and uses its `django/` package (885 files, 159k lines).

Each round times the trio, one cold scan and K warm scans, so that a busy machine
slows the sides of each ratio alike; every run is printed, and the ratios use the best
time of each side (also shown per round, to show the variance). The commands run with
their bytecode cached (in .cache/bench/pycache), as an installed package's is, even
where PYTHONDONTWRITEBYTECODE is set; a first untimed run of each compiles it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "bench"
DJANGO = "django==5.2.19"
GOALS = {"cold": 8.0, "warm": 100.0}


def django_source() -> Path:
    """Django's `django/` package, downloaded once as an sdist."""
    target = CACHE / "django-5.2.19" / "django"
    if target.is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                    "--no-binary", ":all:", DJANGO, "-d", str(CACHE)], check=True)
    with tarfile.open(CACHE / "django-5.2.19.tar.gz") as tar:
        tar.extractall(CACHE, filter="data")
    return target


def child_env() -> dict[str, str]:
    """The environment of the timed commands: bytecode cached, as when installed."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(CACHE / "pycache")
    return env


ENV = child_env()


def timed(cmd: list[str]) -> tuple[float, str]:
    """Wall time of one command, which must succeed; returns (seconds, stdout)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return seconds, proc.stdout


def files_part(out: str) -> list[object]:
    data: list[object] = json.loads(out)["files"]
    return data


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="directory to scan (default: Django)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--warm-runs", type=int, default=5, help="warm scans per round")
    parser.add_argument("--git-history", action="store_true",
                        help="then what the churn pass adds, on Django with a generated "
                             "2,000-commit history (bench/churn.py; goals: cold <= +20 %%, "
                             "warm: nothing)")
    args = parser.parse_args()
    source = args.src or django_source()
    bindir = Path(sys.executable).parent
    radon, dreamscape = str(bindir / "radon"), str(bindir / "dreamscape")
    print(f"{source}: {os.cpu_count()} cores, {load()}")

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / source.name
        shutil.copytree(source, project, symlinks=True)
        tiny = Path(tmp) / "tiny"
        tiny.mkdir()
        (tiny / "t.py").write_text("def f(x):\n    return x\n")
        for sub in ("cc", "mi", "raw"):  # untimed: compile every command's bytecode
            timed([radon, sub, "-j", str(tiny)])
        timed([dreamscape, "scan", "--no-cache", "--json", str(tiny)])

        trio: list[float] = []
        cold: list[float] = []
        warm: list[list[float]] = []
        cold_out = warm_out = ""
        for n in range(args.rounds):
            parts = [timed([radon, sub, "-j", str(project)])[0] for sub in ("cc", "mi", "raw")]
            trio.append(sum(parts))
            seconds, cold_out = timed([dreamscape, "scan", "--no-cache", "--json", str(project)])
            cold.append(seconds)
            if n == 0:  # fill the cache; then let the new .dreamscape's root settle
                timed([dreamscape, "scan", "--json", str(project)])
                time.sleep(2.1)
                timed([dreamscape, "scan", "--json", str(project)])
            runs = []
            for _ in range(args.warm_runs):
                seconds, warm_out = timed([dreamscape, "scan", "--json", str(project)])
                runs.append(seconds)
            warm.append(runs)
            print(f"round {n + 1}: radon cc {parts[0]:.2f} + mi {parts[1]:.2f} + raw "
                  f"{parts[2]:.2f} = {trio[-1]:.2f} s; cold {cold[-1]:.2f} s "
                  f"({trio[-1] / cold[-1]:.1f}x); warm "
                  + " ".join(f"{w * 1000:.0f}" for w in runs)
                  + f" ms ({trio[-1] / min(runs):.0f}x); {load()}")
        stats = json.loads(cold_out)["stats"]
        warm_stats = json.loads(warm_out)["stats"]
        same = files_part(cold_out) == files_part(warm_out)

    best_trio, best_cold = min(trio), min(cold)
    all_warm = [w for runs in warm for w in runs]
    best_warm = min(all_warm)
    print()
    print(f"radon CLI trio     {best_trio:8.2f} s   best of {len(trio)} "
          f"(median {statistics.median(trio):.2f})")
    print(f"dreamscape cold    {best_cold:8.2f} s   best of {len(cold)} "
          f"(median {statistics.median(cold):.2f}); {stats['files']} files, "
          f"{stats['analyzed']} analysed, {stats['skipped']} skipped")
    print(f"dreamscape warm    {best_warm:8.3f} s   best of {len(all_warm)} "
          f"(median {statistics.median(all_warm):.3f}); {warm_stats['cached']} from cache")
    print(f"warm report == cold report: {same}")
    for name, ratio in (("cold", best_trio / best_cold), ("warm", best_trio / best_warm)):
        goal = GOALS[name]
        verdict = "met" if ratio >= goal else "NOT met"
        print(f"{name} ratio  {ratio:6.1f}x   (goal >= {goal:.0f}x: {verdict})")
    if args.git_history:
        print()
        subprocess.run([sys.executable, str(Path(__file__).with_name("churn.py"))],
                       check=True)


if __name__ == "__main__":
    main()
