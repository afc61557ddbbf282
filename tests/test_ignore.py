"""Ignore rules, checked through the real walk.

Every precedence rule of docs/architecture.md#ignore-rules.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pathspec
import pytest

from dreamscape_tui.core import ignore as ignore_module
from dreamscape_tui.core import walk as walk_module
from dreamscape_tui.core.ignore import RuleSet
from dreamscape_tui.core.walk import Candidate, walk
from tests.conftest import write


def scanned(root: Path, patterns: Sequence[str] = (), no_ignore: bool = False) -> set[str]:
    rules = RuleSet(root, patterns, no_ignore=no_ignore)
    return {e.rel for e in walk(root, rules, 10**7) if isinstance(e, Candidate)}


def test_negation_inside_one_file_last_match_wins(tmp_path: Path) -> None:
    write(tmp_path, {".gitignore": "gen_*.py\n!gen_keep.py\n", "gen_a.py": "", "gen_keep.py": "",
                     "main.py": ""})
    assert scanned(tmp_path) == {"gen_keep.py", "main.py"}


def test_reinclude_later_in_file_then_excluded_again(tmp_path: Path) -> None:
    write(tmp_path, {".gitignore": "*.py\n!*.py\nx.py\n", "x.py": "", "y.py": ""})
    assert scanned(tmp_path) == {"y.py"}


def test_excluded_directory_is_reincluded_by_a_later_negation(tmp_path: Path) -> None:
    write(tmp_path, {".gitignore": "build/\n!build/\n", "build/a.py": "", "other/b.py": ""})
    assert scanned(tmp_path) == {"build/a.py", "other/b.py"}


def test_files_inside_an_excluded_directory_cannot_be_reincluded(tmp_path: Path) -> None:
    write(tmp_path, {".gitignore": "build/\n!build/keep.py\n", "build/keep.py": "",
                     "build/.gitignore": "!*.py\n", "a.py": ""})
    assert scanned(tmp_path) == {"a.py"}


def test_excluded_directory_is_not_entered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {".gitignore": "huge/\n", "huge/deep/x.py": "", "a.py": ""})
    entered: list[str] = []
    real_scandir = os.scandir

    def spy(path: os.PathLike[str] | str) -> object:
        entered.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(walk_module.os, "scandir", spy)
    assert scanned(tmp_path) == {"a.py"}
    assert not [p for p in entered if "huge" in p]


def test_deeper_directory_beats_shallower(tmp_path: Path) -> None:
    write(tmp_path, {
        ".gitignore": "legacy_*.py\n",
        "legacy_root.py": "",
        "pkg/.gitignore": "!legacy_ok.py\nlocal.py\n",
        "pkg/legacy_ok.py": "",
        "pkg/legacy_bad.py": "",
        "pkg/local.py": "",
        "local.py": "",  # pkg's pattern is relative to pkg/
    })
    assert scanned(tmp_path) == {"pkg/legacy_ok.py", "local.py"}


def test_patterns_are_relative_to_their_own_directory(tmp_path: Path) -> None:
    write(tmp_path, {"a/.gitignore": "/top.py\nsub/\n", "a/top.py": "", "a/b/top.py": "",
                     "a/sub/x.py": "", "sub/y.py": "", "top.py": ""})
    assert scanned(tmp_path) == {"a/b/top.py", "sub/y.py", "top.py"}


def test_scannerignore_beats_gitignore_in_the_same_directory(tmp_path: Path) -> None:
    write(tmp_path, {
        ".gitignore": "vendor/\nscratch.py\n",
        ".scannerignore": "!vendor/\ntools.py\n",
        ".gitignore_is_not_read_for_this": "",
        "vendor/lib.py": "",
        "scratch.py": "",
        "tools.py": "",
    })
    assert scanned(tmp_path) == {"vendor/lib.py"}


def test_deeper_gitignore_beats_shallower_scannerignore(tmp_path: Path) -> None:
    write(tmp_path, {".scannerignore": "*.py\n!*/\n", "pkg/.gitignore": "!keep.py\n",
                     "pkg/keep.py": "", "pkg/drop.py": "", "top.py": ""})
    assert scanned(tmp_path) == {"pkg/keep.py"}


def test_config_and_cli_patterns_beat_every_file(tmp_path: Path) -> None:
    write(tmp_path, {
        ".scannerignore": "!secret.py\n",
        ".gitignore": "important/\n",
        "pkg/.gitignore": "!gen.py\n",
        "secret.py": "", "important/a.py": "", "pkg/gen.py": "", "pkg/ok.py": "",
    })
    assert scanned(tmp_path, ["secret.py", "!important/", "pkg/gen.py"]) == {
        "important/a.py", "pkg/ok.py"}


def test_config_patterns_are_root_relative(tmp_path: Path) -> None:
    write(tmp_path, {"migrations/0001.py": "", "app/migrations/0002.py": "",
                     "app/models.py": "", "api_pb2.py": "", "app/x_pb2.py": ""})
    assert scanned(tmp_path, ["/migrations/", "*_pb2.py"]) == {
        "app/migrations/0002.py", "app/models.py"}


def test_builtin_defaults_skip_virtualenvs_and_caches(tmp_path: Path) -> None:
    write(tmp_path, {
        ".venv/lib/site.py": "", "venv/x.py": "", "__pycache__/m.py": "",
        "sub/__pycache__/m.py": "", "myenv/pyvenv.cfg": "home = /usr\n", "myenv/lib/x.py": "",
        ".git/hooks/h.py": "", ".dreamscape/s.py": "", "app.py": "",
    })
    assert scanned(tmp_path) == {"app.py"}


def test_project_file_can_reinclude_a_default(tmp_path: Path) -> None:
    write(tmp_path, {".gitignore": "!venv/\n", "venv/tool.py": "", ".venv/x.py": ""})
    assert scanned(tmp_path) == {"venv/tool.py"}


def test_no_ignore_turns_off_everything_but_git_and_state_dir(tmp_path: Path) -> None:
    write(tmp_path, {
        ".gitignore": "*.py\n", ".scannerignore": "*.py\n", "a.py": "", ".venv/b.py": "",
        "__pycache__/c.py": "", ".git/d.py": "", ".dreamscape/e.py": "",
    })
    assert scanned(tmp_path, ["a.py"], no_ignore=True) == {
        "a.py", ".venv/b.py", "__pycache__/c.py"}


def test_names_with_spaces_and_non_ascii(tmp_path: Path) -> None:
    write(tmp_path, {
        ".gitignore": "my file.py\ndonnées/\n# a comment\n\n日本/*.py\n!日本/残す.py\n",
        "my file.py": "", "your file.py": "", "données/été.py": "", "autres/été.py": "",
        "日本/消す.py": "", "日本/残す.py": "",
    })
    assert scanned(tmp_path) == {"your file.py", "autres/été.py", "日本/残す.py"}


def test_each_directory_spec_is_compiled_once(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    files: dict[str, str | bytes] = {f"pkg/m{i}.py": "" for i in range(30)}
    files.update({".gitignore": "x.py\n", "pkg/.gitignore": "y.py\n"})
    write(tmp_path, files)
    calls: list[int] = []
    real = pathspec.GitIgnoreSpec.from_lines

    def counting(lines: Sequence[str]) -> object:
        calls.append(1)
        return real(lines)

    monkeypatch.setattr(pathspec.GitIgnoreSpec, "from_lines", counting)
    assert len(scanned(tmp_path)) == 30
    # root .gitignore + pkg/.gitignore; the built-in defaults are matched by name and
    # an empty config pattern list compiles to nothing, so neither goes to pathspec
    assert len(calls) == 2


def test_builtin_defaults_match_as_their_gitignore_patterns() -> None:
    spec = pathspec.GitIgnoreSpec.from_lines(ignore_module.DEFAULT_PATTERNS)
    names = [*ignore_module.DEFAULT_DIR_NAMES, "x.egg-info", ".egg-info", "a.egg-infos",
             "egg-info", "venv2", "_venv", "__pycache__x", "node_modules.py", "pkg", ".git"]
    for name in names:
        for is_dir in (True, False):
            for parent in ("", "a/", "a/b/"):
                probe = f"{parent}{name}/" if is_dir else f"{parent}{name}"
                expected = spec.check_file(probe).include is True
                assert ignore_module.default_ignored(name, is_dir) == expected, probe


def test_directories_without_ignore_files_open_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files: dict[str, str | bytes] = {f"d{i}/sub/m.py": "" for i in range(20)}
    files.update({"d3/.gitignore": "m.py\n", "d3/sub/notes.txt": ""})
    write(tmp_path, files)
    opened: list[str] = []
    real_read_text = Path.read_text

    def spy(self: Path, *args: Any, **kwargs: Any) -> str:
        opened.append(self.name)
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", spy)
    assert scanned(tmp_path) == {f"d{i}/sub/m.py" for i in range(20) if i != 3}
    assert opened == [".gitignore"]  # only the one that exists was read


def test_no_pattern_anywhere_needs_no_pathspec(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "", "venv/x.py": "", "pkg/.gitignore": "# just a comment\n\n",
                     "pkg/b.py": ""})
    code = ("import sys; from pathlib import Path; from dreamscape_tui.core.ignore import "
            "RuleSet; from dreamscape_tui.core.walk import walk; "
            f"print(sorted(e.rel for e in walk(Path({str(tmp_path)!r}), RuleSet(Path("
            f"{str(tmp_path)!r})), 10**7)), 'pathspec' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['a.py', 'pkg/b.py'] False"
