"""A small faulty project and a scripted model that heals it, for the demo and the tests.

The faults cover what the heal loop must handle:

* ``shop/cart.py``: a runtime error (the traceback points into the file) - healed at the
  first attempt by a whole-file answer;
* ``calc.py``: a syntax error that stops pytest's collection - healed by SEARCH/REPLACE;
* ``greet.py``: a plain assertion mismatch (attributed through the test's imports) - the
  first answer is a wrong whole file, the second a SEARCH/REPLACE that fixes it;
* ``inventory.py``: a fault no answer fixes - the model tries to edit the test, then
  gives a wrong fix, then escapes the project: it is escalated for review.

Files are kept as data (not as .py files in the repository) so linters and the
repository's own test run never see the deliberately broken code.
"""

from __future__ import annotations

import re
from pathlib import Path

SAMPLE_FILES: dict[str, str] = {
    "README.md": "# Sample shop\n\nA tiny project with four bugs, for Dreamscape's demo.\n",
    "shop/__init__.py": "",
    "shop/cart.py": (
        '"""Shopping cart totals."""\n\n\n'
        "def total(items):\n"
        '    """Sum of price * quantity over the cart."""\n'
        "    amount = 0\n"
        "    for item in items:\n"
        '        amount += item["price"] * item["qty"]\n'
        "    return amount / len([])\n"
    ),
    "calc.py": (
        '"""Tiny calculator."""\n\n\n'
        "def add(a, b)\n"
        "    return a + b\n\n\n"
        "def mul(a, b):\n"
        "    return a * b\n"
    ),
    "greet.py": (
        '"""Greetings."""\n\n\n'
        "def greet(name):\n"
        '    return "hello " + name\n'
    ),
    "inventory.py": (
        '"""Stock keeping."""\n\n\n'
        "def restock(stock, amount):\n"
        "    return stock - amount\n"
    ),
    "util.py": "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n",
    "tests/test_cart.py": (
        "from shop.cart import total\n\n\n"
        "def test_total():\n"
        '    assert total([{"price": 2, "qty": 3}, {"price": 1, "qty": 1}]) == 7\n\n\n'
        "def test_empty():\n"
        "    assert total([]) == 0\n"
    ),
    "tests/test_calc.py": (
        "import calc\n\n\n"
        "def test_add():\n"
        "    assert calc.add(2, 3) == 5\n\n\n"
        "def test_mul():\n"
        "    assert calc.mul(2, 3) == 6\n"
    ),
    "tests/test_greet.py": (
        "from greet import greet\n\n\n"
        "def test_greet():\n"
        '    assert greet("Ada") == "Hello, Ada!"\n\n\n'
        "def test_greet_returns_text():\n"
        '    assert isinstance(greet("x"), str)\n'
    ),
    "tests/test_inventory.py": (
        "from inventory import restock\n\n\n"
        "def test_restock():\n"
        "    assert restock(5, 3) == 8\n"
    ),
    "tests/test_util.py": (
        "from util import clamp\n\n\n"
        "def test_clamp():\n"
        "    assert clamp(5, 0, 3) == 3\n"
    ),
}

FIXED_CART = SAMPLE_FILES["shop/cart.py"].replace("    return amount / len([])\n",
                                                   "    return amount\n")
WRONG_GREET = SAMPLE_FILES["greet.py"].replace('"hello " + name', '"Hello " + name')
HEALED = {"shop/cart.py", "calc.py", "greet.py"}
ESCALATED = {"inventory.py"}


def write_sample(dest: Path) -> Path:
    """Write the sample project into ``dest`` (created); returns ``dest``."""
    for rel, text in SAMPLE_FILES.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return dest


def _python(code: str) -> str:
    return f"```python\n{code}```"


def target_of(prompt: str) -> str:
    """The file a heal prompt is about (its first line names it in backticks)."""
    match = re.search(r"`([^`]+\.py)`", prompt)
    return match.group(1) if match else ""


def attempt_of(prompt: str) -> int:
    """Which attempt a heal prompt is (earlier attempts are listed in it)."""
    return len(re.findall(r"^## Attempt \d+ ", prompt, re.MULTILINE)) + 1


def scripted_answer(prompt: str) -> str:
    """The scripted model's markdown answer to a heal prompt (see the module docstring)."""
    target, attempt = target_of(prompt), attempt_of(prompt)
    if target == "shop/cart.py":
        return "The division by an empty list fails. Fixed file:\n\n" + _python(FIXED_CART)
    if target == "calc.py":
        return ("The `def` line lacks its colon.\n\n```\ncalc.py\n<<<<<<< SEARCH\n"
                "def add(a, b)\n=======\ndef add(a, b):\n>>>>>>> REPLACE\n```\n")
    if target == "greet.py" and attempt == 1:
        return "Capitalise the greeting:\n\n" + _python(WRONG_GREET)
    if target == "greet.py":
        return ("The test expects a comma and an exclamation mark.\n\n```\ngreet.py\n"
                "<<<<<<< SEARCH\n    return \"hello \" + name\n=======\n"
                "    return \"Hello, \" + name + \"!\"\n>>>>>>> REPLACE\n```\n")
    if target == "inventory.py" and attempt == 1:
        return ("The test is wrong.\n\n```\ntests/test_inventory.py\n<<<<<<< SEARCH\n"
                "    assert restock(5, 3) == 8\n=======\n    assert restock(5, 3) == 2\n"
                ">>>>>>> REPLACE\n```\n")
    if target == "inventory.py" and attempt == 2:
        return "Try this:\n\n" + _python(SAMPLE_FILES["inventory.py"].replace(
            "stock - amount", "stock * amount"))
    if target == "inventory.py":
        return ("Patch:\n\n```\n../../etc/inventory.py\n<<<<<<< SEARCH\n"
                "    return stock - amount\n=======\n    return stock + amount\n"
                ">>>>>>> REPLACE\n```\n")
    return "I am not sure what to change."
