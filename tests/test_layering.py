"""Layering rules, enforced: the core never loads the UI, one selenium owner.

See docs/architecture.md#layers.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

CORE = REPO / "dreamscape_tui" / "core"
CORE_MODULES = sorted(
    f"dreamscape_tui.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__"
)


def test_core_has_modules() -> None:
    assert "dreamscape_tui.core.scanner" in CORE_MODULES


# Outside the core, but plain Python too: the app's read model and what it leads to.
UI_FREE = ["dreamscape_tui.readmodel", "dreamscape_tui.decisions", "widgets.heal_style",
           "widgets.file_tree_model"]


@pytest.mark.parametrize("module", CORE_MODULES + UI_FREE)
def test_core_module_does_not_load_textual_or_rich(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich'})\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_the_client_imports_selenium() -> None:
    sources = [*(REPO / "dreamscape_tui").rglob("*.py"), *(REPO / "widgets").rglob("*.py")]
    importers = sorted(str(p.relative_to(REPO)) for p in sources
                       if "selenium" in _imported_roots(p))
    assert importers in ([], ["dreamscape_tui/core/client.py"])


def test_core_imports_neither_app_nor_widgets() -> None:
    for path in CORE.glob("*.py"):
        roots = _imported_roots(path)
        assert "widgets" not in roots, path
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                ui = ("dreamscape_tui.app", "dreamscape_tui.screens")
                assert not node.module.startswith(ui), path
