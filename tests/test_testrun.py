"""Real pytest runs on suites that hang, crash or live in their own virtualenv.

Every test here runs the project's pytest in subprocesses, through dreamscape's own
plugin, exactly as ``dreamscape check`` and heal validation do.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from dreamscape_tui.core.checks import run_checks
from dreamscape_tui.core.config import ChecksConfig
from dreamscape_tui.core.interpreter import project_python
from dreamscape_tui.core.schema import ConfigError
from dreamscape_tui.core.testrun import TestOutcome, run_pytest
from tests.conftest import Cli, write

FAST = ChecksConfig(test_timeout_s=1.5, jobs=1)

CALC = """\
import threading
import time


def add(a, b):
    return a + b


def spin(n):
    while True:
        n += 1


def sleep_forever():
    time.sleep(1000)


def wait_forever():
    threading.Event().wait()
"""


def outcomes(run_outcomes: list[TestOutcome]) -> dict[str, str]:
    return {o.nodeid.split("::")[-1]: o.outcome for o in run_outcomes}


@pytest.mark.parametrize("hang", ["spin(1)", "sleep_forever()", "wait_forever()"])
def test_a_hanging_test_fails_alone_and_the_run_goes_on(tmp_path: Path, hang: str) -> None:
    write(tmp_path, {
        "calc.py": CALC,
        "tests/test_calc.py": "from calc import add, spin, sleep_forever, wait_forever\n\n"
                              "def test_add():\n    assert add(1, 2) == 3\n\n"
                              f"def test_hang():\n    {hang}\n\n"
                              "def test_add_again():\n    assert add(2, 2) == 4\n",
        "tests/test_other.py": "def test_ok():\n    assert True\n\n"
                               "def test_bad():\n    assert 1 == 2\n",
    })
    run = run_pytest(tmp_path, FAST)
    assert run.error == ""
    assert outcomes(run.outcomes) == {"test_add": "passed", "test_hang": "timeout",
                                      "test_add_again": "notrun", "test_ok": "passed",
                                      "test_bad": "failed"}
    hung = next(o for o in run.outcomes if o.outcome == "timeout")
    assert hung.message.startswith("Failed: Timeout: the test ran over 1.5 s")
    assert any(f["path"].endswith("calc.py") for f in hung.frames)  # the stuck stack
    assert "_dreamscape_pytest_report" not in hung.details  # the plugin hides its frame
    skipped = next(o for o in run.outcomes if o.outcome == "notrun")
    assert skipped.message == "not run: its module calc.py hung"


def test_a_hang_is_attributed_to_the_source_file_it_was_stuck_in(tmp_path: Path) -> None:
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/calc.py": CALC,
        "tests/test_calc.py": "from pkg.calc import add, spin\n\n"
                              "def test_spin():\n    spin(0)\n\n"
                              "def test_add():\n    assert add(1, 1) == 2\n",
    })
    files = ["pkg/__init__.py", "pkg/calc.py", "tests/test_calc.py"]
    report = run_checks(tmp_path, FAST, files)
    assert report.errors == []
    (failure,) = report.failures
    assert (failure.path, failure.tests) == ("pkg/calc.py", ("tests/test_calc.py::test_spin",))
    assert "Timeout" in failure.message
    assert "test_add: not run: its module pkg/calc.py hung" in failure.details


def test_a_test_that_ignores_the_alarm_is_ended_and_the_rest_still_run(tmp_path: Path) -> None:
    # SIGALRM blocked: the plugin's watchdog records the stack and ends the process;
    # the supervisor restarts pytest without the tests already done
    write(tmp_path, {
        "stubborn.py": "import signal, time\n\ndef block():\n"
                       "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
                       "    time.sleep(1000)\n",
        "tests/test_a.py": "from stubborn import block\n\n"
                           "def test_first():\n    assert True\n\n"
                           "def test_block():\n    block()\n",
        "tests/test_b.py": "def test_after():\n    assert True\n",
    })
    run = run_pytest(tmp_path, ChecksConfig(test_timeout_s=1, jobs=1))
    assert outcomes(run.outcomes) == {"test_first": "passed", "test_block": "timeout",
                                      "test_after": "passed"}
    blocked = next(o for o in run.outcomes if o.outcome == "timeout")
    assert "its process was ended" in blocked.message
    assert any(f["path"].endswith("stubborn.py") for f in blocked.frames)


def test_a_frozen_process_is_ended_by_the_supervisor(tmp_path: Path) -> None:
    # SIGSTOP freezes every thread, the plugin's watchdog too: only the parent can act
    write(tmp_path, {
        "tests/test_a.py": "import os, signal\n\n"
                           "def test_freeze():\n    os.kill(os.getpid(), signal.SIGSTOP)\n\n"
                           "def test_after():\n    assert True\n",
    })
    run = run_pytest(tmp_path, ChecksConfig(test_timeout_s=1, jobs=1))
    assert outcomes(run.outcomes) == {"test_freeze": "timeout", "test_after": "passed"}


def test_a_crashing_test_is_an_error_and_the_rest_still_run(tmp_path: Path) -> None:
    write(tmp_path, {"tests/test_a.py": "import os\n\ndef test_crash():\n    os._exit(9)\n\n"
                                        "def test_after():\n    assert True\n"})
    run = run_pytest(tmp_path, FAST)
    assert outcomes(run.outcomes) == {"test_crash": "error", "test_after": "passed"}
    assert "exit status 9" in run.outcomes[0].message


def test_parallel_runs_share_the_files_and_report_each_test_once(tmp_path: Path) -> None:
    pid_log = tmp_path / "pids"
    files: dict[str, str | bytes] = {}
    for n in range(6):
        files[f"tests/test_{n}.py"] = (
            "import os, time\n\n"
            f"def test_one():\n    open({str(pid_log)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
            "    time.sleep(0.3)\n\n"
            "def test_two():\n    assert True\n")
    write(tmp_path, files)
    run = run_pytest(tmp_path, ChecksConfig(jobs=2))
    ids = [o.nodeid for o in run.outcomes]
    assert sorted(ids) == sorted(f"tests/test_{n}.py::test_{w}" for n in range(6)
                                 for w in ("one", "two"))
    assert len(set(pid_log.read_text().split())) == 2  # two processes did the work


def test_the_projects_pytest_timeout_stays_in_charge(tmp_path: Path) -> None:
    write(tmp_path, {
        "pytest.ini": "[pytest]\ntimeout = 1\n",
        "tests/test_a.py": "import time\n\ndef test_slow():\n    time.sleep(30)\n",
    })
    run = run_pytest(tmp_path, ChecksConfig(test_timeout_s=20, jobs=1))
    (outcome,) = run.outcomes
    assert outcome.outcome == "timeout"
    assert "Timeout (>1.0s) from pytest-timeout" in outcome.message


# -- the project's interpreter ---------------------------------------------------------------
def make_venv(where: Path, *, with_pytest: bool, extra_module: str = "") -> Path:
    """A real virtualenv (no pip: fast); pytest comes from ours through a .pth file."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    purelib = Path(subprocess.run(
        [str(where / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
         "['purelib'])"], check=True, capture_output=True, text=True).stdout.strip())
    if with_pytest:
        (purelib / "ours.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    if extra_module:
        (purelib / "projdep.py").write_text(extra_module)
    return where / "bin/python"


def test_checks_run_with_the_projects_virtualenv(tmp_path: Path) -> None:
    python = make_venv(tmp_path / ".venv", with_pytest=True,
                       extra_module="def answer():\n    return 42\n")
    write(tmp_path, {"app.py": "from projdep import answer\n\ndef twice():\n"
                               "    return answer() * 3\n",
                     "tests/test_app.py": "from app import twice\n\ndef test_twice():\n"
                                          "    assert twice() == 84\n"})
    assert project_python(tmp_path).path == str(python)
    report = run_checks(tmp_path, FAST, ["app.py", "tests/test_app.py"])
    assert report.errors == []
    (failure,) = report.failures  # the dependency imported: the real bug is found
    assert failure.path == "app.py" and "assert 126 == 84" in failure.message


def test_an_interpreter_without_pytest_is_named_with_the_fix(tmp_path: Path,
                                                              cli: Cli) -> None:
    python = make_venv(tmp_path / "venv", with_pytest=False)
    write(tmp_path, {"bad.py": "def f(:\n", "tests/test_x.py": "def test_x():\n    pass\n"})
    report = run_checks(tmp_path, FAST, ["bad.py", "tests/test_x.py"])
    assert [f.path for f in report.failures] == ["bad.py"]  # the syntax check still ran
    (error,) = report.errors
    assert error == (f"pytest is not installed for {python} (PROJECT/venv): install it "
                     f"there ({python} -m pip install pytest) or set [checks] python")
    result = cli("check", "--json", str(tmp_path))
    assert result.code == 1
    data = json.loads(result.out)
    assert data["errors"] == [error] and [f["path"] for f in data["failures"]] == ["bad.py"]
    assert "a check could not run: pytest is not installed" in result.err


def test_configured_python_wins_and_is_checked(tmp_path: Path) -> None:
    env = make_venv(tmp_path / "envs/main", with_pytest=True).parent.parent
    make_venv(tmp_path / ".venv", with_pytest=False)
    assert project_python(tmp_path, "envs/main").source == "[checks] python"
    assert project_python(tmp_path, str(env / "bin/python")).path == str(env / "bin/python")
    with pytest.raises(ConfigError, match=r"\[checks\] python: .*nowhere is not an executable"):
        project_python(tmp_path, "nowhere")
    with pytest.raises(ConfigError, match="a directory with no bin/python"):
        project_python(tmp_path, "envs")


def test_without_a_virtualenv_dreamscapes_own_interpreter_runs(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    chosen = project_python(tmp_path)
    assert (chosen.path, chosen.source) == (sys.executable, "dreamscape's own interpreter")


def test_parallel_runs_tear_down_across_packages(tmp_path: Path) -> None:
    # each process skips the files another one took: pytest must still tear down by
    # the next item it really runs (found on toolz's own suite, where it did not)
    files: dict[str, str | bytes] = {"pkg/__init__.py": ""}
    body = ("import time\nimport pytest\n\n@pytest.fixture(scope='module')\n"
            "def res():\n    yield 1\n\n"
            "def test_one(res):\n    time.sleep(0.2)\n\n"
            "def test_two(res):\n    assert res == 1\n")
    expected = []
    for sub in ("one", "two", "three"):
        files[f"pkg/{sub}/__init__.py"] = ""
        for n in range(4):
            files[f"pkg/{sub}/test_{sub}_{n}.py"] = body
            expected += [(f"pkg/{sub}/test_{sub}_{n}.py::test_{w}", "passed")
                         for w in ("one", "two")]
    write(tmp_path, files)
    run = run_pytest(tmp_path, ChecksConfig(jobs=2))
    assert run.error == ""
    assert sorted((o.nodeid, o.outcome) for o in run.outcomes) == sorted(expected)


def test_a_hang_behind_a_package_import_stops_that_modules_tests(tmp_path: Path) -> None:
    # `import calcpkg as cp` then `cp.spin()`: the test module holds only the package,
    # whose names come from calcpkg/core.py (found on more-itertools' own suite)
    write(tmp_path, {
        "calcpkg/__init__.py": "from calcpkg.core import *  # noqa\n",
        "calcpkg/core.py": CALC,
        "tests/test_pkg.py": "import calcpkg as cp\n\n"
                             "def test_spin():\n    cp.spin(0)\n\n"
                             + "".join(f"def test_add_{n}():\n    assert cp.add({n}, 0) == {n}\n\n"
                                       for n in range(3)),
    })
    run = run_pytest(tmp_path, FAST)
    assert outcomes(run.outcomes) == {"test_spin": "timeout", "test_add_0": "notrun",
                                      "test_add_1": "notrun", "test_add_2": "notrun"}
    assert {o.message for o in run.outcomes if o.outcome == "notrun"} == {
        "not run: its module calcpkg/core.py hung"}
