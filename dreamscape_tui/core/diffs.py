"""Unified diffs as git, difflib, models and chat pages write them, applied by context.

Why not hand the diff to ``git apply``: answers damage diffs in typical ways that git
refuses and a person would shrug at: wrong line numbers and counts in ``@@`` headers,
blank context lines whose single space was dropped, CRLF line ends, prose and fences
around the diff, ``@@ ... @@`` headers without numbers. So a hunk is located by its
context; header numbers only choose between equal candidates (and place hunks without
any context, where they are the only anchor). Where the counts are right they also
decide where a hunk ends, as in git; where they are wrong the body runs to the first
line that cannot belong to a hunk.

No policy here (which paths may be edited): :mod:`dreamscape_tui.core.edits` decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ (?:-(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? )?.*?@@")
Op = tuple[str, str]  # (" " | "-" | "+", the line's text without its line end)


class DiffError(ValueError):
    """A hunk does not fit the file; ``str()`` says which one."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One way to read a hunk's body: its lines, and whether its last new line lacks a newline."""

    ops: tuple[Op, ...]
    no_newline: bool = False

    @property
    def old(self) -> list[str]:
        return [text for tag, text in self.ops if tag != "+"]


@dataclass(frozen=True, slots=True)
class Hunk:
    """One ``@@`` hunk: its header's old range (None when the header has no numbers).

    ``readings`` holds the body read by the header's counts and read up to the first line
    that cannot belong to a hunk, most likely first, when the two disagree.
    """

    old_start: int | None
    old_len: int | None
    readings: tuple[Reading, ...]

    @property
    def anchor(self) -> int | None:
        """The 0-based index the header puts the hunk at (an empty range follows its line)."""
        if self.old_start is None:
            return None
        return self.old_start if self.old_len == 0 else max(self.old_start - 1, 0)


@dataclass(slots=True)
class FilePatch:
    """The hunks for one file, with the paths its headers name (as written)."""

    old: str
    new: str
    hunks: list[Hunk] = field(default_factory=list)
    from_git_line: bool = False  # named by ``diff --git``; its ---/+++ lines may follow


def split_lines(text: str) -> list[str]:
    """``text`` cut after each ``\\n`` only (``str.splitlines`` also cuts at form feeds)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def newline_of(content: str) -> str:
    """The file's own line end, which inserted lines get whatever the answer used."""
    first = content.find("\n")
    return "\r\n" if first > 0 and content[first - 1] == "\r" else "\n"


def _token(header: str) -> str:
    """The path of a ``---``/``+++`` line (git and difflib put a tab before any date)."""
    words = header[4:].split("\t")[0].split()
    return words[0] if words else ""


def parse_patch(text: str) -> list[FilePatch]:
    """Every file section of ``text`` that a ``---``/``+++`` pair or ``diff --git`` opens."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()  # what follows the last newline is no line
    patches: list[FilePatch] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            words = line.split()
            patches.append(FilePatch(words[2] if len(words) > 2 else "",
                                     words[3] if len(words) > 3 else "", from_git_line=True))
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _token(line), _token(lines[i + 1])
            last = patches[-1] if patches else None
            if last is not None and last.from_git_line and not last.hunks:
                last.old, last.new, last.from_git_line = old, new, False
            else:
                patches.append(FilePatch(old, new))
            i += 1
        elif patches and (match := _HUNK.match(line)):
            numbers = [int(n) if n is not None else None for n in match.groups()]
            old_len = 1 if numbers[1] is None and numbers[0] is not None else numbers[1]
            new_len = 1 if numbers[3] is None and numbers[2] is not None else numbers[3]
            readings, i = _readings(lines, i + 1, old_len, new_len)
            patches[-1].hunks.append(Hunk(numbers[0], old_len, readings))
            continue
        i += 1
    return patches


def _readings(lines: list[str], start: int, old_len: int | None,
              new_len: int | None) -> tuple[tuple[Reading, ...], int]:
    """The readings of the hunk body at ``lines[start]``, and the index after the body."""
    loose = _loose_end(lines, start)
    counted = None if old_len is None or new_len is None else _counted_end(
        lines, start, old_len, new_len)
    if counted is None or counted == loose:
        return (_read(lines[start:loose]),), loose
    if counted < loose:  # the counts end the hunk early: wrong, or diff-like prose follows
        return (_read(lines[start:loose]), _read(lines[start:counted])), loose
    # the counts run on over a "---"/"+++" pair (a removed "-- x" line), as git reads
    # them, or over blank lines that are context by the counts, or layout if they are off
    readings = [_read(lines[start:counted])]
    if all(not line for line in lines[loose:counted]):
        readings.append(_read(lines[start:loose]))
    return tuple(readings), counted


def _loose_end(lines: list[str], start: int) -> int:
    """Where the body ends when the counts are not trusted: at the first line no hunk has."""
    i = start
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git ") or (
                line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")):
            break
        if line and line[0] not in " +-\\":
            break  # a fence, prose, the next @@ header
        i += 1
    while i > start and not lines[i - 1]:
        i -= 1  # blank lines after a diff are usually layout, not context
    return i


def _counted_end(lines: list[str], start: int, old_len: int, new_len: int) -> int | None:
    """Where the body ends by the header's counts; None if the lines do not add up."""
    old = new = 0
    i = start
    while (old, new) != (old_len, new_len):
        if i >= len(lines) or old > old_len or new > new_len:
            return None
        tag = lines[i][:1] or " "  # an empty line is blank context that lost its space
        if tag not in " +-\\":
            return None
        old += tag in " -"
        new += tag in " +"
        i += 1
    while i < len(lines) and lines[i].startswith("\\"):
        i += 1
    return i


def _read(body: list[str]) -> Reading:
    ops: list[Op] = []
    no_newline = False
    for line in body:
        if line.startswith("\\"):  # "\ No newline at end of file" for the line above
            no_newline = no_newline or bool(ops and ops[-1][0] != "-")
            continue
        ops.append((line[0], line[1:]) if line else (" ", ""))
    return Reading(tuple(ops), no_newline)


def _key(line: str) -> str:
    """What must match: trailing whitespace and line ends are lost too easily to count."""
    return line.rstrip()


def _positions(expected: int, low: int, high: int) -> Iterator[int]:
    """``low..high`` by distance from ``expected``, the nearer first."""
    if low > high:
        return
    centre = min(max(expected, low), high)
    yield centre
    for step in range(1, high - low + 1):
        if centre + step <= high:
            yield centre + step
        if centre - step >= low:
            yield centre - step
        if centre + step > high and centre - step < low:
            return


def _locate(keys: list[str], old: list[str], expected: int, cursor: int) -> int | None:
    """Where ``old`` occurs: after the previous hunk if it can, nearest ``expected``."""
    if not old:
        return min(max(expected, 0), len(keys))
    want = [_key(line) for line in old]
    last = len(keys) - len(want)
    for low, high in ((cursor, last), (0, min(cursor - 1, last))):
        for at in _positions(expected, low, high):
            if keys[at] == want[0] and keys[at : at + len(want)] == want:
                return at
    return None


def apply_hunks(content: str, hunks: Sequence[Hunk]) -> str:
    """``content`` with ``hunks`` applied in order; DiffError names a hunk that fits nowhere."""
    newline = newline_of(content)
    lines = split_lines(content)
    keys = [_key(line) for line in lines]
    cursor = shift = 0
    for number, hunk in enumerate(hunks, 1):
        anchor = hunk.anchor
        expected = cursor if anchor is None else anchor + shift
        if not any(reading.ops for reading in hunk.readings):
            raise DiffError(f"hunk {number} of the diff has no lines")
        for reading in hunk.readings:
            at = _locate(keys, reading.old, expected, cursor)
            if at is not None:
                break
        else:
            raise DiffError(f"hunk {number} of the diff does not match the file")
        end = at + len(reading.old)
        new = _render(reading, lines[at:end], newline)
        lines[at:end] = new
        keys[at:end] = [_key(line) for line in new]
        shift = (shift if anchor is None else at - anchor) + len(new) - len(reading.old)
        cursor = at + len(new)
    for i in range(len(lines) - 1):  # only the last line may lack its newline
        if not lines[i].endswith("\n"):
            lines[i] += newline
    return "".join(lines)


def _render(reading: Reading, here: list[str], newline: str) -> list[str]:
    """The hunk's new lines: context as the file has it, added lines in the file's line end."""
    out: list[str] = []
    i = 0
    for tag, text in reading.ops:
        if tag == "+":
            out.append(text + newline)
            continue
        if tag == " ":
            out.append(here[i])
        i += 1
    if reading.no_newline and out:
        out[-1] = out[-1].rstrip("\r\n")
    return out
