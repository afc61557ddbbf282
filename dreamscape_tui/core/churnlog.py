"""What one ``git log`` says about churn: the command, its parsing, and per-day counts.

The churn pass (``churn.py``) decides when git runs and caches the result; this module
is the data: the one ``git log`` command line, its ``-z --numstat`` output parsed into
commits, those folded into per-file per-day counts (renames moving counts to the new
name), days pruned as they leave the window, and the compact form the scan cache keeps.
Every scan imports it, so it defines no dataclasses (about a millisecond each) and
imports no subprocess.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dreamscape_tui.core.gitrepo import git_args

DAY_S = 86_400
PATHSPEC = "*.py"  # the scanner's candidates (walk.SOURCE_SUFFIX) at any depth

# path -> {day (days since the epoch, UTC) -> [commits, lines]}
Buckets = dict[str, dict[int, list[int]]]
# (committer time, [(path, path before a rename or None, lines added + deleted)])
LogCommit = tuple[int, list[tuple[str, str | None, int]]]


# Plain classes, not dataclasses: every scan imports this module, and defining a
# dataclass costs about a millisecond.
class Churn:
    """One file's churn in the window."""

    __slots__ = ("commits", "lines")

    def __init__(self, commits: int, lines: int) -> None:
        self.commits = commits
        self.lines = lines

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Churn) and self.commits == other.commits
                and self.lines == other.lines)

    def __hash__(self) -> int:
        return hash((self.commits, self.lines))

    def __repr__(self) -> str:
        return f"Churn(commits={self.commits}, lines={self.lines})"


def log_args(root: Path, cutoff: int, since: str | None = None) -> list[str]:
    """The one ``git log`` of a pass: every commit since ``cutoff`` (or since the commit
    ``since``), its changed ``.py`` files below ``root`` with their line counts."""
    revs = f"{since}..HEAD" if since else "HEAD"
    return [*git_args(root), "log", "--no-color", "--no-ext-diff", "--no-textconv",
            "--no-merges", "--full-history", "-z", "--numstat", "-M", "--relative",
            "--format=%x01%H %ct", f"--max-age={cutoff}", revs, "--", PATHSPEC]


def parse_log(data: bytes) -> list[LogCommit]:
    """``git log -z --numstat --format=%x01%H %ct`` output, newest commit first.

    A numstat entry is ``ADDED<TAB>DELETED<TAB>PATH`` (``-`` for binary counts), or for
    a rename ``ADDED<TAB>DELETED<TAB>`` followed by the old and the new path as tokens.
    """
    commits: list[LogCommit] = []
    changes: list[tuple[str, str | None, int]] | None = None
    tokens = data.split(b"\0")
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.startswith(b"\n"):  # the line break after a commit's header
            token = token[1:]
        if not token:
            continue
        if token.startswith(b"\x01"):
            _sha, _, when = token[1:].partition(b" ")
            changes = []
            commits.append((int(when) if when.isdigit() else 0, changes))
            continue
        if changes is None:
            continue
        added, _, rest = token.partition(b"\t")
        deleted, _, path = rest.partition(b"\t")
        lines = (int(added) if added.isdigit() else 0) + (int(deleted) if deleted.isdigit()
                                                           else 0)
        if path:
            changes.append((os.fsdecode(path), None, lines))
        elif index + 1 < len(tokens):  # a rename: the old path, then the new one
            old, new = tokens[index], tokens[index + 1]
            index += 2
            changes.append((os.fsdecode(new), os.fsdecode(old), lines))
    return commits


def fold(buckets: Buckets, commits: list[LogCommit]) -> None:
    """Add ``commits`` (newest first, as git lists them) to ``buckets``, oldest first:
    a rename moves the counts of the old name to the new one before adding its own."""
    for when, changes in reversed(commits):
        day = when // DAY_S
        for path, old, lines in changes:
            if old is not None and old != path:
                moved = buckets.pop(old, None)
                if moved:
                    into = buckets.setdefault(path, {})
                    for moved_day, (commits_, lines_) in moved.items():
                        count = into.setdefault(moved_day, [0, 0])
                        count[0] += commits_
                        count[1] += lines_
            count = buckets.setdefault(path, {}).setdefault(day, [0, 0])
            count[0] += 1
            count[1] += lines


def prune(buckets: Buckets, first_day: int) -> None:
    """Drop the days before ``first_day`` (they left the window), and emptied files."""
    for path in list(buckets):
        days = buckets[path]
        for day in [d for d in days if d < first_day]:
            del days[day]
        if not days:
            del buckets[path]


def totals(buckets: Buckets) -> dict[str, Churn]:
    result: dict[str, Churn] = {}
    for path, days in buckets.items():
        commits = lines = 0
        for count in days.values():
            commits += count[0]
            lines += count[1]
        result[path] = Churn(commits, lines)
    return result


def encode_buckets(buckets: Buckets) -> dict[str, list[int]]:
    """JSON-ready and compact: ``path -> [day, commits, lines, day, commits, lines ...]``."""
    return {path: [n for day in sorted(days) for n in (day, *days[day])]
            for path, days in sorted(buckets.items())}


def saved_totals(saved: Any) -> dict[str, Churn] | None:
    """The totals straight from the cached form (None if it is malformed)."""
    if not isinstance(saved, dict):
        return None
    result: dict[str, Churn] = {}
    for path, flat in saved.items():
        if type(flat) is not list or len(flat) % 3:
            return None
        try:
            commits, lines = sum(flat[1::3]), sum(flat[2::3])
        except TypeError:
            return None
        if type(commits) is not int or type(lines) is not int:
            return None
        result[path] = Churn(commits, lines)
    return result


def decode_buckets(saved: Any) -> Buckets | None:
    if not isinstance(saved, dict):
        return None
    buckets: Buckets = {}
    for path, flat in saved.items():
        if (type(flat) is not list or len(flat) % 3
                or not all(type(n) is int for n in flat)):
            return None
        buckets[path] = {flat[i]: [flat[i + 1], flat[i + 2]] for i in range(0, len(flat), 3)}
    return buckets
