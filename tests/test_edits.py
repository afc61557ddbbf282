"""Answer parsing: each edit format, whitespace drift, and every hostile answer rejected."""

from __future__ import annotations

import pytest

from dreamscape_tui.core.answer import Answer
from dreamscape_tui.core.edits import (
    EditRejected,
    NoChange,
    changed_share,
    parse_edit,
    unified_diff,
)

ORIGINAL = '''import math


def area(r):
    return math.pi * r * r


def greet(name):
    if name:
        return "hi " + name
    return "hi"
'''
FIXED_GREET = ORIGINAL.replace('"hi " + name', '"Hello, " + name + "!"')


def answer(text: str, *blocks: str) -> Answer:
    return Answer(text=text, code_blocks=tuple(blocks))


def test_whole_file_block() -> None:
    edit = parse_edit(answer(f"Here:\n```python\n{FIXED_GREET}```\n", FIXED_GREET), "greet.py",
                      ORIGINAL)
    assert (edit.content, edit.format) == (FIXED_GREET, "whole-file")


def test_whole_file_from_markdown_when_no_code_blocks_were_extracted() -> None:
    edit = parse_edit(answer(f"```python\n{FIXED_GREET}```"), "greet.py", ORIGINAL)
    assert edit.content == FIXED_GREET


def test_search_replace_with_path_line() -> None:
    text = ('greet.py\n<<<<<<< SEARCH\n        return "hi " + name\n=======\n'
            '        return "Hello, " + name + "!"\n>>>>>>> REPLACE\n')
    edit = parse_edit(answer("Apply this:", text), "greet.py", ORIGINAL)
    assert (edit.content, edit.format) == (FIXED_GREET, "search-replace")


def test_search_replace_tolerates_whitespace_drift() -> None:
    # the model lost the indentation and added trailing spaces
    text = ('<<<<<<< SEARCH\nif name:   \n    return "hi " + name\n=======\n'
            'if name:\n    return "Hello, " + name + "!"\n>>>>>>> REPLACE')
    edit = parse_edit(answer(text), "pkg/greet.py", ORIGINAL)
    assert edit.content == FIXED_GREET


def test_unified_diff_applied_by_context_despite_wrong_line_numbers() -> None:
    diff = ('--- a/greet.py\n+++ b/greet.py\n@@ -40,3 +40,3 @@\n def greet(name):\n'
            '     if name:\n-        return "hi " + name\n+        return "Hello, " + name + "!"\n')
    edit = parse_edit(answer("```diff\n" + diff + "```", diff), "greet.py", ORIGINAL)
    assert (edit.content, edit.format) == (FIXED_GREET, "diff")


ABC = "a = 1\nb = 2\nc = 3\n"
HEAD = "--- a/x.py\n+++ b/x.py\n"


def test_a_hunk_starts_after_its_header_line() -> None:
    # the newline ending the @@ line was read as a blank context line (issue 8)
    diff = HEAD + "@@ -2,2 +2,2 @@\n b = 2\n-c = 3\n+c = 4\n"
    for shape in (answer("```diff\n" + diff + "```"), answer("x", diff.rstrip("\n"))):
        assert parse_edit(shape, "x.py", ABC).content == "a = 1\nb = 2\nc = 4\n"


@pytest.mark.parametrize(("diff", "expected"), [
    # blank context written as an empty line, and a header with wrong counts
    ("@@ -1,9 +1,9 @@\n a = 1\n\n-b = 2\n+b = 5\n", "a = 1\n\nb = 5\nc = 3\n"),
    # no numbers at all (aider's udiff), a section heading after the header
    ("@@ ... @@\n-a = 1\n+a = 0\n", "a = 0\n\nb = 2\nc = 3\n"),
    ("@@ -3,1 +3,1 @@ def f():\n-b = 2\n+b = 0\n", "a = 1\n\nb = 0\nc = 3\n"),
    # zero context: the header is the only anchor
    ("@@ -2,0 +3,1 @@\n+z = 0\n", "a = 1\n\nz = 0\nb = 2\nc = 3\n"),
    ("@@ -0,0 +1 @@\n+import os\n", "import os\na = 1\n\nb = 2\nc = 3\n"),
    ("@@ -3,2 +2,0 @@\n-b = 2\n-c = 3\n", "a = 1\n\n"),
    # the final newline, taken away and given back
    ("@@ -4 +4 @@\n-c = 3\n+c = 4\n\\ No newline at end of file\n", "a = 1\n\nb = 2\nc = 4"),
])
def test_diff_shapes_git_accepts(diff: str, expected: str) -> None:
    original = "a = 1\n\nb = 2\nc = 3\n"
    assert parse_edit(answer(HEAD + diff), "x.py", original).content == expected


def test_diff_adds_the_missing_final_newline() -> None:
    diff = HEAD + "@@ -3 +3,2 @@\n-c = 3\n\\ No newline at end of file\n+c = 3\n+d = 4\n"
    assert parse_edit(answer(diff), "x.py", ABC[:-1]).content == ABC + "d = 4\n"


def test_ambiguous_context_goes_nearest_the_header() -> None:
    original = "x = 0\ny = 0\n" * 3
    diff = HEAD + "@@ -3,2 +3,2 @@\n x = 0\n-y = 0\n+y = 1\n"
    edit = parse_edit(answer(diff), "x.py", original)
    assert edit.content == "x = 0\ny = 0\nx = 0\ny = 1\nx = 0\ny = 0\n"


def test_crlf_answers_and_crlf_files_keep_the_files_line_ends() -> None:
    diff = HEAD + "@@ -2,2 +2,3 @@\n b = 2\n-c = 3\n+c = 4\n+d = 5\n"
    lf = parse_edit(answer(diff.replace("\n", "\r\n")), "x.py", ABC).content
    assert lf == "a = 1\nb = 2\nc = 4\nd = 5\n"
    crlf = parse_edit(answer(diff), "x.py", ABC.replace("\n", "\r\n")).content
    assert crlf == lf.replace("\n", "\r\n")


def test_git_sections_use_the_targets_and_skip_other_files() -> None:
    text = ("diff --git a/other.py b/other.py\nnew file mode 100644\nindex 0000000..e69de29\n"
            "--- /dev/null\n+++ b/other.py\n@@ -0,0 +1 @@\n+b = 2\n"
            "diff --git a/pkg/x.py b/pkg/x.py\nindex 1111111..2222222 100644\n"
            "--- a/pkg/x.py\n+++ b/pkg/x.py\n@@ -1,2 +1,2 @@\n-a = 1\n+a = 0\n b = 2\n")
    assert parse_edit(answer(text), "pkg/x.py", ABC).content == ABC.replace("1", "0")
    with pytest.raises(EditRejected, match="not the target pkg/y"):
        parse_edit(answer(text), "pkg/y.py", ABC)
    test_section = text.replace("other.py", "tests/test_x.py")
    with pytest.raises(EditRejected, match="test file"):
        parse_edit(answer(test_section), "pkg/x.py", ABC)


def test_hunks_with_the_same_wrong_header_apply_in_order() -> None:
    original = "def f():\n    return 1\n\n\ndef g():\n    return 1\n"
    text = HEAD + ("@@ -1,3 +1,3 @@\n def f():\n-    return 1\n+    return 2\n"
                   "@@ -1,3 +1,3 @@\n def g():\n-    return 1\n+    return 3\n")
    edit = parse_edit(answer(text), "x.py", original)
    assert edit.content == "def f():\n    return 2\n\n\ndef g():\n    return 3\n"


def test_counts_read_a_removed_dash_line_as_git_does() -> None:
    # "-- b" removed and "++ x" added look like a file header; the counts say otherwise
    text = HEAD + "@@ -1,3 +1,3 @@\n a\n--- b\n+++ x\n d\n\n"
    assert parse_edit(answer(text), "x.py", "a\n-- b\nd\n").content == "a\n++ x\nd\n"


def test_counts_end_a_hunk_before_prose_that_looks_like_a_diff() -> None:
    text = HEAD + "@@ -3 +3 @@\n-c = 3\n+c = 4\n- fixed c\n- kept the rest\n"
    assert parse_edit(answer(text), "x.py", ABC).content == "a = 1\nb = 2\nc = 4\n"


def test_a_garbled_text_yields_to_the_exact_code_block() -> None:
    diff = HEAD + "@@ -2,2 +2,2 @@\n b = 2\n-c = 3\n+c = 4\n"
    garbled = diff.replace(" b = 2", "\u00a0b = 2")  # a page's visible text: a no-break space
    assert parse_edit(answer(garbled, diff), "x.py", ABC).content == "a = 1\nb = 2\nc = 4\n"
    with pytest.raises(EditRejected, match="hunk 1 of the diff"):
        parse_edit(answer(garbled), "x.py", ABC)
    with pytest.raises(EditRejected, match="hunk 1 of the diff does not match"):
        parse_edit(answer(diff.replace("c = 3", "c = 9")), "x.py", ABC)


def test_search_replace_blocks_apply_in_turn_at_both_ends() -> None:
    text = ("Change both ends:\n<<<<<<< SEARCH\na = 1\n=======\nimport os\na = 1\n"
            ">>>>>>> REPLACE\n\n<<<<<<< SEARCH\nc = 3\n=======\nc = 4\n>>>>>>> REPLACE")
    expected = "import os\na = 1\nb = 2\nc = 4"
    for original in (ABC, ABC[:-1]):  # the file keeps its final newline, or lack of one
        want = expected + "\n" if original.endswith("\n") else expected
        assert parse_edit(answer(text), "x.py", original).content == want
        crlf = answer(text.replace("\n", "\r\n"))
        assert parse_edit(crlf, "x.py", original).content == want


def test_unified_diff_marks_a_missing_final_newline() -> None:
    diff = unified_diff(ABC[:-1], ABC + "d = 4", "x.py")
    assert "-c = 3\n\\ No newline at end of file\n+c = 3\n+d = 4\n\\ No newline" in diff
    assert parse_edit(answer(diff), "x.py", ABC[:-1]).content == ABC + "d = 4"


@pytest.mark.parametrize("text", [
    "```python\n" + ORIGINAL + "```",
    '<<<<<<< SEARCH\n    return "hi"\n=======\n    return "hi"\n>>>>>>> REPLACE',
    "--- a/greet.py\n+++ b/greet.py\n@@ -1 +1 @@\n import math\n",
])
def test_an_answer_that_changes_nothing_says_so(text: str) -> None:
    with pytest.raises(NoChange) as caught:
        parse_edit(answer(text), "greet.py", ORIGINAL)
    assert str(caught.value) == "the answer changes nothing"


@pytest.mark.parametrize(("text", "blocks", "reason"), [
    ("I think the bug is in line 3.", (), "no usable edit"),
    ("", ("",), "no usable edit"),
    ("```python\n\n```", ("\n",), "no usable edit"),
    ("x", ("import math\n\n# ... rest unchanged\n",), "elides code"),
    ("x", ("import math\n\ndef area(r):\n    ...\n",), "elides code"),
    ("x", ("# existing code here\ndef greet(n):\n    return n\n",), "elides code"),
    ("x", ("../../etc/passwd\n<<<<<<< SEARCH\nimport math\n=======\nimport os\n"
           ">>>>>>> REPLACE",), "outside the project"),
    ("x", ("/etc/cron.d/evil\n<<<<<<< SEARCH\nimport math\n=======\nx\n>>>>>>> REPLACE",),
     "outside the project"),
    ("x", ("--- a/../../x.py\n+++ b/../../x.py\n@@ -1 +1 @@\n-import math\n+import os\n",),
     "outside the project"),
    ("x", ("tests/test_greet.py\n<<<<<<< SEARCH\nimport math\n=======\nimport os\n"
           ">>>>>>> REPLACE",), "test file"),
    ("x", ("other.py\n<<<<<<< SEARCH\nimport math\n=======\nimport os\n>>>>>>> REPLACE",),
     "not the target"),
    ("x", ("# file: tests/test_greet.py\nassert True\n",), "test file"),
    ("x", ("<<<<<<< SEARCH\nnot in the file\n=======\nx\n>>>>>>> REPLACE",), "does not match"),
    ("x", ("<<<<<<< SEARCH\nimport math\n=======\n>>>>>>> REPLACE\n"
           "<<<<<<< SEARCH\n" + ORIGINAL[12:] + "=======\n>>>>>>> REPLACE",), "empties the file"),
    ("x", (ORIGINAL,), "changes nothing"),
])
def test_hostile_and_useless_answers_are_rejected(text: str, blocks: tuple[str, ...],
                                                  reason: str) -> None:
    with pytest.raises(EditRejected, match=reason):
        parse_edit(answer(text, *blocks), "greet.py", ORIGINAL)


def test_a_broken_test_file_target_may_be_edited() -> None:
    original = "def test_x():\n    assert undefined\n"
    text = ("tests/test_x.py\n<<<<<<< SEARCH\n    assert undefined\n=======\n"
            "    assert True\n>>>>>>> REPLACE")
    edit = parse_edit(answer(text), "tests/test_x.py", original)
    assert edit.content == "def test_x():\n    assert True\n"


def test_changed_share() -> None:
    assert changed_share(ORIGINAL, ORIGINAL) == 0.0
    assert 0 < changed_share(ORIGINAL, FIXED_GREET) < 0.2
    assert changed_share(ORIGINAL, "x = 1\n") == 1.0
