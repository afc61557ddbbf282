"""Failure detection on a real project with real pytest runs, and attribution."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from dreamscape_tui.core.checks import CheckError, command_failures, run_checks
from dreamscape_tui.core.config import ChecksConfig, CommandCheck
from dreamscape_tui.core.testrun import TestRunCancelled, TestRunError, run_pytest
from tests.conftest import Cli, write

SAMPLE: dict[str, str | bytes] = {
    # runtime error: the traceback's innermost project frame is in shop/cart.py
    "shop/__init__.py": "",
    "shop/cart.py": "def total(items):\n    return sum(i['price'] for i in items) / len([])\n",
    "tests/test_cart.py": "from shop.cart import total\n\n"
                          "def test_total():\n    assert total([{'price': 2}]) == 2\n",
    # syntax error that stops collection of its test module
    "calc.py": "def add(a, b)\n    return a + b\n",
    "tests/test_calc.py": "import calc\n\ndef test_add():\n    assert calc.add(1, 2) == 3\n",
    # plain assertion mismatch: only the test frame; attribution by imports
    "greet.py": "def greet(name):\n    return 'hello ' + name\n",
    "tests/test_greeting.py": "from greet import greet\n\n"
                              "def test_greet():\n    assert greet('bo') == 'Hello, bo!'\n"
                              "def test_type():\n    assert isinstance(greet('x'), str)\n",
    # healthy module and test
    "ok.py": "def one():\n    return 1\n",
    "tests/test_ok.py": "from ok import one\n\ndef test_one():\n    assert one() == 1\n",
}
FILES = sorted(p for p in SAMPLE if p.endswith(".py"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("sample"), SAMPLE)


def test_failures_are_found_and_attributed(sample: Path) -> None:
    report = run_checks(sample, ChecksConfig(), FILES)
    by_path = {f.path: f for f in report.failures}
    assert set(by_path) == {"shop/cart.py", "calc.py", "greet.py"}
    cart, calc, greet = by_path["shop/cart.py"], by_path["calc.py"], by_path["greet.py"]
    assert (cart.kind, cart.tests) == ("test", ("tests/test_cart.py::test_total",))
    assert "ZeroDivisionError" in cart.message
    assert (calc.kind, calc.line) == ("syntax", 1)
    assert calc.tests == ("tests/test_calc.py",)  # the collection error folds into it
    assert greet.kind == "test" and greet.tests == ("tests/test_greeting.py::test_greet",)
    assert "Hello, bo!" in greet.details
    passed = {o.nodeid for o in report.outcomes if o.outcome == "passed"}
    assert passed == {"tests/test_greeting.py::test_type", "tests/test_ok.py::test_one"}
    assert not list(sample.rglob("__pycache__"))  # checks leave the tree as it was


def test_ids_are_stable_across_runs(sample: Path) -> None:
    first = {f.path: f.id for f in run_checks(sample, ChecksConfig(pytest=False), FILES).failures}
    second = {f.path: f.id for f in run_checks(sample, ChecksConfig(pytest=False), FILES).failures}
    assert first == second == {"calc.py": first["calc.py"]}


def test_attribution_by_name_when_nothing_is_imported(tmp_path: Path) -> None:
    write(tmp_path, {
        "lib/parser.py": "def parse(s):\n    return s\n",
        "tests/test_parser.py": "import importlib\n\ndef test_parse():\n"
                                "    mod = importlib.import_module('lib.parser')\n"
                                "    assert mod.parse('a') == 'b'\n",
    })
    files = ["lib/parser.py", "tests/test_parser.py"]
    report = run_checks(tmp_path, ChecksConfig(), files)
    assert [f.path for f in report.failures] == ["lib/parser.py"]


def test_broken_test_file_is_attributed_to_itself(tmp_path: Path) -> None:
    write(tmp_path, {"tests/test_x.py": "def test_x():\n    assert undefined_name\n"})
    report = run_checks(tmp_path, ChecksConfig(), ["tests/test_x.py"])
    assert [f.path for f in report.failures] == ["tests/test_x.py"]


def test_no_tests_is_not_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "x = 1\n"})
    assert run_checks(tmp_path, ChecksConfig(), ["a.py"]).failures == []


def test_whole_run_limit_keeps_the_results_that_finished(tmp_path: Path) -> None:
    write(tmp_path, {"test_slow.py": "import time\n\ndef test_fast():\n    assert 1\n\n"
                                     "def test_slow():\n    time.sleep(30)\n"})
    run = run_pytest(tmp_path, ChecksConfig(test_timeout_s=0, jobs=1), timeout_s=2)
    assert run.timed_out and "did not finish within 2 s (1 results kept)" in run.error
    assert [(o.nodeid, o.outcome) for o in run.outcomes] == [("test_slow.py::test_fast",
                                                              "passed")]


def test_cancel_stops_a_long_run_and_its_processes(tmp_path: Path) -> None:
    marker = tmp_path / "pids"
    write(tmp_path, {"test_slow.py": "import os, time\n\ndef test_slow():\n"
                                     f"    open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
                                     "    time.sleep(60)\n"})
    cancel = threading.Event()
    threading.Thread(target=lambda: (_wait_for(marker), cancel.set()), daemon=True).start()
    started = time.monotonic()
    with pytest.raises(TestRunCancelled):
        run_pytest(tmp_path, ChecksConfig(), timeout_s=120, cancel=cancel)
    assert time.monotonic() - started < 30
    pid = int(marker.read_text())
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def _wait_for(path: Path) -> None:
    while not path.exists():
        time.sleep(0.05)


def test_bad_pytest_command(tmp_path: Path) -> None:
    with pytest.raises(TestRunError, match="cannot run pytest"):
        run_pytest(tmp_path, ChecksConfig(pytest_command="/no/such/python -m pytest"))


def test_custom_command_with_pattern(tmp_path: Path) -> None:
    write(tmp_path, {"lint.py": "import sys\nprint('a.py:3: E1 bad thing')\n"
                                "print('a.py:9: E2 worse')\nprint('pkg/b.py:1: W1 meh')\n"
                                "print('noise')\n"})
    check = CommandCheck(name="lint", command=f"{sys.executable} lint.py",
                         pattern=r"^(?P<path>[^:]+):(?P<line>\d+): (?P<message>.*)$")
    failures = {f.path: f for f in command_failures(tmp_path, check, 30)}
    assert set(failures) == {"a.py", "pkg/b.py"}
    assert (failures["a.py"].line, failures["a.py"].message) == (3, "E1 bad thing")
    assert "E2 worse" in failures["a.py"].details and failures["a.py"].kind == "command"


@pytest.mark.parametrize(("command", "pattern", "needle"), [
    ("/no/such/tool", r"(?P<path>.*)", "not found"),
    ("true", r"(?P<path", "bad pattern"),
])
def test_bad_custom_commands(tmp_path: Path, command: str, pattern: str, needle: str) -> None:
    with pytest.raises(CheckError, match=needle):
        command_failures(tmp_path, CommandCheck("c", command, pattern), 10)


def test_check_cli_json(sample: Path, cli: Cli) -> None:
    result = cli("check", "--json", str(sample))
    assert result.code == 0, result.err  # the check ran; its findings are the output
    data = json.loads(result.out)
    assert {f["path"] for f in data["failures"]} == {"shop/cart.py", "calc.py", "greet.py"}
    for entry in data["failures"]:
        assert {"id", "path", "kind", "check", "message", "details", "tests"} <= set(entry)
