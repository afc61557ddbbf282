"""Benchmark: what the churn pass (core/churn.py) adds to `dreamscape scan`.

On Django 5.2.19's `django/` package (bench/scan.py's download) made a git work tree
with a generated history: the package as the first commit, then 2,000 commits (by
`git fast-import`, seconds) spread over two years, each changing one to four `.py`
files picked with a skewed distribution (a few files churn a lot, as in real
projects), every 100th also renaming a file. With the default window (180 days)
about a quarter of the commits count.

Baseline: the same scans with `[scanner] churn_days = 0` (no churn pass, what `scan`
did before). Against it:

* cold: `scan --no-cache --json` (every file analysed; the churn pass runs its one
  `git log` while the tree is walked, no cache to read it from);
* warm: `scan --json` with the cache filled and nothing changed (the churn pass reads
  HEAD from `.git` and the counts from the cache: no process).

Goals, in one run: churn adds at most 20 % to a cold scan, and nothing to a warm one
(within noise: at most 5 %). Each side runs in its own copy of the repository (so the
baseline's cache holds no churn); each round times both cold scans (alternating which
goes first) and K warm scans of each, interleaved, so that a busy machine slows both
sides alike; the ratios use the best time of each side (medians shown too). A last
warm scan runs with a `git` on PATH that records its calls, to show it starts none;
and a warm scan after five new commits shows the incremental pass (`git log OLD..HEAD`).

    python bench/churn.py [--commits N] [--rounds R] [--warm-runs K] [--days D]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.scan import ENV, django_source, load, timed  # noqa: E402
from dreamscape_tui.core.churn import DAY_S, log_args  # noqa: E402

GOALS = {"cold": 0.20, "warm": 0.05}  # the most the churn pass may add
SEED = 12


def git(repo: Path, *args: str, stdin: bytes | None = None,
        env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True,
                          env=env or GIT_ENV, check=True)
    return proc.stdout.decode()


GIT_ENV = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
GIT_ENV.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com")


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def make_history(source: Path, repo: Path, commits: int, now: int,
                 rng: random.Random) -> dict[str, int]:
    """``source`` as the first commit (two years ago), then ``commits`` generated ones
    up to now, through one ``git fast-import``. Returns the generated commits per file
    (by its final name)."""
    shutil.copytree(source, repo, symlinks=True)
    start = now - 730 * DAY_S
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    env = {**GIT_ENV, "GIT_AUTHOR_DATE": f"@{start - DAY_S} +0000",
           "GIT_COMMITTER_DATE": f"@{start - DAY_S} +0000"}
    git(repo, "commit", "-q", "-m", "Django 5.2.19", env=env)
    files = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*.py"))
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(files))]  # Zipf-like
    rng.shuffle(files)
    content: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    stream = bytearray()
    def current(path: str) -> bytes:
        if path not in content:  # nothing is written to disk while generating
            content[path] = (repo / path).read_bytes()
        return content[path]

    for n in range(1, commits + 1):
        when = start + (730 * DAY_S * n) // commits - rng.randrange(0, 3600)
        ops = bytearray()
        touched: list[str] = []
        if n % 100 == 0:  # a rename, and an edit of the renamed file
            index = rng.randrange(len(files))
            old = files[index]
            new = old[:-3] + f"_r{n}.py"
            ops += f"R {old} {new}\n".encode()
            content[new] = current(old)
            del content[old]
            counts[new] = counts.pop(old, 0)
            files[index] = new
            touched.append(new)
        wanted = rng.randint(1, 4)
        while len(touched) < wanted:
            path = rng.choices(files, weights)[0]
            if path not in touched:
                touched.append(path)
        for path in touched:
            lines = current(path).split(b"\n")
            if len(lines) > 40 and rng.random() < 0.4:  # change a few lines
                for _ in range(rng.randint(1, 5)):
                    at = rng.randrange(len(lines))
                    lines[at] = lines[at] + b"  # edited %d" % n
                text = b"\n".join(lines)
            else:  # add a small function
                text = b"\n".join(lines) + (
                    b"\n\ndef _bench_%d(value, limit=%d):\n    if value > limit:\n"
                    b"        return value - limit\n    return limit - value\n" % (n, n))
            content[path] = text
            counts[path] = counts.get(path, 0) + 1
            ops += f"M 100644 inline {path}\n".encode() + _data(text)
        stream += b"commit refs/heads/main\n"
        stream += b"mark :%d\n" % n
        stream += b"committer Bench <bench@example.com> %d +0000\n" % when
        stream += _data(b"change %d" % n)
        if n == 1:
            stream += b"from refs/heads/main^0\n"
        stream += ops + b"\n"
    git(repo, "fast-import", "--quiet", stdin=bytes(stream))
    git(repo, "reset", "-q", "--hard", "main")
    (repo / ".gitignore").write_text(".dreamscape/\n")
    return counts


def recording_git(directory: Path, log: Path) -> dict[str, str]:
    """An environment whose ``git`` records each call before running the real one."""
    real = shutil.which("git")
    directory.mkdir()
    wrapper = directory / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    return {**ENV, "PATH": f"{directory}{os.pathsep}{ENV.get('PATH', '')}"}


def subcommand(line: str) -> str:
    """``git -C DIR -c K=V log ... A..B`` -> ``log A..B`` (a recorded call, for people)."""
    tokens = line.split()
    index = 0
    while index < len(tokens) and tokens[index] in ("-C", "-c"):
        index += 2
    rest = tokens[index:]
    revs = [t for t in rest if ".." in t and not t.startswith("-")]
    return " ".join(rest[:1] + revs)


def overhead(with_: float, without: float) -> float:
    return with_ / without - 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000, help="generated commits")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--warm-runs", type=int, default=8, help="warm scans per side per round")
    parser.add_argument("--days", type=int, default=180, help="[scanner] churn_days")
    args = parser.parse_args()
    source = django_source()
    dreamscape = str(Path(sys.executable).parent / "dreamscape")
    print(f"{source}: {os.cpu_count()} cores, {load()}")

    with tempfile.TemporaryDirectory(prefix="dreamscape-bench-churn-") as tmp:
        base = Path(tmp)
        with_churn, without = base / "with" / "django", base / "without" / "django"
        started = time.perf_counter()
        counts = make_history(source, with_churn, args.commits, int(time.time()),
                              random.Random(SEED))
        made = time.perf_counter() - started
        shutil.copytree(with_churn, without, symlinks=True)
        (base / "churn.toml").write_text(f"[scanner]\nchurn_days = {args.days}\n")
        (base / "none.toml").write_text("[scanner]\nchurn_days = 0\n")
        on = ["--config", str(base / "churn.toml")]
        off = ["--config", str(base / "none.toml")]
        cutoff = int(time.time() // DAY_S - args.days) * DAY_S  # as core/churn.py's window
        in_window = len(git(with_churn, "rev-list", f"--max-age={cutoff}", "HEAD").split())
        print(f"history: {args.commits} generated commits on {len(counts)} files in "
              f"{made:.1f} s; {in_window} in the last {args.days} days")
        log = log_args(with_churn, cutoff)
        git_s = min(timed(log)[0] for _ in range(3))
        print(f"the churn pass's git log alone: {git_s * 1000:.0f} ms")

        def scan(project: Path, config: list[str], *flags: str) -> tuple[float, str]:
            return timed([dreamscape, "scan", *config, *flags, "--json", str(project)])

        scan(with_churn, on, "--no-cache")  # untimed: compile the bytecode
        for project, config in ((with_churn, on), (without, off)):  # fill the caches
            scan(project, config)
        time.sleep(2.1)  # let the new .dreamscape's directory settle (see bench/scan.py)
        for project, config in ((with_churn, on), (without, off)):
            scan(project, config)

        cold: dict[str, list[float]] = {"with": [], "without": []}
        warm: dict[str, list[float]] = {"with": [], "without": []}
        cold_out = warm_out = ""
        for n in range(args.rounds):
            sides = [("with", with_churn, on), ("without", without, off)]
            for name, project, config in sides if n % 2 == 0 else sides[::-1]:
                seconds, out = scan(project, config, "--no-cache")
                cold[name].append(seconds)
                if name == "with":
                    cold_out = out
            for _ in range(args.warm_runs):
                for name, project, config in sides:
                    seconds, out = scan(project, config)
                    warm[name].append(seconds)
                    if name == "with":
                        warm_out = out
            print(f"round {n + 1}: cold {cold['with'][-1]:.2f} s with churn, "
                  f"{cold['without'][-1]:.2f} s without; warm (ms) with "
                  + " ".join(f"{w * 1000:.0f}" for w in warm["with"][-args.warm_runs:])
                  + ", without "
                  + " ".join(f"{w * 1000:.0f}" for w in warm["without"][-args.warm_runs:])
                  + f"; {load()}")

        calls = base / "git-calls.log"
        calls.touch()
        recorded = recording_git(base / "bin", calls)
        subprocess.run([dreamscape, "scan", *on, "--json", str(with_churn)], env=recorded,
                       capture_output=True, check=True)
        warm_calls = calls.read_text().splitlines()

        for k in range(5):  # HEAD moves: the next scan reads these commits only
            with (with_churn / "__init__.py").open("a") as fh:
                fh.write(f"# new {k}\n")
            git(with_churn, "commit", "-q", "-am", f"new {k}")
        calls.write_text("")
        started = time.perf_counter()
        moved = subprocess.run([dreamscape, "scan", *on, "--json", str(with_churn)],
                               env=recorded, capture_output=True, check=True, text=True)
        moved_s = time.perf_counter() - started
        moved_calls = [subcommand(line) for line in calls.read_text().splitlines()]
        init = next(f for f in json.loads(moved.stdout)["files"] if f["path"] == "__init__.py")

    files = json.loads(cold_out)["files"]
    churned = [f for f in files if f["churn"]["commits"]]
    same = files == json.loads(warm_out)["files"]
    print()
    for kind, times in (("cold", cold), ("warm", warm)):
        for side in ("with", "without"):
            print(f"{kind} {side + ' churn':13} {min(times[side]):7.3f} s   best of "
                  f"{len(times[side])} (median {statistics.median(times[side]):.3f})")
    print(f"{len(churned)} of {len(files)} files have churn; top hotspots: "
          + ", ".join(f"{f['path']} {f['hotspot']}"
                      for f in sorted(files, key=lambda f: -f["hotspot"])[:3]))
    print(f"warm report == cold report (churn and hotspots included): {same}")
    print(f"git processes a warm scan started: {len(warm_calls)}")
    print(f"after 5 new commits: a warm scan in {moved_s * 1000:.0f} ms ran git "
          f"{'; '.join(moved_calls)} (__init__.py: {init['churn']})")
    for kind, times in (("cold", cold), ("warm", warm)):
        best = overhead(min(times["with"]), min(times["without"]))
        median = overhead(statistics.median(times["with"]), statistics.median(times["without"]))
        verdict = "met" if best <= GOALS[kind] else "NOT met"
        print(f"{kind}: churn adds {best * 100:+5.1f} % (medians {median * 100:+.1f} %)   "
              f"goal <= {GOALS[kind] * 100:.0f} %: {verdict}")

if __name__ == "__main__":
    main()
