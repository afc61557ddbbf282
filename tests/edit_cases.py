"""Random edits of real files, rendered the ways models and tools express them.

A :class:`Case` is a standard-library file and a random edit of it (line ranges
replaced, inserted or deleted, sometimes at the start or end, sometimes changing the
final newline; sometimes the file has CRLF line ends or lacks its final newline). From
it come unified diffs (difflib at any context size, and ``git diff`` run in batches),
SEARCH/REPLACE blocks, and answers that wrap them in prose the way chats do.
"""

from __future__ import annotations

import difflib
import os
import random
import re
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from dreamscape_tui.core.answer import Answer

_MARKER = re.compile(r"^(={5,9}[ \t]*|<{5,9} ?SEARCH.*|>{5,9} ?REPLACE.*)$")
_ELLIPSIS = re.compile(r"^\s*(\.\.\.|…)\s*$")
_BEFORE = ["The test fails because of this; here is the fix:", "Apply this patch.",
           "I changed the function as follows:", "Here you go."]
_AFTER = ["This should make the test pass.", "Let me know if anything else fails.",
          "That is all.", "Run the tests again afterwards."]
GIT = ["git", "-c", "core.autocrlf=false", "-c", "core.safecrlf=false", "-c",
       "diff.noprefix=false", "-c", "apply.whitespace=nowarn"]


@dataclass(frozen=True, slots=True)
class Text:
    """A file as lines without their ends, its line end, and whether it ends with one."""

    lines: tuple[str, ...]
    newline: str = "\n"
    final_newline: bool = True

    def render(self) -> str:
        body = self.newline.join(self.lines)
        return body + self.newline if self.lines and self.final_newline else body


@dataclass(frozen=True, slots=True)
class Case:
    """One random edit: ``ops`` are (start, end, new lines) on the original, in order."""

    name: str
    original: Text
    ops: tuple[tuple[int, int, tuple[str, ...]], ...]
    final_newline: bool

    @property
    def edited(self) -> Text:
        lines = list(self.original.lines)
        for start, end, new in reversed(self.ops):
            lines[start:end] = new
        return Text(tuple(lines), self.original.newline, self.final_newline)


def stdlib_sources(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` (name, text) pairs of standard-library modules: UTF-8, LF, 1-60 KB."""
    root = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(p for p in root.glob("*/*.py") if "site-packages" not in p.parts)
    paths += sorted(root.glob("*.py"))
    chosen: list[tuple[str, str]] = []
    for path in rng.sample(paths, len(paths)):
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "\r" not in text and 1_000 <= len(text) <= 60_000 and text.strip():
            chosen.append((path.stem, text))
            if len(chosen) == count:
                break
    return chosen


def random_case(rng: random.Random, name: str, source: str) -> Case | None:
    """A random edit of ``source``; None when it would change nothing or empty the file."""
    lines = tuple(source.split("\n")[:-1] if source.endswith("\n") else source.split("\n"))
    original = Text(lines, "\r\n" if rng.random() < 0.1 else "\n", rng.random() > 0.1)
    ops: list[tuple[int, int, tuple[str, ...]]] = []
    taken = 0
    for start in sorted(_starts(rng, len(lines))):
        if start < taken:
            continue
        kind = rng.choice(["replace", "insert", "delete"])
        end = start if kind == "insert" else min(start + rng.randint(1, 4), len(lines))
        new = () if kind == "delete" else _new_lines(rng, lines, start)
        ops.append((start, end, new))
        taken = end + 1  # keep edits apart, as a model's separate changes would be
    final = not original.final_newline if rng.random() < 0.15 else original.final_newline
    case = Case(name, original, tuple(ops), final)
    edited = case.edited
    if edited.render() == original.render() or not "".join(edited.lines).strip():
        return None
    return case


def _starts(rng: random.Random, size: int) -> set[int]:
    starts = {rng.randrange(size + 1) for _ in range(rng.choice([1, 1, 2, 3, 4]))}
    if rng.random() < 0.15:
        starts.add(0)
    if rng.random() < 0.15:
        starts.add(max(size - rng.randint(0, 2), 0))
    return starts


def _new_lines(rng: random.Random, lines: tuple[str, ...], start: int) -> tuple[str, ...]:
    """Changed lines like a fix's: edited neighbours, copies from elsewhere, blanks.

    Copies make contexts occur more than once; no bare ``...`` is copied (parse_edit
    would take it for elided code).
    """
    out = []
    for n in range(rng.randint(1, 4)):
        pick = rng.random()
        near = lines[min(start + n, len(lines) - 1)] if lines else ""
        if pick < 0.4:
            out.append(f"{near}  # fixed {n}" if near.strip() else f"fixed_{n} = {n}")
        elif pick < 0.7:
            copy = rng.choice(lines) if lines else ""
            out.append("" if _ELLIPSIS.match(copy) else copy)
        elif pick < 0.85:
            out.append("")
        else:
            indent = near[: len(near) - len(near.lstrip())]
            out.append(f"{indent}value_{start}_{n} = compute({n})")
    return tuple(out)


def difflib_diff(case: Case, context: int, path: str) -> str:
    """The case as ``difflib.unified_diff`` prints it, with git's no-newline markers."""
    lines = difflib.unified_diff(_cut(case.original), _cut(case.edited), f"a/{path}",
                                 f"b/{path}", n=context)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def _cut(text: Text) -> list[str]:
    rendered = text.render()
    parts = rendered.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def git_diffs(cases: list[Case], context: int, work: Path) -> dict[str, str]:
    """``git diff --no-index`` of every case at once, by case name (files named by case)."""
    for case in cases:
        for side, text in (("old", case.original), ("new", case.edited)):
            path = work / side / f"{case.name}.py"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(text.render().encode())
    proc = subprocess.run([*GIT, "diff", "--no-index", "--no-color", "--no-ext-diff",
                           f"-U{context}", "old", "new"], cwd=work, capture_output=True,
                          env=_git_env(work), check=False)
    assert proc.returncode == 1, proc.stderr.decode()  # 1: the trees differ
    sections = re.split(r"^(?=diff --git )", proc.stdout.decode(), flags=re.MULTILINE)
    by_name = {}
    for section in sections[1:]:
        name = re.match(r"diff --git a/old/(\S+)\.py ", section)
        assert name, section[:200]
        by_name[name.group(1)] = section
    return by_name


def renamed(diff: str, name: str, path: str) -> str:
    """A ``git_diffs`` section naming ``path`` instead of the batch's old/ and new/ files."""
    return diff.replace(f"a/old/{name}.py", f"a/{path}").replace(f"b/new/{name}.py", f"b/{path}")


def git_apply(patches: dict[str, tuple[Text, str]], work: Path, *, zero: bool) -> dict[str, str]:
    """Files after ``git apply`` of every (original, diff) by path: git's own verdict."""
    for path, (original, _) in patches.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_bytes(original.render().encode())
    patch = work / "all.patch"
    patch.write_bytes("".join(diff for _, diff in patches.values()).encode())
    proc = subprocess.run([*GIT, "apply", *(["--unidiff-zero"] if zero else []), str(patch)],
                          cwd=work, capture_output=True, env=_git_env(work), check=False)
    assert proc.returncode == 0, proc.stderr.decode()[:2000]
    return {path: (work / path).read_bytes().decode() for path in patches}


def _git_env(work: Path) -> dict[str, str]:
    """No user or system git config, and no repository around the temp directory."""
    return {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "HOME": str(work), "GIT_CEILING_DIRECTORIES": str(work.parent)}


def search_replace(case: Case, path: str, rng: random.Random) -> str | None:
    """The case as SEARCH/REPLACE blocks, each unique where it applies; None if inexpressible.

    Blocks apply in turn, so each one's SEARCH is taken from the file as the blocks
    before it left it, grown by context lines until it occurs once.
    """
    current = list(case.original.lines)
    offset = 0
    blocks = []
    for start, end, new in case.ops:
        low, high = start + offset, end + offset
        first, last = low, high
        while (last == first or _occurrences(current, current[first:last]) != 1) and (
                first > 0 or last < len(current)):
            if first > 0 and (last == len(current) or rng.random() < 0.5):
                first -= 1
            else:
                last += 1
        search, replace = current[first:last], [*current[first:low], *new, *current[high:last]]
        if not search or any(_MARKER.match(line) for line in (*search, *replace)):
            return None
        head = f"{path}\n" if rng.random() < 0.4 else ""
        blocks.append(head + "<<<<<<< SEARCH\n" + "".join(f"{line}\n" for line in search)
                      + "=======\n" + "".join(f"{line}\n" for line in replace)
                      + ">>>>>>> REPLACE\n")
        current[first:last] = replace
        offset += len(new) - (end - start)
    return rng.choice(["\n", ""]).join(blocks)


def _occurrences(lines: list[str], wanted: list[str]) -> int:
    size = len(wanted)
    return sum(1 for i in range(len(lines) - size + 1)
               if lines[i] == wanted[0] and lines[i : i + size] == wanted)


def chat_like(body: str, rng: random.Random) -> str:
    """A diff as a chat page may show it: blank context lines lose their space, bare paths."""
    if rng.random() < 0.3:
        body = re.sub(r"^ (\r?)$", r"\1", body, flags=re.MULTILINE)
    if rng.random() < 0.2:
        body = re.sub(r"^(---|\+\+\+) [ab]/", r"\1 ", body, flags=re.MULTILINE)
    return body


def answers(body: str, language: str, rng: random.Random) -> tuple[Answer, Answer]:
    """``body`` in answer prose, as text only and as text plus the exact code block."""
    before, after = rng.choice(_BEFORE), rng.choice(_AFTER)
    if rng.random() < 0.25:  # no fence: the visible text of a chat page
        text = f"{before}\n{body}{after}\n"
    else:
        text = f"{before}\n\n```{language}\n{body}```\n\n{after}\n"
    block = body.removesuffix("\n")
    if rng.random() < 0.15:
        text, block = _crlf(text), _crlf(block)
    return Answer(text=text), Answer(text=text, code_blocks=(block,))


def _crlf(text: str) -> str:
    return re.sub(r"\r?\n", "\r\n", text)
