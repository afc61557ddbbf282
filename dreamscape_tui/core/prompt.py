"""Build the heal prompt: the file, the failure, its tests, its metrics, and history.

Earlier attempts are part of the prompt (what they changed and how they failed), so
the model does not repeat a fix that already failed: this is the execution log
conditioning the next try. A hint typed by the user in review goes in verbatim.

What the learning loop (``learning.py``) knows conditions it too: fixes of the same
failure kind this project accepted before (their diffs, most recent first, as many as
``[learning] examples`` and ``example_chars`` allow), and, once a model has enough
evidence, the one edit format it gets kept most often instead of a choice of three.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dreamscape_tui.core.checks import Failure
from dreamscape_tui.core.learning import Example
from dreamscape_tui.core.metrics import FileMetrics

MAX_DETAILS = 6_000
MAX_PRIOR_DIFF = 2_500
EXAMPLES_HEADING = "## Fixes accepted in this project before"


@dataclass(frozen=True, slots=True)
class PriorAttempt:
    """What one earlier attempt tried and why it failed."""

    number: int
    model: str
    reason: str
    diff: str = ""


def test_sources(root: Path, node_ids: Sequence[str], limit: int = 4) -> list[str]:
    """The source of the failing test functions (the specification the fix must meet)."""
    sources: list[str] = []
    for node_id in node_ids[:limit]:
        parts = node_id.split("::")
        path = root / parts[0]
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
            continue
        names = [p.split("[")[0] for p in parts[1:]]
        node: ast.AST = tree
        for name in names:
            found = next((child for child in ast.iter_child_nodes(node)
                          if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef
                                        | ast.ClassDef) and child.name == name), None)
            if found is None:
                break
            node = found
        segment = ast.get_source_segment(text, node) if node is not tree else None
        sources.append(f"# {node_id}\n{segment}" if segment else f"# {node_id}\n{text[:3000]}")
    return sources


def example_section(examples: Sequence[Example], kind: str, limit: int, chars: int) -> list[str]:
    """Up to ``limit`` accepted fixes, in the order given (most recent first), each
    whole, within ``chars`` characters in all: one that does not fit is left out and
    the next tried. No lines when none fits."""
    shown: list[str] = []
    used = 0
    for example in examples:
        if len(shown) >= limit:
            break
        title = f"### `{example.path}`" + (f": {example.message}" if example.message else "")
        lines = [title]
        if example.hint:
            lines.append(f"(after a developer's hint: {example.hint})")
        lines += ["```diff", example.diff.rstrip("\n"), "```"]
        text = "\n".join(lines)
        if used + len(text) > chars:
            continue
        shown.append(text)
        used += len(text)
    if not shown:
        return []
    intro = (f"Earlier fixes of {kind} failures that this project kept: follow its "
             "conventions.")
    return ["", EXAMPLES_HEADING, intro, *(line for text in shown for line in ("", text))]


def answer_format_lines(path: str, answer_format: str = "") -> list[str]:
    """The answer-format section: the one format learned to work best for this model,
    or (without one) the choice of a whole file or SEARCH/REPLACE blocks."""
    search_replace = (f"{path}\n<<<<<<< SEARCH\n(exact lines from the file)\n=======\n"
                      "(replacement lines)\n>>>>>>> REPLACE")
    if answer_format == "search-replace":
        lines = ["Answer with SEARCH/REPLACE blocks (the format your fixes here were kept "
                 "in most often), each SEARCH copying lines of the file exactly:",
                 search_replace]
    elif answer_format == "diff":
        lines = [f"Answer with a unified diff of `{path}` in one ```diff block (the format "
                 f"your fixes here were kept in most often): --- a/{path}, +++ b/{path}, "
                 "then @@ hunks with a few unchanged context lines."]
    elif answer_format == "whole-file":
        lines = [f"Answer with the complete corrected `{path}` in one ```python block (the "
                 "format your fixes here were kept in most often)."]
    else:
        lines = [f"Reply with the complete corrected `{path}` in one ```python block, "
                 "or with SEARCH/REPLACE blocks:", search_replace]
    return ["## Answer format", *lines,
            "Never elide code with placeholders such as '# ... rest unchanged'."]


def build_prompt(
    root: Path,
    failure: Failure,
    content: str,
    metrics: FileMetrics | None,
    prior: Sequence[PriorAttempt] = (),
    hint: str = "",
    *,
    answer_format: str = "",
    examples: Sequence[Example] = (),
    example_limit: int = 2,
    example_chars: int = 1500,
) -> str:
    """The whole prompt for one attempt at healing ``failure``: ``answer_format`` is
    the edit format to ask for ("" = the usual choice), ``examples`` the project's
    accepted fixes of this failure kind, most recent first."""
    parts = [
        f"You are fixing a bug in the Python file `{failure.path}` of a project.",
        "The project's tests are the specification: change only this file, never a test.",
        "",
        f"## Failure ({failure.kind}, from {failure.check})",
        failure.message,
    ]
    if failure.details:
        parts += ["", "```text", failure.details[:MAX_DETAILS], "```"]
    tests = test_sources(root, failure.tests)
    if tests:
        parts += ["", "## The failing tests", "```python", "\n\n".join(tests), "```"]
    if metrics is not None:
        worst = sorted(metrics.functions, key=lambda f: -f.cc)[:5]
        summary = ", ".join(f"{f.name} cc {f.cc} ({f.rank})" for f in worst) or "no functions"
        parts += ["", "## Radon summary",
                  f"{metrics.sloc} source lines, maintainability index {metrics.mi:.1f} "
                  f"({metrics.mi_rank}), most complex: {summary}. Keep it no more complex."]
    for attempt in prior:
        parts += ["", f"## Attempt {attempt.number} ({attempt.model}) failed",
                  attempt.reason]
        if attempt.diff:
            parts += ["It changed:", "```diff", attempt.diff[:MAX_PRIOR_DIFF], "```"]
    if prior:
        parts += ["", "Do not repeat a change that already failed."]
    if hint:
        parts += ["", "## A hint from the developer", hint]
    parts += example_section(examples, failure.kind, example_limit, example_chars)
    parts += [
        "",
        f"## The current `{failure.path}`",
        "```python",
        content.rstrip("\n"),
        "```",
        "",
        *answer_format_lines(failure.path, answer_format),
    ]
    return "\n".join(parts) + "\n"
