"""Answer parsing: each edit format, whitespace drift, and every hostile answer rejected."""

from __future__ import annotations

import pytest

from dreamscape_tui.core.answer import Answer
from dreamscape_tui.core.edits import EditRejected, changed_share, parse_edit

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
