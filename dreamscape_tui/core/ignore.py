"""Declarative ignore rules with gitignore semantics.

Sources, strongest first:

1. ``.git`` and the state dir ``.dreamscape``: always skipped, even with ``--no-ignore``.
2. Root-relative patterns from ``[scanner] ignore`` and ``--ignore``: beat every file.
3. ``.scannerignore`` then ``.gitignore`` of the deepest directory holding a rule that
   matches, up to the root: a deeper directory beats a shallower one, and in one
   directory ``.scannerignore`` beats ``.gitignore``. Inside one file the last
   matching pattern wins (pathspec's ``GitIgnoreSpec``), negations included.
4. Built-in defaults (virtualenvs, ``__pycache__``, tool caches): weakest, so a project
   file may re-include them with ``!pattern``. A directory holding ``pyvenv.cfg`` is a
   virtualenv whatever its name.

A walker asks ``RuleSet.ignored(path, is_dir)`` for each entry and never enters an
ignored directory (so, as in git, nothing inside it can be re-included). Each
directory's ignore files are read and compiled once, on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

ALWAYS_SKIPPED = frozenset({".git", ".dreamscape"})
IGNORE_FILES = (".scannerignore", ".gitignore")  # strongest first, within one directory
DEFAULT_PATTERNS = (
    "__pycache__/",
    ".venv/",
    "venv/",
    ".tox/",
    ".nox/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    "node_modules/",
    "*.egg-info/",
)


def is_virtualenv(directory: Path) -> bool:
    """A directory holding ``pyvenv.cfg`` is a virtualenv (unreadable ones are not)."""
    try:
        return (directory / "pyvenv.cfg").is_file()
    except OSError:
        return False


def _compile(lines: Sequence[str]) -> GitIgnoreSpec | None:
    """Compile gitignore lines; None when they hold no pattern (only comments/blanks)."""
    spec = GitIgnoreSpec.from_lines(lines)
    return spec if any(p.include is not None for p in spec.patterns) else None


def _decide(spec: GitIgnoreSpec | None, rel: str) -> bool | None:
    """True = ignored, False = re-included by a negation, None = no pattern matched."""
    if spec is None:
        return None
    include: bool | None = spec.check_file(rel).include
    return include


@dataclass
class RuleSet:
    """The ignore rules of one project root.

    ``patterns`` are the root-relative config/CLI patterns; ``no_ignore`` turns off
    every source but ``ALWAYS_SKIPPED``.
    """

    root: Path
    patterns: Sequence[str] = ()
    no_ignore: bool = False
    _override: GitIgnoreSpec | None = field(init=False, default=None)
    _defaults: GitIgnoreSpec | None = field(init=False, default=None)
    _dir_specs: dict[str, tuple[GitIgnoreSpec | None, ...]] = field(
        init=False, default_factory=dict
    )
    _chains: dict[str, list[tuple[str, GitIgnoreSpec]]] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if not self.no_ignore:
            self._override = _compile(list(self.patterns))
            self._defaults = _compile(DEFAULT_PATTERNS)

    def _specs_of(self, rel_dir: str) -> tuple[GitIgnoreSpec | None, ...]:
        """The compiled ignore files of one directory (root-relative, '' = root)."""
        specs = self._dir_specs.get(rel_dir)
        if specs is None:
            directory = self.root / rel_dir
            compiled: list[GitIgnoreSpec | None] = []
            for name in IGNORE_FILES:
                try:
                    text = (directory / name).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    compiled.append(None)
                    continue
                compiled.append(_compile(text.splitlines()))
            specs = tuple(compiled)
            self._dir_specs[rel_dir] = specs
        return specs

    def _chain(self, rel_dir: str) -> list[tuple[str, GitIgnoreSpec]]:
        """The ignore-file specs that can decide for entries of ``rel_dir``.

        Deepest directory first, ``.scannerignore`` before ``.gitignore`` within one;
        only directories that hold rules appear, so a project without ignore files
        pays nothing per file. Cached per directory.
        """
        chain = self._chains.get(rel_dir)
        if chain is None:
            own = [(rel_dir, spec) for spec in self._specs_of(rel_dir) if spec is not None]
            parent = rel_dir.rpartition("/")[0] if rel_dir else None
            chain = own + (self._chain(parent) if parent is not None else [])
            self._chains[rel_dir] = chain
        return chain

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """Whether the root-relative, '/'-separated ``rel`` is excluded.

        The caller guarantees that no ancestor directory of ``rel`` was excluded (the
        walker does not enter excluded directories).
        """
        parent, _, name = rel.rpartition("/")
        if is_dir and name in ALWAYS_SKIPPED:
            return True
        if self.no_ignore:
            return False
        probe = rel + "/" if is_dir else rel
        decision = _decide(self._override, probe)
        if decision is not None:
            return decision
        for rel_dir, spec in self._chain(parent):
            decision = _decide(spec, probe[len(rel_dir) + 1 :] if rel_dir else probe)
            if decision is not None:
                return decision
        if is_dir and is_virtualenv(self.root / rel):
            return True
        return _decide(self._defaults, probe) is True
