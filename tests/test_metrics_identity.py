"""``dreamscape_tui.core.metrics`` must give radon 6.0.1's numbers, exactly, and fail softly.

The scanner trusts these metrics to be the same as ``radon cc``/``mi``/``raw`` would
print, while computing them several times faster (one parse, a linear raw-metrics pass).
These tests hold it to that on real code (a sample of the standard library, all of
Django when it is unpacked in /tmp), on hand-written corner cases, and on seeded random
token soup; and check that hostile input only ever raises ``AnalysisError``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import time
import tokenize
import warnings
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from radon.complexity import cc_rank, cc_visit
from radon.metrics import h_visit, mi_rank, mi_visit
from radon.raw import analyze

from dreamscape_tui.core import rawmetrics
from dreamscape_tui.core.metrics import AnalysisError, FileMetrics, analyze_bytes, analyze_source

STDLIB = Path(os.__file__).parent
DJANGO = Path("/tmp/django-5.2.19/django")


def radon_expected(source: str) -> dict[str, Any] | None:
    """Every field as radon's own public functions compute it; None if radon fails."""
    try:
        raw = analyze(source)
        blocks = cc_visit(source)
        mi = mi_visit(source, True)
        volume = h_visit(source).total.volume
    except Exception:
        return None
    ccs = [b.complexity for b in blocks]
    cc_max = max(ccs) if ccs else 0
    return {
        **raw._asdict(),
        "cc_max": cc_max,
        "cc_avg": sum(ccs, 0.0) / len(ccs) if ccs else 0.0,
        "cc_rank": cc_rank(cc_max),
        "mi": mi,
        "mi_rank": mi_rank(mi),
        "halstead_volume": volume,
        "functions": [
            {"name": b.fullname, "lineno": b.lineno, "cc": b.complexity,
             "rank": cc_rank(b.complexity)}
            for b in blocks
        ],
    }


def check_identical(source: str, label: str) -> bool:
    """Assert analyze_source == radon on ``source``; False if radon itself cannot analyse it."""
    expected = radon_expected(source)
    if expected is None:
        with contextlib.suppress(AnalysisError):  # so may we, but only with AnalysisError
            analyze_source(source)
        return False
    got = analyze_source(source).to_dict()
    for key, value in expected.items():
        assert got[key] == value, f"{label}: {key}: {got[key]!r} != radon's {value!r}"
        assert type(got[key]) is type(value) or key == "halstead_volume", (label, key)
    return True


def decode(data: bytes) -> str:
    """Decode like Python does for source files (what analyze_bytes must do)."""
    encoding = tokenize.detect_encoding(BytesIO(data).readline)[0]
    return data.decode(encoding)


def python_files(root: Path, skip: frozenset[str] = frozenset()) -> list[Path]:
    """Every .py file under ``root`` not in a ``skip`` directory, sorted by relative path."""
    files = (p for p in root.rglob("*.py") if not skip.intersection(p.relative_to(root).parts))
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def test_stdlib_sample_identical_to_radon() -> None:
    # the test suites are left out: radon takes minutes on their huge files
    skip = frozenset({"site-packages", "test", "tests", "idle_test"})
    sample = python_files(STDLIB, skip)[::4]
    checked = 0
    for path in sample:
        data = path.read_bytes()
        try:
            source = decode(data)
        except (SyntaxError, UnicodeDecodeError):
            continue
        if check_identical(source, str(path)):
            checked += 1
            assert analyze_bytes(data) == analyze_source(source), path
    assert checked >= 150, checked


@pytest.mark.skipif(not DJANGO.is_dir(), reason="Django 5.2.19 is not unpacked in /tmp")
def test_django_identical_to_radon() -> None:
    files = python_files(DJANGO)
    assert len(files) > 800
    checked = sum(check_identical(decode(p.read_bytes()), str(p)) for p in files)
    assert checked == len(files)


TRICKY = {
    "empty": "",
    "only blank": "\n\n   \n",
    "only comment": "# just a comment",
    "no trailing newline": "def f(x):\n    return x + 1",
    "docstrings": '"""Module doc."""\n\n\ndef f():\n    """One line."""\n\n\ndef g():\n'
    '    """Several\n\n    lines.\n    """\n    return 1\n',
    "multiline string in expression": 'x = """a\nb\n"""\ny = f("""\n  q\n""", 2)\n'
    "z = ('''one'''\n     '''two''')\n",
    "string statements": "'a' 'b'\nrb'x'\nf'{x}'\n'''a''' # c\n(\n'''x'''\n)\nu'''\n\n'''\n",
    "continuations": "x = 1 + \\\n    2\nif a and \\\n   b: pass\n"
    "y = [1,\n     2,  # c\n\n     3]\n"
    "s = 'a\\\nb'\nz = 1 + \\\n\x0c2\nw = 2\n",  # the form feed makes an empty line
    "comments after code": "x = 1  # one\ndef f():  # two\n    pass  # three\n# four\n",
    "semicolons": "a = 1; b = 2\nif x: y = 1; z = 2\nif x: pass; y\nf = lambda: 0; g = 1\nx = 1;\n",
    "colons": "d = {1: 2}\nx[1:2]\nif x: return 0\ndef f(a: int) -> int: ...\n"
    "y = lambda: (yield)\nif (n := 10) > 5: pass\nelse:\n  pass\n",
    "closures": "def outer(a):\n    def inner(b):\n        if b:\n            return a\n"
    "        return b\n    class C:\n        def m(self): pass\n    return inner\n",
    "classes": "class A:\n    x = [i for i in range(3) if i]\n    def m(self, y):\n"
    "        if y or self:\n            return 1\n        assert y\n\n    class Inner:\n"
    "        def n(self): pass\n\nclass B(A): pass\n",
    "lambdas and decorators": "@dec(1)\n@other\ndef f(x=lambda y: y and 1):\n"
    "    return [lambda: i for i in x if i if not i]\n",
    "async": "async def f(xs):\n    async with a as b:\n        async for x in xs:\n"
    "            await x\n        else:\n            pass\n",
    "match": "match p:\n    case (0, 0):\n        pass\n    case [x, *_] if x:\n        pass\n"
    "    case _:\n        pass\n",
    "try": "try:\n    x\nexcept A:\n    pass\nexcept (B, C) as e:\n    pass\nelse:\n    pass\n"
    "finally:\n    pass\nwhile x:\n    break\nelse:\n    pass\n",
    "f-strings": "x = f\"{a['k']!r:>{w}}\"\ny = f'{\"q\"}' + rf\"\\d{x}\"\n"
    "z = f'''{a\n}'''\n",
    "crlf": "def f():\r\n    '''doc\r\n    '''\r\n    return 1  # c\r\n\r\n",
    "lone cr": "x = 1\ry = '''a\rb'''\r",
    "form feeds": "x = 1\n\x0c\ndef f():\n    pass\n\x0c# section\ny = 2\x0c\n",
    "tabs": "if x:\n\ty = 1\n\tif y:\n\t\tz = '\t'\n",
    "unicode": "π = 'ünïcödé'\ndef naïve(ß):\n    return ß  # ∞\n",
    "escaped quotes": "s = 'it\\'s'\nt = \"say \\\"hi\\\"\"\nu = '''a\\'''b'''\nv = '\\\\'\n",
    "quote runs": "a = ''''a'''\nb = ''\nc = '''''' \nd = \"\"\"\"x\"\"\"\n",
    "blank after continuation at end": "x = 1 + \\\n    2\n\n",
    "trailing whitespace line": "x = 1\n   ",
}


def test_visitor_ports_count_what_radons_visitors_count() -> None:
    """visitors.py against radon's own visitors, count by count (not just the volume and
    MI they feed): every block, the total complexity and Halstead's four counts."""
    import ast

    from radon.visitors import ComplexityVisitor, HalsteadVisitor

    from dreamscape_tui.core.visitors import complexity, halstead

    sources = [*TRICKY.values(), MATCHES]
    sources += [p.read_text(encoding="utf-8", errors="replace")
                for p in python_files(STDLIB, frozenset({"site-packages"}))[1::9]]
    compared = 0
    for source in sources:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes in old stdlib strings
                tree = ast.parse(source)
            cc, hv = ComplexityVisitor.from_ast(tree), HalsteadVisitor.from_ast(tree)
        except (SyntaxError, ValueError, RecursionError):
            assert source is not MATCHES
            continue
        blocks, total = complexity(tree)
        assert blocks == [(b.fullname, b.lineno, b.complexity) for b in cc.blocks]
        assert total == cc.total_complexity
        assert tuple(halstead(tree)) == (hv.distinct_operators, hv.distinct_operands,
                                         hv.operators, hv.operands)
        compared += 1
    assert compared > 200


MATCHES = """
def f(p, q):
    match p:
        case 1 | 2:
            return 1
        case [x, y] if x > y:
            return 2
        case {"k": v}:
            return v
        case x:
            return x
    match q:
        case _:
            pass
    match q:
        case str():
            pass
    try:
        pass
    except* ValueError:
        pass
    while q:
        q -= 1
    else:
        q = not q and (q or p) < 3 <= 4
    return [a for a in p if a if not a] + [-b async for b in q]


class K:
    def m(self):
        assert self
        return lambda s: s if s else None

    class Inner:
        def n(self): ...

    if True:
        def conditional(self): return 1 if self else 2
"""


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_snippets_identical_to_radon(name: str) -> None:
    assert check_identical(TRICKY[name], name), "radon failed on a snippet meant to be valid"


def test_radon_line_quirks_in_valid_code() -> None:
    # a form feed inside a one-line string makes radon's raw analysis fail, though the
    # code is valid: we must fail too (and quickly, see test_hostile_input_is_fast)
    with pytest.raises(AnalysisError, match="radon cannot count lines"):
        analyze_source("x = 'a\x0cb'\n")
    # a form feed inside a comment splits radon's lines: the tail counts as code
    assert check_identical("# a\x0c b\nx = 1\n", "form feed in comment")


def _soup(rng: random.Random, parts: list[str]) -> str:
    return "".join(rng.choice(parts) for _ in range(rng.randint(0, 25)))


SOUP = ["x", " ", "\t", "\n", "\n", "\n", "\r\n", "\r", "\x0c", "\x0b", "\u2028", "\x85",
        "#", "# c", ":", ":", ";", "=", ":=", "!=", "!", "(", ")", "[", "]", "{", "}",
        "'", '"', "'''", '"""', "\\", "\\\n", "rb", "f", "if x", "else", "lambda", "1",
        "...", "$", "é", "def f():", "'a'", '"b"', "'''doc'''", '"""m\nl"""', "pass",
        "'a\\\nb'", '"\\""', "''", '""', "()", "[]", "{}"]


def test_raw_metrics_identical_on_token_soup() -> None:
    """Seeded random text, valid Python or not: same numbers, or both fail."""
    rng = random.Random(20240611)
    for _ in range(3000):
        text = _soup(rng, SOUP)
        try:
            expected: object = tuple(analyze(text))
        except SyntaxError:
            expected = "error"
        try:
            got: object = tuple(rawmetrics.raw_metrics(text))
        except rawmetrics.RawMetricsError:
            got = "error"
        assert got == expected, repr(text)


def test_fast_path_equals_exact_path() -> None:
    """The regex pass and the tokenize pass agree whenever the regex pass answers."""
    rng = random.Random(7)
    answered = 0
    for _ in range(3000):
        lines = [line.strip() for line in _soup(rng, SOUP).splitlines()]
        fast = rawmetrics._scan(lines)
        if fast is not None:
            answered += 1
            assert fast == rawmetrics._tokenize_path(lines), lines
    assert answered > 300


def test_dict_round_trip_through_json() -> None:
    metrics = analyze_source(TRICKY["classes"])
    assert metrics.functions and metrics.functions[0].name == "A"
    again = FileMetrics.from_dict(json.loads(json.dumps(metrics.to_dict())))
    assert again == metrics
    legacy = metrics.to_dict()
    del legacy["single_comments"]
    assert FileMetrics.from_dict(legacy) == metrics


def test_empty_file() -> None:
    m = analyze_bytes(b"")
    assert (m.loc, m.lloc, m.cc_max, m.cc_avg, m.cc_rank, m.mi, m.mi_rank) == (
        0, 0, 0, 0.0, "A", 100.0, "A")
    assert m.functions == ()


def test_bytes_are_decoded_like_python() -> None:
    latin = "# -*- coding: latin-1 -*-\ns = 'café'\n"
    assert analyze_bytes(latin.encode("latin-1")) == analyze_source(latin)
    bom = "x = 'é'\n"
    assert analyze_bytes(b"\xef\xbb\xbf" + bom.encode()) == analyze_source(bom)


DEEP_CHAIN = "a" + ".b" * 100_000


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary file (NUL byte)"),
        (b"x = 1\n\x00", "binary file (NUL byte)"),
        (b"x = '\xff\xfe'\n", "cannot decode as utf-8"),
        (b"x = 1\ny = '\xe9'\n", "cannot decode as utf-8"),
        (b"# -*- coding: klingon -*-\nx = 1\n", "unknown encoding: klingon"),
        (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", "bad encoding declaration"),
        (b"def f(:\n    pass\n", "syntax error: line 1: "),
        (b'print "hello"\n', "syntax error: line 1: Missing parentheses"),
        (b"exec 'x = 1'\nraise E, 'msg'\n", "syntax error: line 1"),
        (b"if True:\n        x = 1\n\ty = 2\n", "tab error: line 3: "),
        (b"if x:\npass\n", "indentation error: line 2: expected an indented block"),
        (b"  x = 1\n", "indentation error: line 1: unexpected indent"),
        (b"(" * 201, "too deeply nested"),
        (b"-" * 100_000 + b"1", "too deeply nested"),
        (DEEP_CHAIN.encode(), "too deeply nested"),
        (b"x = " + b"1 + " * 3000 + b"1\n", "too deeply nested"),  # radon's visitors recurse
        (b"x = '" + b"a" * 100_000, "syntax error: line 1: unterminated string"),
        (b"x = 1" + b"0" * 5000 + b"\n", "syntax error"),  # int longer than 4300 digits
    ],
    ids=lambda value: repr(value)[:40] if isinstance(value, bytes) else None,
)
def test_hostile_input_raises_analysis_error(data: bytes, reason: str) -> None:
    with pytest.raises(AnalysisError) as info:
        analyze_bytes(data)
    assert reason in str(info.value)
    assert len(str(info.value)) <= 200


def test_random_garbage_only_raises_analysis_error() -> None:
    rng = random.Random(1)
    sample = (STDLIB / "textwrap.py").read_bytes()
    for i in range(300):
        if i % 2:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
        else:  # a real file with a few bytes flipped
            mutable = bytearray(sample)
            for _ in range(rng.randint(1, 5)):
                mutable[rng.randrange(len(mutable))] = rng.randrange(1, 256)
            data = bytes(mutable)
        with contextlib.suppress(AnalysisError):
            analyze_bytes(data)


def test_hostile_input_is_fast() -> None:
    """Radon re-tokenizes an unfinished group once per following line; we must not."""
    # radon would need hours for these (quadratic in the lines after the bad string, or
    # in the length of the statement); a linear pass takes well under a second each
    body = "x = 'a\x0cb'\n" + "def f(a):\n    return [\n        a,\n    ]\n" * 5_000
    started = time.perf_counter()
    with pytest.raises(AnalysisError):
        analyze_source(body)
    tall = "x = [\n" + "    1,\n" * 50_000 + "]\n"
    assert analyze_source(tall).lloc == 1
    assert time.perf_counter() - started < 20


def test_module_imports_neither_textual_nor_rich() -> None:
    code = ("import sys, dreamscape_tui.core.metrics\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)
