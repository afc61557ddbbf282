"""Raw metrics (loc, lloc, sloc, ...) identical to ``radon.raw.analyze``, in linear time.

Why this exists: ``radon.raw.analyze`` is pure Python and re-tokenizes every logical line
separately (and a multi-line statement once per extra line, so it is quadratic in the
statement's length). It dominates the cost of a scan. This module returns the very same
seven numbers with one regular-expression pass over the file.

How radon counts, and why the fast pass is faithful to it:

* radon works on ``[line.strip() for line in source.splitlines()]`` (so form feeds,
  ``\\x1c``, ``\\u2028`` ... end lines too, and indentation is gone). From a line it
  tokenizes the stripped lines joined by ``\\n`` and adds lines until ``tokenize`` neither
  raises ``TokenError`` nor yields an ``ERRORTOKEN``: that span is a *group* (a logical
  line). Since the text has no indentation, a group ends where ``tokenize``, run once
  over the whole joined text, is back in its start state: at a ``NEWLINE``, or an ``NL``
  outside brackets. Two exceptions come from the joined buffer having no final newline:
  an empty line that ends a backslash continuation does not end the group (radon's
  buffer then ends in backslash-newline, an error, so radon reads on), and a last empty
  line is only a group of its own if the text before it is complete. An ``ERRORTOKEN``
  or ``TokenError`` in the joined text means radon can never close that group and
  raises ``SyntaxError``.
* a group is a comment line if its first token is a COMMENT and the rest are newlines, a
  docstring if that token is a STRING (counted as one single-comment line if the string
  is on one line, else as ``multi`` / ``blank`` lines), otherwise code (``sloc`` /
  ``blank`` per line); its logical lines come from ``radon.raw._logical``: 0 without
  tokens, else 1, or 2 if there is a ``:`` that is not the last token.

``_scan`` finds strings (with ``tokenize``'s own rules), comments, brackets, ``:``, ``;``
and continuations with one regex and skips everything else in C. Anything it is not sure
of makes it give up: groups with ``;`` go through radon's own ``_generate`` and
``_logical``; an unexpected character, an unclosed string or bracket, or a stray closing
bracket makes the whole file go through ``_tokenize_path`` (one ``tokenize`` pass,
classified with radon's own helpers), which is exact for every input.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Sequence
from typing import NamedTuple

from radon.raw import _generate, _logical, is_single_token

__all__ = ["RawMetrics", "RawMetricsError", "raw_metrics", "scan_stats"]


class RawMetrics(NamedTuple):
    """The fields of ``radon.raw.Module``, in the same order."""

    loc: int
    lloc: int
    sloc: int
    comments: int
    multi: int
    blank: int
    single_comments: int


class RawMetricsError(Exception):
    """Radon's ``analyze`` would raise ``SyntaxError`` on this source; ``str`` says why."""


# How often the exact-but-slower paths ran (per process): the benchmark reports them.
scan_stats: dict[str, int] = {"files": 0, "file_fallbacks": 0, "group_fallbacks": 0}

# tokenize's string prefixes (``tokenize._all_string_prefixes``), lower-cased.
_PREFIXES = frozenset({"b", "r", "u", "f", "br", "rb", "fr", "rf"})

# Characters that can only be parts of NAME, NUMBER or OP tokens (never of ERRORTOKENs),
# skipped in bulk by the possessive first group. Every other character is dispatched.
_GAP = r"([\w \t%&*+,\-./<=>@^|~]*+)"
_ALTERNATIVES = (
    r"(\n)",  # 2: end of a line
    r"(#[^\n]*+)",  # 3: comment
    # 4: triple-quoted string: tokenize's Single3/Double3 (``\\.`` may eat a newline)
    r"('''[^'\\]*+(?:(?:\\.|'(?!''))[^'\\]*+)*+'''"
    r'|"""[^"\\]*+(?:(?:\\.|"(?!""))[^"\\]*+)*+""")',
    # 5: one-line string, which may only go on through backslash-newline (ContStr);
    # never the opening of an unclosed triple-quoted one (tokenize: EOF in string)
    r"""((?!''')'[^\n'\\]*+(?:\\.[^\n'\\]*+)*+'"""
    r'''|(?!""")"[^\n"\\]*+(?:\\.[^\n"\\]*+)*+")''',
    r"([(\[{])",  # 6: opening bracket
    r"([)\]}])",  # 7: closing bracket
    r"(:(?!=))",  # 8: colon
    r"(:=|!=)",  # 9: other operators made of dispatched characters
    r"(;)",  # 10: statement separator
    r"(\\\n)",  # 11: explicit line continuation
    r"(.)",  # 12: anything else: tokenize would yield an ERRORTOKEN, give up
)
_SCAN = re.compile(_GAP + "(?:" + "|".join(_ALTERNATIVES) + ")", re.DOTALL)


def raw_metrics(source: str) -> RawMetrics:
    """Return exactly ``radon.raw.analyze(source)``; raise ``RawMetricsError`` where it raises."""
    lines = [line.strip() for line in source.splitlines()]
    scan_stats["files"] += 1
    result = _scan(lines)
    if result is None:
        scan_stats["file_fallbacks"] += 1
        result = _tokenize_path(lines)
    return result


def _scan(lines: list[str]) -> RawMetrics | None:
    """The fast pass; ``None`` when the file has something it does not handle itself."""
    if not lines:
        return RawMetrics(0, 0, 0, 0, 0, 0, 0)
    # radon's last buffer has no final newline: add it (a line that ends in a backslash
    # or in an open string then fails here as it fails there), unless the last line is
    # empty: radon's buffer then ends with the previous line's newline and that empty
    # line is only a line of its own if the text before it is complete.
    trailing_empty = not lines[-1]
    text = "\n".join(lines) if trailing_empty else "\n".join(lines) + "\n"
    lloc = sloc = comments = multi = blank = single = 0
    depth = line = start = 0  # bracket depth, current line, first line of the group
    nsig = ncom = 0  # tokens other than comments/newlines in the group; comments
    has_colon = colon_last = semicolon = continued = False
    lead_newline = False  # the group's first token is the NEWLINE of an empty line
    first_string = 0  # the group starts with a STRING token: 1 on one line, 2 on more
    for m in _SCAN.finditer(text):
        kind = m.lastindex
        gap = m.group(1)
        if gap and not gap.isspace():
            nsig += 1
            colon_last = False
        if kind == 2:  # newline: the group ends here unless inside brackets, or unless
            # it is an empty line ending a continuation (radon's buffer would end with
            # the backslash-newline, which tokenize rejects, so radon reads on)
            if depth == 0 and continued and not lines[line]:
                lead_newline = lead_newline or nsig == 0
            elif depth == 0:
                if semicolon:
                    try:
                        delta = _exact_group(lines[start : line + 1])
                    except tokenize.TokenError:  # cannot happen for a closed group
                        return None
                    lloc += delta[0]
                    sloc += delta[1]
                    comments += delta[2]
                    multi += delta[3]
                    blank += delta[4]
                    single += delta[5]
                else:
                    comments += ncom
                    if start == line:
                        empty = 0 if lines[line] else 1
                    else:
                        empty = lines[start : line + 1].count("")
                    if nsig == 0 and ncom == 1 and not lead_newline:
                        single += 1
                    elif nsig == 1 and ncom == 0 and first_string and not lead_newline:
                        lloc += 1
                        if first_string == 1:
                            single += 1
                        else:
                            multi += line + 1 - start - empty
                            blank += empty
                    else:
                        sloc += line + 1 - start - empty
                        blank += empty
                        if has_colon:
                            lloc += 1 if colon_last else 2
                        elif nsig:
                            lloc += 1
                start = line + 1
                nsig = ncom = first_string = 0
                has_colon = colon_last = semicolon = lead_newline = False
            line += 1
            continued = False
        elif kind == 3:
            ncom += 1
        elif kind == 4 or kind == 5:
            newlines = text.count("\n", m.start(kind), m.end(kind))
            if nsig == 0 or (nsig == 1 and gap.lstrip(" \t").lower() in _PREFIXES):
                nsig = 1  # the prefix (if any) and the string are one STRING token
                first_string = 2 if newlines else 1
            else:
                nsig += 1
            colon_last = False
            line += newlines
        elif kind == 6:
            nsig += 1
            colon_last = False
            depth += 1
        elif kind == 7:
            nsig += 1
            colon_last = False
            depth -= 1
            if depth < 0:
                return None
        elif kind == 8:
            nsig += 1
            has_colon = colon_last = True
        elif kind == 9:
            nsig += 1
            colon_last = False
        elif kind == 10:
            nsig += 1
            colon_last = False
            semicolon = True
        elif kind == 11:
            line += 1
            continued = True
        else:
            return None
    if trailing_empty and start == len(lines) - 1:
        blank += 1  # the final empty line, a group of its own
        start += 1
    if depth or start != len(lines):  # unclosed bracket or continuation at the end
        return None
    loc = sloc + blank + multi + single
    return RawMetrics(loc, lloc, sloc, comments, multi, blank, single)


def _exact_group(group: list[str]) -> tuple[int, int, int, int, int, int]:
    """Count one group by tokenizing it alone, exactly as radon does.

    Used for groups with ``;``: radon counts the logical lines of each ``;``-separated
    part with a quirk (a ``:`` followed by exactly one token counts as one line in all
    but the last part) that needs real tokens.
    """
    scan_stats["group_fallbacks"] += 1
    tokens = _generate("\n".join(group))
    return _classify(tokens, group)


def _classify(
    tokens: Sequence[tokenize.TokenInfo], group: list[str]
) -> tuple[int, int, int, int, int, int]:
    """radon's per-group bookkeeping: (lloc, sloc, comments, multi, blank, single)."""
    sloc = multi = blank = single = 0
    comments = sum(1 for t in tokens if t[0] == tokenize.COMMENT)
    if is_single_token(tokenize.COMMENT, tokens):
        single = 1
    elif is_single_token(tokenize.STRING, tokens):
        if tokens[0][2][0] == tokens[0][3][0]:
            single = 1
        else:
            blank = group.count("")
            multi = len(group) - blank
    else:
        blank = group.count("")
        sloc = len(group) - blank
    lloc = int(_logical(tokens))
    return lloc, sloc, comments, multi, blank, single


def _tokenize_path(lines: list[str]) -> RawMetrics:
    """The exact slow path: tokenize the joined lines once and split it into groups.

    A group ends at a NEWLINE, or an NL outside brackets (a blank or comment line),
    except at a NEWLINE on an empty line (it ends a backslash continuation, and radon's
    buffer for that group would end with the backslash-newline); the lines after the
    last end (a comment ending a continuation at EOF, or the final empty line that
    ``tokenize`` never reads) form the last group.
    """
    if not lines:
        return RawMetrics(0, 0, 0, 0, 0, 0, 0)
    text = "\n".join(lines)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise RawMetricsError(f"unterminated statement or string ({exc.args[0]})") from None
    endmarker = tokens[-1]
    totals = [0, 0, 0, 0, 0, 0]
    depth = start = 0
    group: list[tokenize.TokenInfo] = []
    for tok in tokens[:-1]:
        kind = tok[0]
        if kind == tokenize.ERRORTOKEN:
            raise RawMetricsError(f"line {tok[2][0]}: unexpected {tok[1]!r}")
        group.append(tok)
        if kind == tokenize.OP:
            if tok[1] in ("(", "[", "{"):
                depth += 1
            elif tok[1] in (")", "]", "}"):
                depth -= 1
        elif (kind == tokenize.NL or kind == tokenize.NEWLINE) and depth == 0:
            end = tok[2][0]  # rows are 1-based: the group is lines[start:end]
            if kind == tokenize.NEWLINE and not lines[end - 1]:
                continue
            _add(totals, _classify([*group, endmarker], lines[start:end]))
            start, group = end, []
    if start < len(lines):
        _add(totals, _classify([*group, endmarker], lines[start:]))
    lloc, sloc, comments, multi, blank, single = totals
    return RawMetrics(sloc + blank + multi + single, lloc, sloc, comments, multi, blank, single)


def _add(totals: list[int], delta: tuple[int, ...]) -> None:
    """Add ``delta`` to ``totals`` element-wise, in place."""
    for i, value in enumerate(delta):
        totals[i] += value
