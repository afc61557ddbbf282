"""Find a project's candidate Python files, honouring the ignore rules.

Kept apart from the scanner so the walk (I/O, rules, links) and the analysis (CPU,
processes, cache) can each be read and tested alone.

Cost, since a warm rescan is mostly this walk: one ``scandir`` per directory entered and
one ``stat`` per directory and per ``.py`` file; other files cost nothing (their type
comes from the directory listing), and the ignore rules are told each listing so they
open only the ignore files that exist.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dreamscape_tui.core.ignore import VENV_MARKER, RuleSet, default_ignored

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
    try:
        entries = _listing(os.fspath(root))
    except OSError:
        return
    yield from _walk_dir(entries, "", rules, max_file_bytes,
                         [(root_stat.st_dev, root_stat.st_ino)])


def _listing(directory: str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as it:
        return sorted(it, key=lambda e: e.name)


def _walk_dir(
    entries: list[os.DirEntry[str]],
    rel_dir: str,
    rules: RuleSet,
    max_file_bytes: int,
    ancestors: list[tuple[int, int]],
) -> Iterator[Candidate | Rejected]:
    rules.enter(rel_dir, {e.name for e in entries})
    for entry in entries:
        name = entry.name
        rel = f"{rel_dir}/{name}" if rel_dir else name
        is_source = name.endswith(SOURCE_SUFFIX)
        if not is_source:
            try:
                if not entry.is_dir():  # from the listing: no system call unless a link
                    continue
            except OSError:
                continue
        try:
            st = entry.stat()
        except OSError as exc:
            if not is_source or rules.ignored(rel, is_dir=False):
                continue
            if entry.is_symlink():
                yield Rejected(rel, "symlink loop" if exc.errno == errno.ELOOP
                               else "dangling symlink")
            else:
                yield Rejected(rel, f"unreadable: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _enter(entry, rel, st, rules, max_file_bytes, ancestors)
            continue
        if rules.ignored(rel, is_dir=False):
            continue
        if not stat.S_ISREG(st.st_mode):
            yield Rejected(rel, "not a regular file")
        elif st.st_size > max_file_bytes:
            yield Rejected(rel, f"file too large ({st.st_size} bytes, limit {max_file_bytes})")
        else:
            yield Candidate(rel, entry.path, st.st_size, st.st_mtime_ns)


def _enter(
    entry: os.DirEntry[str],
    rel: str,
    st: os.stat_result,
    rules: RuleSet,
    max_file_bytes: int,
    ancestors: list[tuple[int, int]],
) -> Iterator[Candidate | Rejected]:
    """Walk into one directory unless the rules exclude it (``RuleSet.ignored``, in parts).

    A directory the patterns leave undecided is listed before the virtualenv check,
    which then reads ``pyvenv.cfg`` from the listing instead of a ``stat``.
    """
    decision = rules.decide(rel, is_dir=True)
    if decision or (decision is None and default_ignored(entry.name, is_dir=True)):
        return
    try:
        entries = _listing(entry.path)
    except OSError as exc:
        yield Rejected(rel, f"unreadable directory: {exc.strerror or exc}")
        return
    if decision is None and any(e.name == VENV_MARKER and _is_file(e) for e in entries):
        return  # a virtualenv whatever its name (a default: patterns can re-include it)
    key = (st.st_dev, st.st_ino)
    if key in ancestors:
        yield Rejected(rel, "symlink loop (links to an enclosing directory)")
        return
    ancestors.append(key)
    yield from _walk_dir(entries, rel, rules, max_file_bytes, ancestors)
    ancestors.pop()


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False
