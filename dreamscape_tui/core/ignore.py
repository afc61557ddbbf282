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

Cost: the built-in defaults are all directory names (``NAME/`` or ``*SUFFIX/``), matched
here by name without pathspec; pathspec is imported only when a pattern or an ignore
file exists. A walker that has listed a directory tells ``enter()`` which names it holds,
so directories without ignore files cost no ``open()`` and no ``stat()``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

ALWAYS_SKIPPED = frozenset({".git", ".dreamscape"})
IGNORE_FILES = (".scannerignore", ".gitignore")  # strongest first, within one directory
VENV_MARKER = "pyvenv.cfg"
DEFAULT_DIR_NAMES = (
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
)
DEFAULT_DIR_SUFFIXES = (".egg-info",)
# The defaults as gitignore patterns (what they mean; ``default_ignored`` matches them).
DEFAULT_PATTERNS = (
    *(f"{name}/" for name in DEFAULT_DIR_NAMES),
    *(f"*{suffix}/" for suffix in DEFAULT_DIR_SUFFIXES),
)
_DEFAULT_NAMES = frozenset(DEFAULT_DIR_NAMES)


def is_virtualenv(directory: Path) -> bool:
    """A directory holding ``pyvenv.cfg`` is a virtualenv (unreadable ones are not)."""
    try:
        return (directory / VENV_MARKER).is_file()
    except OSError:
        return False


def default_ignored(name: str, is_dir: bool) -> bool:
    """Whether the built-in ``DEFAULT_PATTERNS`` match an entry called ``name``.

    They are directory-only patterns without an inner slash, so (as in git) they match
    a directory's own name at any depth and never a file: no pathspec needed.
    """
    return is_dir and (name in _DEFAULT_NAMES or name.endswith(DEFAULT_DIR_SUFFIXES))


def _compile(lines: Sequence[str]) -> GitIgnoreSpec | None:
    """Compile gitignore lines; None when they hold no pattern (only comments/blanks)."""
    if not any(line.strip() and not line.startswith("#") for line in lines):
        return None  # nothing to compile: spare the pathspec import
    from pathspec import GitIgnoreSpec

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
    _dir_specs: dict[str, tuple[GitIgnoreSpec | None, ...]] = field(
        init=False, default_factory=dict
    )
    _chains: dict[str, list[tuple[str, GitIgnoreSpec]]] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if not self.no_ignore:
            self._override = _compile(list(self.patterns))

    def enter(self, rel_dir: str, names: Collection[str]) -> None:
        """Note the entry names of a directory just listed ('' = root).

        Only the ignore files among ``names`` are read: a directory without any costs
        no system call. Without this, ``_specs_of`` tries to open each ignore file.
        """
        if self.no_ignore or rel_dir in self._dir_specs:
            return
        if not any(name in names for name in IGNORE_FILES):
            self._dir_specs[rel_dir] = (None,) * len(IGNORE_FILES)
        else:
            self._dir_specs[rel_dir] = self._read_specs(rel_dir, names)

    def _read_specs(self, rel_dir: str, names: Collection[str] | None) -> tuple[
            GitIgnoreSpec | None, ...]:
        directory = self.root / rel_dir
        compiled: list[GitIgnoreSpec | None] = []
        for name in IGNORE_FILES:
            if names is not None and name not in names:
                compiled.append(None)
                continue
            try:
                text = (directory / name).read_text(encoding="utf-8", errors="replace")
            except OSError:
                compiled.append(None)
                continue
            compiled.append(_compile(text.splitlines()))
        return tuple(compiled)

    def _specs_of(self, rel_dir: str) -> tuple[GitIgnoreSpec | None, ...]:
        """The compiled ignore files of one directory (root-relative, '' = root)."""
        specs = self._dir_specs.get(rel_dir)
        if specs is None:
            specs = self._dir_specs[rel_dir] = self._read_specs(rel_dir, None)
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

    def decide(self, rel: str, is_dir: bool) -> bool | None:
        """What the patterns say of ``rel``: sources 1 to 3 above.

        True = ignored, False = kept (``--no-ignore``, or re-included by a negation),
        None = no pattern matched: the built-in defaults (4) decide.
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
        return None

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """Whether the root-relative, '/'-separated ``rel`` is excluded.

        The caller guarantees that no ancestor directory of ``rel`` was excluded (the
        walker does not enter excluded directories).
        """
        decision = self.decide(rel, is_dir)
        if decision is not None:
            return decision
        if default_ignored(rel.rpartition("/")[2], is_dir):
            return True
        return is_dir and is_virtualenv(self.root / rel)
