"""Resolve a Python file's imports to files of the same project (static, no imports run)."""

from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath

SOURCE_ROOTS = ("", "src")


def _module_files(module: str, project_files: set[str]) -> list[str]:
    base = module.replace(".", "/")
    found = []
    for source_root in SOURCE_ROOTS:
        prefix = f"{source_root}/" if source_root else ""
        for candidate in (f"{prefix}{base}.py", f"{prefix}{base}/__init__.py"):
            if candidate in project_files:
                found.append(candidate)
    return found


def imported_project_files(root: Path, rel: str, project_files: set[str]) -> list[str]:
    """Project files that ``rel`` imports, in import order, without duplicates.

    ``from pkg import name`` tries ``pkg/name.py`` (a submodule) before ``pkg``; relative
    imports resolve against the file's own package. Unparseable files import nothing.
    """
    try:
        tree = ast.parse((root / rel).read_bytes())
    except (SyntaxError, ValueError, OSError):
        return []
    package = PurePosixPath(rel).parent.parts
    found: list[str] = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = ".".join([*anchor, *(node.module.split(".") if node.module else [])])
            else:
                base = node.module or ""
            modules = [f"{base}.{alias.name}" if base else alias.name for alias in node.names]
            modules.append(base)
        for module in modules:
            for path in _module_files(module, project_files) if module else []:
                if path not in found and path != rel:
                    found.append(path)
    return found
