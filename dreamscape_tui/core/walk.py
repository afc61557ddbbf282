"""Find a project's candidate Python files, honouring the ignore rules.

Kept apart from the scanner so the walk (I/O, rules, links) and the analysis (CPU,
processes, cache) can each be read and tested alone.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dreamscape_tui.core.ignore import RuleSet

SOURCE_SUFFIX = ".py"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file to analyse: its root-relative path and the stat taken during the walk."""

    rel: str
    abspath: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """A path that looked like a source file (or a directory link) but cannot be read."""

    rel: str
    reason: str


def walk(root: Path, rules: RuleSet, max_file_bytes: int) -> Iterator[Candidate | Rejected]:
    """Yield candidates and rejects under ``root`` in a stable (sorted) order.

    Symlinks are followed, but a directory link whose target is one of its own
    ancestors is reported as a loop instead of entered; dangling links and link
    cycles are reported, not raised. Ignored directories are never entered.
    """
    root_stat = os.stat(root)
    yield from _walk_dir(root, "", rules, max_file_bytes, [(root_stat.st_dev, root_stat.st_ino)])


def _walk_dir(
    directory: Path,
    rel_dir: str,
    rules: RuleSet,
    max_file_bytes: int,
    ancestors: list[tuple[int, int]],
) -> Iterator[Candidate | Rejected]:
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        if rel_dir:
            yield Rejected(rel_dir, f"unreadable directory: {exc.strerror or exc}")
        return
    for entry in entries:
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        is_source = entry.name.endswith(SOURCE_SUFFIX)
        try:
            st = entry.stat(follow_symlinks=True)
        except OSError as exc:
            if entry.is_symlink() and is_source:
                reason = "symlink loop" if exc.errno == errno.ELOOP else "dangling symlink"
                if not rules.ignored(rel, is_dir=False):
                    yield Rejected(rel, reason)
            elif is_source and not rules.ignored(rel, is_dir=False):
                yield Rejected(rel, f"unreadable: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(st.st_mode):
            if rules.ignored(rel, is_dir=True):
                continue
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                yield Rejected(rel, "symlink loop (links to an enclosing directory)")
                continue
            ancestors.append(key)
            yield from _walk_dir(Path(entry.path), rel, rules, max_file_bytes, ancestors)
            ancestors.pop()
            continue
        if not is_source or rules.ignored(rel, is_dir=False):
            continue
        if not stat.S_ISREG(st.st_mode):
            yield Rejected(rel, "not a regular file")
        elif st.st_size > max_file_bytes:
            yield Rejected(rel, f"file too large ({st.st_size} bytes, limit {max_file_bytes})")
        else:
            yield Candidate(rel, entry.path, st.st_size, st.st_mtime_ns)
