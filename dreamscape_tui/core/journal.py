"""An append-only file of JSON records: a write costs one line, whatever came before.

The heal journal used to live in the same JSON document as the scan cache, and each
state change rewrote (and fsynced) the whole document: cost grew with the project.
Here a change is one line, appended and fsynced before it takes effect, so a
transition costs the same on a 10-file and a 10,000-file project.

Crash safety: a process killed mid-append leaves at most one torn last line, which
``replay`` drops (and truncates away) — the change it carried had not taken effect.
Anything unreadable before the last line is corruption: the file is moved aside
(``recovered_to``) and the records read up to it are kept. ``rewrite`` compacts the
file to a snapshot atomically (temp file, fsync, rename), so a crash during compaction
leaves either the old file or the new one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dreamscape_tui.core.atomicfile import move_aside, write_atomically
from dreamscape_tui.core.errors import UserError

Record = dict[str, Any]


class JournalError(UserError):
    """The journal cannot be opened or written (one line, naming the file)."""


class AppendLog:
    """JSON lines appended one by one; ``appended`` counts lines since the last rewrite."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.recovered_to: Path | None = None
        self.appended = 0
        self._fd: int | None = None

    def replay(self) -> list[Record]:
        """Every record in order; repairs a torn tail and sets aside a corrupt file."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        records: list[Record] = []
        good_end = 0
        lines = raw.split(b"\n")
        for number, line in enumerate(lines):
            end = good_end + len(line) + 1
            if not line.strip():
                good_end = min(end, len(raw))
                continue
            record = _parse(line)
            if record is None:
                if number >= len(lines) - 2 and not any(x.strip() for x in lines[number + 1:]):
                    self._truncate(good_end)  # a torn last line: that change never happened
                else:
                    self._set_aside(records)
                return records
            records.append(record)
            good_end = min(end, len(raw))
        if raw and not raw.endswith(b"\n") and not self.read_only:
            with open(self.path, "ab") as fh:  # a whole last record missing its newline
                fh.write(b"\n")
        self.appended = len(records)
        return records

    def append(self, record: Record) -> None:
        """Write one record durably: it is on disk when this returns."""
        if self.read_only:
            raise JournalError(f"{self.path}: opened read-only")
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        try:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.write(self._fd, line.encode("utf-8"))
            os.fsync(self._fd)
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        self.appended += 1

    def rewrite(self, records: Iterable[Record]) -> None:
        """Replace the file with ``records`` atomically (compaction)."""
        if self.read_only:
            return
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        count = write_atomically(self.path, (
            json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
            for r in records))
        self.appended = count

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _truncate(self, size: int) -> None:
        if not self.read_only:
            with open(self.path, "r+b") as fh:
                fh.truncate(size)

    def _set_aside(self, kept: list[Record]) -> None:
        """Corruption before the tail: keep the file for a person, go on from ``kept``."""
        if self.read_only:
            return
        target = move_aside(self.path)
        if target is None:
            raise JournalError(f"{self.path}: corrupt, and too many corrupt copies beside it")
        self.recovered_to = target
        self.rewrite(kept)


def _parse(line: bytes) -> Record | None:
    try:
        record = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None
