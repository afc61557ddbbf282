"""Turn a model's answer into the new content of one target file, or say why not.

Accepted formats, tried in this order:

1. SEARCH/REPLACE blocks (``<<<<<<< SEARCH`` / ``=======`` / ``>>>>>>> REPLACE``), each
   optionally preceded by a path line; a search text that does not match exactly is
   matched again ignoring trailing whitespace and indentation drift;
2. unified diffs (``--- a/x`` / ``+++ b/x`` / ``@@``), applied by context, not by line
   numbers (models get those wrong);
3. a fenced code block holding the whole file.

Every edit is checked before it can be validated: paths must stay inside the project,
name the target, and not name a test file (tests are the specification, unless the
target is itself a broken test file); the result must not be empty or contain elided
code (``# ... rest unchanged``, a bare ``...`` standing for code).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from dreamscape_tui.core.answer import Answer, fenced_blocks
from dreamscape_tui.core.testrun import is_test_file

_SR_BLOCK = re.compile(
    r"(?:^(?P<path>[^\n<>=`]*?\S)[ \t]*\n(?:```[^\n]*\n)?)?"
    r"^<{5,9} ?SEARCH[ \t]*\n(?P<search>.*?)^={5,9}[ \t]*\n(?P<replace>.*?)^>{5,9} ?REPLACE[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_DIFF_FILE = re.compile(r"^--- (?P<old>\S+).*\n\+\+\+ (?P<new>\S+).*$", re.MULTILINE)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@.*$", re.MULTILINE)
_ELISION = re.compile(
    r"^\s*(#|//)\s*(\.\.\.|…)|^\s*#.*\b(rest of (the )?(code|file|class|function)|"
    r"(code|file|function)s? (remains? )?unchanged|existing code|unchanged code|"
    r"same as (before|above))\b",
    re.IGNORECASE | re.MULTILINE,
)
_BARE_ELLIPSIS = re.compile(r"^\s*(\.\.\.|…)\s*$", re.MULTILINE)


class EditRejected(Exception):
    """The answer holds no acceptable edit; ``str()`` is the reason, for the attempt log."""


@dataclass(frozen=True, slots=True)
class Edit:
    """The candidate new content of the target file and how it was expressed."""

    content: str
    format: str  # "search-replace" | "diff" | "whole-file"


def _check_path(raw: str, target: str) -> None:
    path = raw.strip().strip("`*'\":").removeprefix("a/").removeprefix("b/")
    path = path.removeprefix("./")
    if not path or path == "/dev/null":
        return
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise EditRejected(f"edit outside the project: {raw.strip()!r}")
    if path != target and not target.endswith("/" + path):
        if is_test_file(path) and not is_test_file(target):
            raise EditRejected(f"edit to a test file ({path}): tests are the specification")
        raise EditRejected(f"edit to {path}, not the target {target}")


def _find_drifted(content: str, search: str) -> tuple[int, int] | None:
    """Locate ``search`` in ``content`` ignoring trailing spaces and indentation drift.

    Returns the character span of the matching lines, only if the match is unique.
    """
    lines = content.splitlines(keepends=True)
    wanted = [line.strip() for line in search.splitlines()]
    while wanted and not wanted[-1]:
        wanted.pop()
    if not wanted:
        return None
    stripped = [line.strip() for line in lines]
    hits = [i for i in range(len(lines) - len(wanted) + 1)
            if stripped[i : i + len(wanted)] == wanted]
    if len(hits) != 1:
        return None
    start = sum(len(line) for line in lines[: hits[0]])
    end = start + sum(len(line) for line in lines[hits[0] : hits[0] + len(wanted)])
    return start, end


def _reindent(replace: str, search: str, matched: str) -> str:
    """Shift ``replace`` by the indentation difference between the search and the file."""
    def indent(text: str) -> str:
        first = next((line for line in text.splitlines() if line.strip()), "")
        return first[: len(first) - len(first.lstrip())]

    have, want = indent(search), indent(matched)
    if have == want:
        return replace
    out = []
    for line in replace.splitlines(keepends=True):
        out.append(want + line[len(have):] if line.startswith(have) and line.strip() else line)
    return "".join(out)


def apply_search_replace(content: str, text: str, target: str) -> str | None:
    """Apply every SEARCH/REPLACE block in ``text``; None if there are none."""
    blocks = list(_SR_BLOCK.finditer(text))
    if not blocks:
        return None
    for block in blocks:
        if block.group("path"):
            _check_path(block.group("path"), target)
        search, replace = block.group("search"), block.group("replace")
        if not search.strip():
            raise EditRejected("a SEARCH block is empty")
        if content.count(search) == 1:
            content = content.replace(search, replace, 1)
            continue
        span = _find_drifted(content, search)
        if span is None:
            first = search.strip().splitlines()[0][:60]
            raise EditRejected(f"SEARCH block does not match the file uniquely: {first!r}")
        matched = content[span[0] : span[1]]
        if not replace.endswith("\n") and matched.endswith("\n"):
            replace += "\n"
        content = content[: span[0]] + _reindent(replace, search, matched) + content[span[1] :]
    return content


def apply_unified_diff(content: str, text: str, target: str) -> str | None:
    """Apply a unified diff's hunks by their context; None if ``text`` holds no diff."""
    headers = list(_DIFF_FILE.finditer(text))
    if not headers:
        return None
    for header in headers:
        _check_path(header.group("new") if header.group("new") != "/dev/null"
                    else header.group("old"), target)
    lines = content.splitlines(keepends=True)
    body = text[headers[0].end():]
    hunks = _HUNK.split(body)[1:]
    if not hunks:
        raise EditRejected("the diff has no hunks")
    cursor = 0
    for hunk in hunks:
        old, new = [], []
        for raw in hunk.splitlines(keepends=True):
            if raw.startswith(("---", "+++")):
                break
            if raw.startswith("\\"):  # "\ No newline at end of file"
                continue
            if raw.strip() == "" and not raw.startswith((" ", "+", "-")):
                tag, line = " ", "\n"  # a blank context line whose space was lost
            elif raw[:1] in ("+", "-", " "):
                tag, line = raw[:1], raw[1:]
            else:
                break  # the diff ended (a closing fence, prose)
            if tag in " -":
                old.append(line)
            if tag in " +":
                new.append(line)
        while old and new and old[-1].strip() == "" and new[-1].strip() == "":
            old.pop()
            new.pop()
        at = _locate(lines, old, cursor)
        if at is None:
            raise EditRejected("a diff hunk does not match the file")
        lines[at : at + len(old)] = new
        cursor = at + len(new)
    return "".join(lines)


def _locate(lines: list[str], old: list[str], cursor: int) -> int | None:
    if not old:
        return cursor
    want = [line.rstrip() for line in old]
    start: int
    for start in (*range(cursor, len(lines)), *range(0, cursor)):
        if [line.rstrip() for line in lines[start : start + len(old)]] == want:
            return start
    return None


def whole_file(answer: Answer, target: str) -> str | None:
    """The answer's whole-file code block: the only, or the longest, Python block."""
    blocks = list(answer.code_blocks) or [b.code for b in fenced_blocks(answer.text)]
    blocks = [b for b in blocks if b.strip()]
    if not blocks:
        return None
    code = max(blocks, key=len)
    first = code.splitlines()[0] if code else ""
    match = re.match(r"^\s*#\s*(?:file|path)?:?\s*(\S+\.py)\s*$", first)
    if match:
        _check_path(match.group(1), target)
    return code if code.endswith("\n") else code + "\n"


def parse_edit(answer: Answer, target: str, original: str) -> Edit:
    """The candidate content for ``target``; EditRejected with the reason otherwise."""
    sources = [answer.text, *answer.code_blocks]
    for source in sources:
        result = apply_search_replace(original, source, target)
        if result is not None:
            return _checked(Edit(result, "search-replace"), original)
    for source in sources:
        result = apply_unified_diff(original, source, target)
        if result is not None:
            return _checked(Edit(result, "diff"), original)
    content = whole_file(answer, target)
    if content is None:
        raise EditRejected("no usable edit in the answer (no code block, diff or "
                           "SEARCH/REPLACE block)")
    return _checked(Edit(content, "whole-file"), original)


def _checked(edit: Edit, original: str) -> Edit:
    if not edit.content.strip():
        raise EditRejected("the fix empties the file")
    for match in _ELISION.finditer(edit.content):
        if match.group(0) not in original:
            raise EditRejected(f"the fix elides code: {match.group(0).strip()!r}")
    if len(_BARE_ELLIPSIS.findall(edit.content)) > len(_BARE_ELLIPSIS.findall(original)):
        raise EditRejected("the fix elides code: a bare '...' stands for code")
    if edit.content == original:
        raise EditRejected("the fix changes nothing")
    return edit


def changed_share(original: str, candidate: str) -> float:
    """The share of the original's lines a candidate removes or rewrites (0..1)."""
    a, b = original.splitlines(), candidate.splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    return (max(len(a), len(b)) - kept) / max(len(a), 1)


def unified_diff(original: str, candidate: str, path: str) -> str:
    """A unified diff for people (review panels, prompts of later attempts)."""
    return "".join(difflib.unified_diff(original.splitlines(keepends=True),
                                        candidate.splitlines(keepends=True),
                                        f"a/{path}", f"b/{path}"))
