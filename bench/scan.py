"""Benchmark: `dreamscape scan` against radon's own CLI on Django's source.

Baseline: radon's CLI trio run one after another (`radon cc -j`, `radon mi -j`,
`radon raw -j`), which is what the scripts Dreamscape replaces did. Then
`dreamscape scan --no-cache --json` (cold), one scan to fill the cache, and a warm
`dreamscape scan --json`. Prints both ratios. Goal on 2 cores: cold >= 6x, warm >= 50x.

    python bench/scan.py [--src DIR] [--repeat N]

Without --src it fetches Django 5.2.19's sdist from PyPI once (pip download) into
.cache/bench and uses its `django/` package (885 files, 159k lines).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "bench"
DJANGO = "django==5.2.19"


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


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, str]:
    """Wall time of one command, which must succeed; returns (seconds, stdout)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return seconds, proc.stdout


def best_of(repeat: int, cmd: list[str]) -> tuple[float, str]:
    runs = [timed(cmd) for _ in range(repeat)]
    return min(r[0] for r in runs), runs[-1][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="directory to scan (default: Django)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (best)")
    args = parser.parse_args()
    source = args.src or django_source()
    bindir = Path(sys.executable).parent
    radon, dreamscape = str(bindir / "radon"), str(bindir / "dreamscape")

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / source.name
        shutil.copytree(source, project, symlinks=True)
        trio = 0.0
        for sub in ("cc", "mi", "raw"):
            seconds, _ = best_of(args.repeat, [radon, sub, "-j", str(project)])
            print(f"radon {sub} -j      {seconds:8.2f} s")
            trio += seconds
        cold, out = best_of(args.repeat, [dreamscape, "scan", "--no-cache", "--json",
                                          str(project)])
        stats = json.loads(out)["stats"]
        timed([dreamscape, "scan", "--json", str(project)])  # fills the cache
        warm, out = best_of(args.repeat, [dreamscape, "scan", "--json", str(project)])
        warm_stats = json.loads(out)["stats"]

    print(f"radon CLI trio     {trio:8.2f} s   (baseline)")
    print(f"dreamscape cold    {cold:8.2f} s   {stats['files']} files, "
          f"{stats['analyzed']} analysed, {stats['skipped']} skipped")
    print(f"dreamscape warm    {warm:8.2f} s   {warm_stats['cached']} from cache")
    print(f"cold ratio  {trio / cold:6.1f}x   (goal >= 6x)")
    print(f"warm ratio  {trio / warm:6.1f}x   (goal >= 50x)")


if __name__ == "__main__":
    main()
