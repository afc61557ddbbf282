"""The project's source files, as every part of the engine agrees to see them."""

from __future__ import annotations

from pathlib import Path

from dreamscape_tui.core.config import ScannerConfig
from dreamscape_tui.core.ignore import RuleSet
from dreamscape_tui.core.walk import Candidate, walk


def source_files(root: Path, config: ScannerConfig) -> list[str]:
    """Root-relative paths of the readable .py files the ignore rules keep."""
    rules = RuleSet(root, config.ignore, no_ignore=config.no_ignore)
    return [e.rel for e in walk(root, rules, config.max_file_bytes) if isinstance(e, Candidate)]
