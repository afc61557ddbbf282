"""Find a project's candidate Python files, honouring the ignore rules.

Kept apart from the scanner so the walk (I/O, rules, links) and the analysis (CPU,
processes, cache) can each be read and tested alone.

Cost, since a warm rescan is mostly this walk: one ``stat`` per directory and per
``.py`` file, and one listing per directory entered; other files cost nothing (their
type comes from the listing), and the ignore rules are told each listing so they open
only the ignore files that exist. With a ``DirCache`` (the scanner keeps one in its
cache) a directory whose inode and ctime are those of its saved listing is not listed
again: adding, removing or renaming an entry, or a chmod, changes a directory's ctime.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreamscape_tui.core.ignore import IGNORE_FILES, VENV_MARKER, RuleSet, default_ignored

SOURCE_SUFFIX = ".py"
# Kinds of the entries a listing keeps (all other entries cannot matter to the walk).
DIR, SOURCE, LINK, MARKER = "d", "p", "l", "m"  # MARKER: an ignore file or pyvenv.cfg
_MARKERS = frozenset({*IGNORE_FILES, VENV_MARKER})
# A listing is kept only if its directory's ctime is older than this when it is read: a
# change in the same clock tick as the listing could otherwise leave the ctime as it was.
RACY_NS = 2_000_000_000

Listing = list[list[str]]  # [name, kind] pairs, sorted by name


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


class DirCache:
    """Directory listings kept from one walk to the next.

    ``saved``: what the last walk kept (``rel_dir -> [dev, ino, ctime_ns, listing]``,
    JSON-ready); after a walk, ``kept`` holds the listings of the directories it
    entered, and ``changed`` says whether they differ from ``saved``. A listing read
    within ``RACY_NS`` of its directory's last change is not kept (a change in the same
    clock tick would not show in the ctime): a directory changed just now is listed
    again on the next walk, and its old listing, which no longer matches, stays saved
    rather than count as a change (so that creating ``.dreamscape`` in the root, say,
    does not make the next scans rewrite the cache).
    """

    def __init__(self, saved: dict[str, list[Any]] | None = None) -> None:
        self.saved = saved if saved is not None else {}
        self.kept: dict[str, list[Any]] = {}
        self.listed = 0  # directories this walk listed (the rest came from ``saved``)

    @property
    def changed(self) -> bool:
        return self.kept != self.saved


def walk(root: Path, rules: RuleSet, max_file_bytes: int,
         dirs: DirCache | None = None) -> Iterator[Candidate | Rejected]:
    """Yield candidates and rejects under ``root`` in a stable (sorted) order.

    Symlinks are followed, but a directory link whose target is one of its own
    ancestors is reported as a loop instead of entered; dangling links and link
    cycles are reported, not raised. Ignored directories are never entered.
    """
    base = os.fspath(root)
    root_stat = os.stat(base)
    walker = _Walker(rules, max_file_bytes, dirs)
    try:
        listing = walker.listing(base, "", root_stat)
    except OSError:
        return
    yield from walker.walk_dir(base, "", listing, [(root_stat.st_dev, root_stat.st_ino)])


class _Walker:
    def __init__(self, rules: RuleSet, max_file_bytes: int, dirs: DirCache | None) -> None:
        self.rules, self.max_file_bytes, self.dirs = rules, max_file_bytes, dirs

    def listing(self, path: str, rel: str, st: os.stat_result) -> Listing:
        """The relevant entries of a directory: from the cache if it is unchanged."""
        dirs = self.dirs
        if dirs is not None:
            saved = dirs.saved.get(rel)
            if saved is not None and saved[0] == st.st_dev and saved[1] == st.st_ino \
                    and saved[2] == st.st_ctime_ns:
                dirs.kept[rel] = saved
                return saved[3]  # type: ignore[no-any-return]
        started = time.time_ns()
        with os.scandir(path) as it:
            listing = _kinds(it)
        if dirs is not None:
            dirs.listed += 1
            if st.st_ctime_ns < started - RACY_NS:
                dirs.kept[rel] = [st.st_dev, st.st_ino, st.st_ctime_ns, listing]
            elif rel in dirs.saved:  # too recent to keep: the old one (it will not match)
                dirs.kept[rel] = dirs.saved[rel]
        return listing

    def walk_dir(self, path: str, rel_dir: str, listing: Listing,
                 ancestors: list[tuple[int, int]]) -> Iterator[Candidate | Rejected]:
        rules = self.rules
        rules.enter(rel_dir, [name for name, kind in listing if kind in (MARKER, LINK)])
        prefix = path if path.endswith("/") else path + "/"
        for name, kind in listing:
            if kind == MARKER:
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            is_source = name.endswith(SOURCE_SUFFIX)
            full = prefix + name
            try:
                st = os.stat(full)
            except OSError as exc:
                if not is_source or rules.ignored(rel, is_dir=False):
                    continue
                if kind == LINK:
                    yield Rejected(rel, "symlink loop" if exc.errno == errno.ELOOP
                                   else "dangling symlink")
                else:
                    yield Rejected(rel, f"unreadable: {exc.strerror or exc}")
                continue
            if stat.S_ISDIR(st.st_mode):
                yield from self.enter(full, rel, name, st, ancestors)
                continue
            if not is_source or rules.ignored(rel, is_dir=False):
                continue
            if not stat.S_ISREG(st.st_mode):
                yield Rejected(rel, "not a regular file")
            elif st.st_size > self.max_file_bytes:
                yield Rejected(rel, f"file too large ({st.st_size} bytes, "
                                    f"limit {self.max_file_bytes})")
            else:
                yield Candidate(rel, full, st.st_size, st.st_mtime_ns)

    def enter(self, path: str, rel: str, name: str, st: os.stat_result,
              ancestors: list[tuple[int, int]]) -> Iterator[Candidate | Rejected]:
        """Walk into one directory unless the rules exclude it (``RuleSet.ignored``, in
        parts): a directory the patterns leave undecided is listed before the virtualenv
        check, which then reads ``pyvenv.cfg`` from the listing instead of a ``stat``."""
        decision = self.rules.decide(rel, is_dir=True)
        if decision or (decision is None and default_ignored(name, is_dir=True)):
            return
        try:
            listing = self.listing(path, rel, st)
        except OSError as exc:
            yield Rejected(rel, f"unreadable directory: {exc.strerror or exc}")
            return
        if decision is None and _is_virtualenv(path, listing):
            return  # a virtualenv whatever its name (a default: patterns can re-include it)
        key = (st.st_dev, st.st_ino)
        if key in ancestors:
            yield Rejected(rel, "symlink loop (links to an enclosing directory)")
            return
        ancestors.append(key)
        yield from self.walk_dir(path, rel, listing, ancestors)
        ancestors.pop()


def _kinds(entries: Iterator[os.DirEntry[str]]) -> Listing:
    """The entries that can matter, with their kind, sorted by name.

    Links are kept whatever their name (a link's target can change without its
    directory changing, so links are always followed afresh); so are directories,
    ``.py`` files of any type, ignore files and ``pyvenv.cfg``.
    """
    kept: Listing = []
    for entry in entries:
        name = entry.name
        try:
            if entry.is_symlink():
                kind = LINK
            elif entry.is_dir(follow_symlinks=False):
                kind = DIR
            elif name.endswith(SOURCE_SUFFIX):
                kind = SOURCE
            elif name in _MARKERS and entry.is_file(follow_symlinks=False):
                kind = MARKER
            else:
                continue
        except OSError:  # vanished meanwhile: as if it were not there
            continue
        kept.append([name, kind])  # JSON's shape: a listing is saved as it is
    kept.sort()
    return kept


def _is_virtualenv(path: str, listing: Listing) -> bool:
    """``ignore.is_virtualenv`` from a listing: ``pyvenv.cfg`` is a file (or a link to one)."""
    for name, kind in listing:
        if name == VENV_MARKER:
            if kind == MARKER:
                return True
            if kind == LINK:
                try:
                    return stat.S_ISREG(os.stat(f"{path}/{name}").st_mode)
                except OSError:
                    return False
    return False
