"""Build the heal prompt: the file, the failure, its tests, its metrics, and history.

Earlier attempts are part of the prompt (what they changed and how they failed), so
the model does not repeat a fix that already failed: this is the execution log
conditioning the next try. A hint typed by the user in review goes in verbatim.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dreamscape_tui.core.checks import Failure
from dreamscape_tui.core.metrics import FileMetrics

MAX_DETAILS = 6_000
MAX_PRIOR_DIFF = 2_500


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


def build_prompt(
    root: Path,
    failure: Failure,
    content: str,
    metrics: FileMetrics | None,
    prior: Sequence[PriorAttempt] = (),
    hint: str = "",
) -> str:
    """The whole prompt for one attempt at healing ``failure``."""
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
    parts += [
        "",
        f"## The current `{failure.path}`",
        "```python",
        content.rstrip("\n"),
        "```",
        "",
        "## Answer format",
        f"Reply with the complete corrected `{failure.path}` in one ```python block, "
        "or with SEARCH/REPLACE blocks:",
        f"{failure.path}\n<<<<<<< SEARCH\n(exact lines from the file)\n=======\n"
        "(replacement lines)\n>>>>>>> REPLACE",
        "Never elide code with placeholders such as '# ... rest unchanged'.",
    ]
    return "\n".join(parts) + "\n"
