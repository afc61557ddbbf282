"""Turn a model's answer into the new content of one target file, or say why not.

Accepted formats, tried in this order:

1. SEARCH/REPLACE blocks (``<<<<<<< SEARCH`` / ``=======`` / ``>>>>>>> REPLACE``), each
   optionally preceded by a path line, applied in turn; a search text that does not
   match exactly is matched again ignoring trailing whitespace and indentation drift;
2. unified diffs (``--- a/x`` / ``+++ b/x`` / ``@@``, with or without ``diff --git``),
   applied by context, not by line numbers (models get those wrong): see
   :mod:`dreamscape_tui.core.diffs`; sections for other files are skipped;
3. a fenced code block holding the whole file.

Each format is looked for in the answer's text, then in its code blocks (exact copies,
where a chat page's visible text may be garbled). CRLF answers fit LF files and the
other way round: a file keeps its own line ends.

Every edit is checked before it can be validated: paths must stay inside the project,
name the target, and not name a test file (tests are the specification, unless the
target is itself a broken test file); the result must not be empty or contain elided
code (``# ... rest unchanged``, a bare ``...`` standing for code). An answer that leaves
the file as it was is :class:`NoChange`: a failed attempt with nothing to validate.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from dreamscape_tui.core.answer import Answer, fenced_blocks
from dreamscape_tui.core.diffs import DiffError, apply_hunks, newline_of, parse_patch, split_lines
from dreamscape_tui.core.testrun import is_test_file

_SR_BLOCK = re.compile(
    r"(?:^(?P<path>[^\n<>=]*?\S)[ \t]*\n(?:```[^\n]*\n)?)?"
    r"^<{5,9} ?SEARCH[ \t]*\n(?P<search>.*?)^={5,9}[ \t]*\n(?P<replace>.*?)^>{5,9} ?REPLACE[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_PATHLIKE = re.compile(r"^\S*/\S*$|^\S+\.\w+$")  # a path, not a sentence before a block
_ELISION = re.compile(
    r"^\s*(#|//)\s*(\.\.\.|…)|^\s*#.*\b(rest of (the )?(code|file|class|function)|"
    r"(code|file|function)s? (remains? )?unchanged|existing code|unchanged code|"
    r"same as (before|above))\b",
    re.IGNORECASE | re.MULTILINE,
)
_BARE_ELLIPSIS = re.compile(r"^\s*(\.\.\.|…)\s*$", re.MULTILINE)


class EditRejected(Exception):
    """The answer holds no acceptable edit; ``str()`` is the reason, for the attempt log."""


class Mismatch(EditRejected):
    """The edit does not fit the file: another copy of it (a code block) may still fit."""


class NoChange(EditRejected):
    """The answer leaves the file as it is: a failed attempt, with nothing to validate."""

    def __init__(self) -> None:
        super().__init__("the answer changes nothing")


@dataclass(frozen=True, slots=True)
class Edit:
    """The candidate new content of the target file and how it was expressed."""

    content: str
    format: str  # "search-replace" | "diff" | "whole-file"


def _clean_path(raw: str) -> str:
    path = raw.strip().strip("`*'\":").removeprefix("a/").removeprefix("b/")
    return path.removeprefix("./")


def _names_target(raw: str, target: str) -> bool:
    """Whether ``raw`` names the target (naming no file at all counts as the target).

    EditRejected if it leaves the project, or names a test file when the target is not
    one: those answers are refused whatever else they hold.
    """
    path = _clean_path(raw)
    if not path or path == "/dev/null":
        return True
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise EditRejected(f"edit outside the project: {raw.strip()!r}")
    if path == target or target.endswith("/" + path):
        return True
    if is_test_file(path) and not is_test_file(target):
        raise EditRejected(f"edit to a test file ({path}): tests are the specification")
    return False


def _check_path(raw: str, target: str) -> None:
    if not _names_target(raw, target):
        raise EditRejected(f"edit to {_clean_path(raw)}, not the target {target}")


def _find_drifted(keys: list[str], search: list[str]) -> tuple[int, int] | None:
    """Where ``search`` occurs ignoring trailing spaces and indentation drift, if once.

    Returns (first line, number of lines).
    """
    wanted = [line.strip() for line in search]
    while wanted and not wanted[-1]:
        wanted.pop()
    if not wanted:
        return None
    stripped = [key.strip() for key in keys]
    hits = [i for i in range(len(keys) - len(wanted) + 1)
            if stripped[i : i + len(wanted)] == wanted]
    return (hits[0], len(wanted)) if len(hits) == 1 else None


def _reindent(replace: str, search: str, matched: str) -> str:
    """Shift ``replace`` by the indentation difference between the search and the file."""
    def indent(text: str) -> str:
        first = next((line for line in text.splitlines() if line.strip()), "")
        return first[: len(first) - len(first.lstrip())]

    have, want = indent(search), indent(matched)
    if have == want:
        return replace
    out = []
    for line in split_lines(replace):
        out.append(want + line[len(have):] if line.startswith(have) and line.strip() else line)
    return "".join(out)


def apply_search_replace(content: str, text: str, target: str) -> str | None:
    """Apply every SEARCH/REPLACE block in ``text`` in turn; None if there are none.

    Blocks are whole lines, so they are matched as lines, ignoring line ends (a CRLF
    answer still fits an LF file, and the file keeps its own line ends and its final
    newline or lack of one, which this format cannot express).
    """
    blocks = list(_SR_BLOCK.finditer(text.replace("\r\n", "\n")))
    if not blocks:
        return None
    for block in blocks:
        path = block.group("path")
        if path and _PATHLIKE.match(path.strip("`*'\":")):
            _check_path(path, target)
    newline = newline_of(content)
    lines = split_lines(content)
    for block in blocks:
        search, replace = block.group("search"), block.group("replace")
        if not search:  # aider's "create a file": there is no file to create here
            raise EditRejected("a SEARCH block is empty")
        keys = [line.rstrip("\r\n") for line in lines]
        wanted = search.split("\n")[:-1]
        hits = [i for i in range(len(keys) - len(wanted) + 1)
                if keys[i : i + len(wanted)] == wanted]
        span = (hits[0], len(wanted)) if len(hits) == 1 else _find_drifted(keys, wanted)
        if span is None:
            first = next((line for line in wanted if line.strip()), "")[:60]
            raise Mismatch(f"SEARCH block does not match the file uniquely: {first!r}")
        at, size = span
        matched = "".join(lines[at : at + size])
        lines[at : at + size] = [line + newline for line in
                                 _reindent(replace, search, matched).split("\n")[:-1]]
    result = "".join(lines)
    if not content.endswith("\n") and result.endswith("\n"):
        result = result.removesuffix(newline)
    return result


def apply_unified_diff(content: str, text: str, target: str) -> str | None:
    """Apply the diff's sections for the target; None if ``text`` holds no diff.

    Sections for other files are skipped (a model may show a neighbouring change), but
    one that leaves the project or edits a test file refuses the whole answer.
    """
    patches = parse_patch(text)
    if not patches:
        return None
    mine = []
    for patch in patches:  # both paths are checked: either may leave the project
        old, new = _names_target(patch.old, target), _names_target(patch.new, target)
        if old and new:
            mine.append(patch)
    if not mine:
        first = patches[0]
        named = first.old if _names_target(first.new, target) else first.new
        raise EditRejected(f"edit to {_clean_path(named)}, not the target {target}")
    if not any(patch.hunks for patch in mine):
        raise EditRejected("the diff has no hunks")
    for patch in mine:
        if _clean_path(patch.old) == "/dev/null":
            content = ""  # "a new file": the whole file, whatever the target held before
        try:
            content = apply_hunks(content, patch.hunks)
        except DiffError as exc:
            raise Mismatch(str(exc)) from exc
    return content


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


def answer_format(answer: Answer) -> str:
    """The edit format an answer attempted, whether or not its edit fits (what the
    learning statistics credit a refused answer to): the first of parse_edit's order it
    holds, or "" for an answer with no edit at all. ``Edit.format`` is the format of an
    edit that parsed."""
    sources = [answer.text, *answer.code_blocks]
    if any(_SR_BLOCK.search(source.replace("\r\n", "\n")) for source in sources):
        return "search-replace"
    try:
        if any(parse_patch(source) for source in sources):
            return "diff"
    except DiffError:
        return "diff"
    if any(b.strip() for b in answer.code_blocks) or any(
            b.code.strip() for b in fenced_blocks(answer.text)):
        return "whole-file"
    return ""


def parse_edit(answer: Answer, target: str, original: str) -> Edit:
    """The candidate content for ``target``; EditRejected with the reason otherwise."""
    sources = [answer.text, *answer.code_blocks]
    formats = (("search-replace", apply_search_replace), ("diff", apply_unified_diff))
    for name, apply in formats:
        result = _first_fit(apply, sources, original, target)
        if result is not None:
            return _checked(Edit(result, name), original)
    content = whole_file(answer, target)
    if content is None:
        raise EditRejected("no usable edit in the answer (no code block, diff or "
                           "SEARCH/REPLACE block)")
    return _checked(Edit(content, "whole-file"), original)


def _first_fit(apply: Callable[[str, str, str], str | None], sources: list[str],
               original: str, target: str) -> str | None:
    """The edit of the first source that holds one of this format and fits the file.

    A source whose edit does not fit yields to the next: a chat page's visible text can
    garble what its code blocks hold exactly. Refusals on principle are final.
    """
    mismatch: Mismatch | None = None
    for source in sources:
        try:
            result = apply(original, source, target)
        except Mismatch as exc:
            mismatch = mismatch or exc
            continue
        if result is not None:
            return result
    if mismatch is not None:
        raise mismatch
    return None


def _checked(edit: Edit, original: str) -> Edit:
    if edit.content == original:
        raise NoChange
    if not edit.content.strip():
        raise EditRejected("the fix empties the file")
    for match in _ELISION.finditer(edit.content):
        if match.group(0) not in original:
            raise EditRejected(f"the fix elides code: {match.group(0).strip()!r}")
    if len(_BARE_ELLIPSIS.findall(edit.content)) > len(_BARE_ELLIPSIS.findall(original)):
        raise EditRejected("the fix elides code: a bare '...' stands for code")
    return edit


def changed_share(original: str, candidate: str) -> float:
    """The share of the original's lines a candidate removes or rewrites (0..1)."""
    a, b = original.splitlines(), candidate.splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    return (max(len(a), len(b)) - kept) / max(len(a), 1)


def unified_diff(original: str, candidate: str, path: str) -> str:
    """A unified diff for people (review panels, prompts of later attempts).

    A side that lacks its final newline gets git's marker line: difflib alone would glue
    that line to the next one of the diff.
    """
    lines = difflib.unified_diff(split_lines(original), split_lines(candidate),
                                 f"a/{path}", f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)
