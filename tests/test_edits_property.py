"""Every valid edit applies: random edits of real files, as diffs and SEARCH/REPLACE blocks.

Hundreds of random edits of standard-library modules are rendered the ways answers
carry them (difflib at context 0-3, ``git diff``, SEARCH/REPLACE blocks; fenced or not,
blank context lines stripped, bare paths, CRLF; as text and as text plus code block),
and ``parse_edit`` must reproduce each edited file byte for byte. ``git apply`` checks
the generated diffs first, so the generator cannot pass off diffs git would refuse.
"""

from __future__ import annotations

import random
from pathlib import Path

from dreamscape_tui.core.answer import Answer
from dreamscape_tui.core.edits import EditRejected, parse_edit
from tests.edit_cases import (
    Case,
    Text,
    answers,
    chat_like,
    difflib_diff,
    git_apply,
    git_diffs,
    random_case,
    renamed,
    search_replace,
    stdlib_sources,
)

SEED = 20240808
EDITS = 300
CONTEXTS = (0, 1, 2, 3)


def _cases(rng: random.Random) -> list[Case]:
    cases = []
    for index, (stem, source) in enumerate(stdlib_sources(rng, EDITS * 2)):
        case = random_case(rng, f"e{index}_{stem}", source)
        if case is not None:
            cases.append(case)
        if len(cases) == EDITS:
            break
    assert len(cases) == EDITS
    return cases


def _failure(answer: Answer, path: str, original: str, expected: str) -> str | None:
    """None if ``parse_edit`` turns the answer into ``expected``; else what went wrong."""
    try:
        got = parse_edit(answer, path, original).content
    except EditRejected as exc:
        return f"{path}: rejected: {exc}"
    return None if got == expected else f"{path}: wrong result"


def test_generated_diffs_apply(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    cases = _cases(rng)
    diffs: dict[str, tuple[Case, int, str]] = {}  # by target path: case, context, diff
    for context in CONTEXTS:
        from_git = git_diffs(cases, context, tmp_path / "trees")
        for case in cases:
            mine, gits = f"pkg/d{context}/{case.name}.py", f"pkg/g{context}/{case.name}.py"
            diffs[mine] = case, context, difflib_diff(case, context, mine)
            diffs[gits] = case, context, renamed(from_git[case.name], case.name, gits)
    for zero in (True, False):  # git agrees with the generator on every diff
        batch = {path: (case.original, diff) for path, (case, context, diff) in diffs.items()
                 if (context == 0) == zero}
        applied = git_apply(batch, tmp_path / f"apply{int(zero)}", zero=zero)
        assert all(applied[path] == diffs[path][0].edited.render() for path in batch)

    failures, passed = [], 0
    for path, (case, _, diff) in diffs.items():
        original, expected = case.original.render(), case.edited.render()
        shapes = answers(chat_like(diff, rng), "diff", rng)
        problems = [p for p in (_failure(a, path, original, expected) for a in shapes) if p]
        failures += problems
        passed += not problems
    assert not failures, f"{len(failures)} failures, e.g. {failures[:5]}"
    assert passed == len(diffs) >= 2_000


def test_generated_search_replace_blocks_apply() -> None:
    rng = random.Random(SEED + 1)
    failures, passed = [], 0
    for case in _cases(rng):
        path = f"pkg/{case.name}.py"
        blocks = search_replace(case, path, rng)
        if blocks is None:
            continue
        original = case.original.render()
        # the format has no way to say "no newline at end of file": the file keeps its own
        expected = Text(case.edited.lines, case.original.newline,
                        case.original.final_newline).render()
        if expected == original:
            continue
        shapes = answers(blocks, rng.choice(["", "python"]), rng)
        problems = [p for p in (_failure(a, path, original, expected) for a in shapes) if p]
        failures += problems
        passed += not problems
    assert not failures, f"{len(failures)} failures, e.g. {failures[:5]}"
    assert passed >= 250
