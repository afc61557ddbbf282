"""Continuous healing: what one watch batch rechecks, and which heals it settles.

``AutomationEngine.recheck`` drives it; this module decides, so the rules read in one
place (``docs/architecture.md#heal-loop``):

* **own writes are not changes**: a file that holds exactly what this engine last wrote
  to it (an applied fix, an undo: the apply records' hashes) is dropped from the batch,
  so a heal never triggers a recheck of itself, let alone a loop;
* **what is rechecked** (``plan``): the changed ``.py`` files are compiled; the test
  modules run are the changed ones, those that import a changed file (statically,
  transitively: ``imports.imported_project_files``), those named after it
  (``test_x.py`` for ``x.py``, as attribution does) and, for a changed ``conftest.py``,
  every test module under its directory; the files those tests import are compiled too,
  so a collection error folds into the syntax failure of a file that is already broken.
  Custom commands are project-wide and always run. An ignore file or a tool config
  (``watch.CONFIG_FILES``) changed: everything is checked, as on a first pass;
* **a failure that is gone**: a queued or retrying item whose failure this recheck
  covers (its file was compiled, its tests ran, or it is a command failure, and no check
  failed to run) and that did not fail again is closed as ``rejected`` with the reason
  "no longer fails" before any model is asked (the item of a deleted file likewise);
  ``rejected`` is the one existing end state that claims no fix and, from a waiting
  state, counts no verdict in the learning statistics;
* **escalated items stay the reviewer's**: the watcher never closes or re-queues them
  (closing one would count as a person's rejection of its fix); one whose failure is gone
  is named in the log as moot, and a failure whose item waits for review is not queued
  again (retry, with a hint, heals the new content);
* **new failures** are queued (the store skips those an active item already heals).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from dreamscape_tui.core.apply import file_hash
from dreamscape_tui.core.checks import CheckReport, Failure, run_checks, syntax_failure
from dreamscape_tui.core.config import ChecksConfig
from dreamscape_tui.core.events import FileResult, SkippedFile
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.healtypes import HealId, HealItem, HealState
from dreamscape_tui.core.ignore import IGNORE_FILES
from dreamscape_tui.core.imports import SOURCE_ROOTS, imported_project_files
from dreamscape_tui.core.watch import CONFIG_FILES

__all__ = ["ImportIndex", "Plan", "Recheck", "WatchState", "known_files", "merge_reports",
           "own_writes", "run_recheck", "settle", "worth_a_scan"]

GONE = "no longer fails: fixed outside dreamscape"
DELETED = "the file was deleted"


def is_test_module(rel: str) -> bool:
    """A module pytest collects by default (``test_*.py``, ``*_test.py``)."""
    name = PurePosixPath(rel).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def own_writes(root: Path, heals: HealStore) -> Callable[[str], bool]:
    """``own(rel)``: the file holds exactly what this engine last wrote to it."""
    latest = {fix.path: fix for fix in heals.applied_fixes()}

    def own(rel: str) -> bool:
        fix = latest.get(rel)
        if fix is None:
            return False
        wrote = {"applied": fix.after_hash, "undone": fix.before_hash}.get(fix.state)
        return wrote is not None and file_hash(root / rel) == wrote

    return own


def known_files(root: Path, results: Iterable[FileResult | SkippedFile]) -> set[str]:
    """The ``.py`` files a scan found: analysed ones and unanalysable regular files."""
    return {r.path for r in results if isinstance(r, FileResult)
            or (r.path.endswith(".py") and (root / r.path).is_file())}


def _full(rel: str) -> bool:
    parent, _, name = rel.rpartition("/")
    return name in IGNORE_FILES or (not parent and name in CONFIG_FILES)


def _under(directory: str, files: Iterable[str]) -> set[str]:
    prefix = directory.rstrip("/") + "/"
    return {f for f in files if f.startswith(prefix)}


def worth_a_scan(paths: Collection[str], before: set[str],
                 own: Callable[[str], bool], root: Path) -> bool:
    """Cheap test before any scan: does anything in the batch matter at all?"""
    for rel in paths:
        if _full(rel) or (rel.endswith(".py") and not own(rel)):
            return True
        if (root / rel).is_dir() or _under(rel, before):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Plan:
    """What one recheck covers (see the module docs)."""

    full: bool
    changed: tuple[str, ...] = ()  # changed .py files that exist
    deleted: tuple[str, ...] = ()  # .py files gone since the last scan
    compile: tuple[str, ...] = ()  # syntax-checked
    tests: tuple[str, ...] = ()  # test modules run

    def describe(self) -> str:
        """One log line: what changed and what is checked again."""
        if self.full:
            return "the ignore rules or a tool config changed: checking everything"
        names = [*self.changed, *(f"{p} (deleted)" for p in self.deleted)]
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        tests = len(self.tests)
        return (f"changed: {', '.join(names[:3])}{more}; rechecking with {tests} test "
                f"module{'s' if tests != 1 else ''}")

    def covers(self, failure: Failure, ran_clean: bool) -> bool:
        """Whether this recheck would have seen ``failure`` again if it still failed."""
        if failure.path in self.deleted:
            return True
        if failure.kind == "syntax":
            return self.full or failure.path in self.compile
        if not ran_clean:
            return False  # a check that could not run proves nothing
        if failure.kind == "command" or self.full:
            return True
        files = {n.split("::")[0] for n in failure.tests}
        return bool(files) and files <= {*self.tests, *self.deleted}


@dataclass
class Recheck:
    """What one recheck did: the CLI prints it, one object per pass."""

    plan: Plan
    settled: list[HealItem] = field(default_factory=list)  # closed: failure gone
    queued: list[HealId] = field(default_factory=list)
    summary: Any = None  # the engine's HealSummary of the heal that followed

    def to_json(self) -> dict[str, Any]:
        """``heal --headless --watch --json``: the pass's ``HealSummary`` object plus
        ``watch``: what changed, what was settled and queued."""
        data: dict[str, Any] = self.summary.to_json() if self.summary is not None else {}
        data["watch"] = {
            "full": self.plan.full, "changed": list(self.plan.changed),
            "deleted": list(self.plan.deleted), "tests": list(self.plan.tests),
            "settled": [{"id": i.label, "path": i.path, "reason": i.reason}
                        for i in self.settled],
            "queued": [f"h{i}" for i in self.queued]}
        return data


_STATEMENT = re.compile(rb"^[ \t]*(?:from|import)[ \t][^\n(#]*(?:\([^)]*\))?", re.MULTILINE)
_NAME = re.compile(rb"\.+(?:[A-Za-z_][\w.]*)?|[A-Za-z_][\w.]*")


class ImportIndex:
    """Who imports whom among the project's files, cheaply enough for every save.

    Parsing every file (``imports.imported_project_files``) costs seconds on a large
    project, so the reverse question ("who imports ``pkg/x.py``?") first narrows the
    field with the names in each file's import statements (a regex, cached by stat): a
    file can only import module ``pkg.x`` if ``x`` is among them, and package ``pkg``
    (its ``__init__.py``) if ``pkg`` itself is (``import pkg``, ``from pkg import``,
    ``from pkg import sub`` for ``pkg.sub``), or if it sits inside the package and
    imports relatively. Only those candidates are parsed, their imports cached by stat
    too. Imports resolve against the set of files, so a new or deleted file clears that
    cache (not the names).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: frozenset[str] = frozenset()
        self._stats: dict[str, tuple[int, int]] = {}
        self._names: dict[str, frozenset[bytes]] = {}
        self._imports: dict[str, list[str]] = {}

    def refresh(self, files: set[str]) -> None:
        """Take the current files: forget what changed since the last call."""
        if files != self._files:
            self._files, self._imports = frozenset(files), {}
        for rel in set(self._stats) - files:
            self._forget(rel)
        for rel in files:
            try:
                st = os.stat(self.root / rel)
                key = (st.st_size, st.st_mtime_ns)
            except OSError:
                key = (-1, -1)
            if self._stats.get(rel) != key:
                self._forget(rel)
                self._stats[rel] = key

    def _forget(self, rel: str) -> None:
        for cache in (self._stats, self._names, self._imports):
            cache.pop(rel, None)

    def imports(self, rel: str) -> list[str]:
        """The project files ``rel`` imports (parsed once per version of the file)."""
        found = self._imports.get(rel)
        if found is None:
            found = self._imports[rel] = imported_project_files(self.root, rel,
                                                                set(self._files))
        return found

    def _names_of(self, rel: str) -> frozenset[bytes]:
        """Each name in the import statements, dotted as written, and its parts."""
        names = self._names.get(rel)
        if names is None:
            try:
                data = (self.root / rel).read_bytes()
            except OSError:
                data = b""
            found: set[bytes] = set()
            for statement in _STATEMENT.finditer(data):
                for name in _NAME.findall(statement.group()):
                    found.add(name)
                    found.update(name.split(b"."))
            names = self._names[rel] = frozenset(found)
        return names

    def _maybe(self, rel: str, target: PurePosixPath, module: list[bytes],
               package: str) -> bool:
        """Whether ``rel`` can import ``target``, module ``module`` of the top-level
        ``package`` directory ("" for a top-level module): cheap, no false negatives."""
        names = self._names_of(rel)
        last = module[-1]
        if b".".join(module) in names or (
                len(module) > 1 and last in names and b".".join(module[:-1]) in names):
            return True  # import a.b.c, from a.b.c import x, from a.b import c
        if not package or not rel.startswith(package) or not any(
                n.startswith(b".") for n in names):
            return False  # only a module of the same package imports it relatively
        if target.name == "__init__.py":
            return rel.startswith(f"{target.parent}/") or last in names
        return last in names

    def importers(self, target: str) -> list[str]:
        """The project files that import ``target``."""
        path = PurePosixPath(target)
        parts = list(path.parent.parts if path.name == "__init__.py"
                     else (*path.parent.parts, path.stem))
        skip = int(len(parts) > 1 and parts[0] in SOURCE_ROOTS)  # src/pkg/x.py: pkg.x
        parts = parts[skip:]
        if not parts:
            return []
        module = [p.encode() for p in parts]
        in_package = len(parts) > 1 or path.name == "__init__.py"
        package = "/".join(path.parts[:skip + 1]) + "/" if in_package else ""
        return [rel for rel in self._files if rel != target
                and self._maybe(rel, path, module, package) and target in self.imports(rel)]


def _reach(step: Callable[[str], Iterable[str]], start: Iterable[str]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in step(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


class WatchState:
    """What the engine keeps between rechecks: the files it knows and the import index."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.known: set[str] | None = None  # .py files of the last scan
        self.index = ImportIndex(root)

    def plan(self, paths: Collection[str], before: set[str], after: set[str],
             own: Callable[[str], bool]) -> Plan | None:
        """What to recheck for a batch; None when nothing relevant changed."""
        full = any(_full(p) for p in paths)
        py: set[str] = set()
        for rel in paths:
            if rel.endswith(".py"):
                py |= {rel} & (before | after)
            else:  # a directory moved in or away: the files under it that came or went
                py |= _under(rel, after - before) | _under(rel, before - after)
        py = {p for p in py if p not in after or not own(p)}
        if not py and not full:
            return None
        changed = sorted(py & after)
        deleted = sorted(py - after)
        if full:
            return Plan(True, tuple(changed), tuple(deleted), tuple(sorted(after)))
        index = self.index
        index.refresh(after | set(deleted))  # a deleted module still resolves: who had it
        touched = {*changed, *deleted}
        tests = {t for t in _reach(index.importers, touched)
                 if t in after and is_test_module(t)}
        modules = sorted(t for t in after if is_test_module(t))
        for rel in touched:
            path = PurePosixPath(rel)
            if path.name == "conftest.py":
                tests |= _under(str(path.parent), modules) if str(path.parent) != "." \
                    else set(modules)
            elif not is_test_module(rel):
                named = {f"test_{path.stem}.py", f"{path.stem}_test.py"}
                tests |= {t for t in modules if PurePosixPath(t).name in named}
        compile_ = (_reach(index.imports, tests) | set(changed)) & after
        return Plan(False, tuple(changed), tuple(deleted), tuple(sorted(compile_)),
                    tuple(sorted(tests)))


def run_recheck(root: Path, config: ChecksConfig, plan: Plan, files: list[str],
                cancel: threading.Event | None = None) -> CheckReport:
    """The checks of ``plan``: pytest on its test modules only (``files`` is every
    project file, for attribution), the custom commands, and compile on ``plan.compile``,
    a collection error folded into its file's syntax failure as ``run_checks`` does."""
    if plan.full:
        return run_checks(root, config, files, cancel)
    jobs = min(config.jobs or os.cpu_count() or 1, max(len(plan.tests), 1))
    scoped = replace(config, syntax=False, pytest=config.pytest and bool(plan.tests),
                     pytest_args=(*config.pytest_args, *plan.tests), jobs=jobs)
    report = run_checks(root, scoped, files, cancel)
    if not config.syntax:
        return report
    syntax = {rel: f for rel in plan.compile if (f := syntax_failure(root, rel)) is not None}
    others = []
    for failure in report.failures:
        known = syntax.get(failure.path)
        if known is not None and failure.kind == "test":
            syntax[failure.path] = replace(known, tests=known.tests + failure.tests)
        else:
            others.append(failure)
    report.failures = [*syntax.values(), *others]
    return report


def merge_reports(old: CheckReport, new: CheckReport, plan: Plan) -> CheckReport:
    """The project's check results after a recheck: ``old`` where it did not look."""
    if plan.full:
        return new
    rerun = {*plan.tests, *plan.deleted}
    outcomes = [o for o in old.outcomes if o.nodeid.split("::")[0] not in rerun]
    ran_clean = not new.errors
    failures = [f for f in old.failures if not plan.covers(f, ran_clean)
                and f.id not in {n.id for n in new.failures}]
    return CheckReport([*failures, *new.failures], [*outcomes, *new.outcomes],
                       list(new.errors))


def settle(items: Iterable[HealItem], report: CheckReport, plan: Plan
           ) -> tuple[list[tuple[HealItem, str]], list[HealItem], list[Failure]]:
    """For one recheck's report: the waiting items to close (with why), the escalated
    items whose failure is gone (moot reviews), and the failures to queue."""
    failing = {f.id for f in report.failures}
    ran_clean = not report.errors
    close: list[tuple[HealItem, str]] = []
    moot: list[HealItem] = []
    reviewing: set[str] = set()
    for item in items:
        if item.state is HealState.ESCALATED:
            if item.failure.id in failing:
                reviewing.add(item.failure.id)
            elif plan.covers(item.failure, ran_clean):
                moot.append(item)
        elif item.state.waiting and item.failure.id not in failing \
                and plan.covers(item.failure, ran_clean):
            close.append((item, DELETED if item.path in plan.deleted else GONE))
    return close, moot, [f for f in report.failures if f.id not in reviewing]
