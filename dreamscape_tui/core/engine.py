"""AutomationEngine: the one facade the CLI and the Textual app drive.

It owns the project's store, scanner, checks, heal queue and (lazily) the browser pool.
It reports through a sink (``Callable[[Event], None]``) and stops when its cancel event
is set; it never touches Textual (the app runs it in thread workers).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from dreamscape_tui.core.apply import ApplyConflict, apply_fix, finish_interrupted_apply, undo
from dreamscape_tui.core.checks import CheckReport, Failure, run_checks
from dreamscape_tui.core.config import Config, RoutingConfig
from dreamscape_tui.core.errors import UserError
from dreamscape_tui.core.events import ChecksFinished, EngineLog, Event, EventSink, HealChanged
from dreamscape_tui.core.heal import Healer, HealOptions
from dreamscape_tui.core.healstore import JOURNAL_FILE, HealStore
from dreamscape_tui.core.healtypes import HealId, HealItem, HealState, heal_label
from dreamscape_tui.core.metrics import FileMetrics
from dreamscape_tui.core.recheck import (
    Recheck,
    WatchState,
    known_files,
    merge_reports,
    own_writes,
    run_recheck,
    settle,
    worth_a_scan,
)
from dreamscape_tui.core.registry import ModelRegistry, PromptSession
from dreamscape_tui.core.scanner import ProjectScanner, ScanReport
from dreamscape_tui.core.store import Store
from dreamscape_tui.core.trendlog import TrendKeeper
from dreamscape_tui.core.trends import HISTORY_FILE
from dreamscape_tui.core.validate import Workspace
from dreamscape_tui.core.watch import ProjectWatcher

# (config, sink) -> a SessionPool that starts on first use and reports to the sink
SessionFactory = Callable[[Config, EventSink], Any]


@dataclass
class HealSummary:
    """What one heal run did, as ``heal --json`` prints it (docs/architecture.md#json-outputs)."""

    healed: list[dict[str, Any]] = field(default_factory=list)
    escalated: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"healed": self.healed, "escalated": self.escalated, "stats": self.stats}


class AutomationEngine:
    """Scan -> check -> queue -> heal, for one project."""

    def __init__(self, root: Path, config: Config, *, store: Store | None = None,
                 sink: EventSink | None = None, cancel: threading.Event | None = None,
                 session_factory: SessionFactory | None = None,
                 dry_run: bool = False, read_only: bool = False) -> None:
        self.root = root.resolve()
        self.config = config
        self.dry_run = dry_run
        self.read_only = read_only  # another process heals this project: only look
        # A dry run must leave no trace in the project: its state lives in a temp dir.
        self._tmp = tempfile.TemporaryDirectory(prefix="dreamscape-dry-") if dry_run else None
        self.store = store or (Store(Path(self._tmp.name) / "scan.json") if self._tmp
                               else Store.for_project(self.root, read_only=read_only))
        # the heal journal sits beside the scan cache, in its own append-only file
        self.heals = HealStore(self.store.path.parent / JOURNAL_FILE, read_only=read_only)
        self.registry = ModelRegistry(config)
        self.sink: EventSink = sink or (lambda event: None)
        self.cancel = cancel or threading.Event()
        self.running = threading.Event()  # cleared = healing paused
        self.running.set()
        self._session_factory = session_factory
        self._pool: Any = None
        self.metrics: dict[str, FileMetrics] = {}
        self.check_report = CheckReport()
        # per-file trends, beside the scan cache: written after each scan (core/trends.py)
        self.trends = TrendKeeper(self.store.path.parent / HISTORY_FILE,
                                  config.scanner.history_scans, read_only=read_only,
                                  enabled=config.scanner.cache)

    def emit(self, event: Event) -> None:
        self.sink(event)

    def _writable(self, what: str) -> None:
        """A read-only engine looks and never changes anything: say so, clearly."""
        if self.read_only:
            raise UserError(f"cannot {what}: this project is open read-only "
                            "(another dreamscape process is healing it)")

    # -- scan and check ------------------------------------------------------------------
    def scan(self) -> ScanReport:
        failed: dict[str, int] = {}  # heal items per path: a file that failed before
        for item in self.heals.items():
            failed[item.path] = failed.get(item.path, 0) + 1
        scanner = ProjectScanner(self.root, self.config.scanner, self.store, cancel=self.cancel,
                                 failure_history=failed)
        report = ScanReport(scanner.root)
        for event in scanner.stream():
            self.emit(event)
            report.add(event)
        self.metrics = {f.path: f.metrics for f in report.files}
        for trend_event in self.trends.after_scan(report):  # TrendsUpdated (and warnings)
            self.emit(trend_event)
        return report

    def check(self, files: list[str]) -> CheckReport:
        self.emit(EngineLog(f"checking {len(files)} files"))
        report = self.check_report = run_checks(self.root, self.config.checks, files,
                                                self.cancel)
        for error in report.errors:
            self.emit(EngineLog(f"a check could not run: {error}", "error"))
        self.emit(EngineLog(f"{len(report.failures)} failing files"))
        self.emit(ChecksFinished(len(report.failures), tuple(report.errors)))
        return report

    def enqueue(self, failures: list[Failure]) -> list[HealId]:
        self._writable("queue failures")
        queued = []
        for failure in failures:
            cc_max = self.metrics[failure.path].cc_max if failure.path in self.metrics else 0
            item = self.heals.enqueue(failure, cc_max)
            if item is not None:
                queued.append(item.id)
                self.emit(HealChanged(item))
        return queued

    def replay(self) -> None:
        """Send every stored heal item, oldest first: how a UI learns the history."""
        for item in self.heals.items():
            self.emit(HealChanged(item))

    # -- heal ------------------------------------------------------------------------------
    def recover(self) -> int:
        """Resume what a killed process left: finish applies, re-queue the rest."""
        self._writable("resume heals")
        resumed = 0
        for item in self.heals.interrupted():
            state = (finish_interrupted_apply(self.root, self.heals, item)
                     if item.state is HealState.APPLYING else HealState.QUEUED)
            self.emit(HealChanged(self.heals.update(item.id, state=state)))
            resumed += 1
        if resumed:
            self.emit(EngineLog(f"resumed {resumed} interrupted heals"))
        return resumed

    def session(self) -> PromptSession | None:
        """The browser pool, created on first need (openai-api models need none)."""
        if self._pool is None and self._session_factory is not None and any(
                self.registry.needs_browser(m) for m in self.registry.models):
            self._pool = self._session_factory(self.config, self.sink)
        return self._pool  # type: ignore[no-any-return]

    def heal(self, options: HealOptions | None = None) -> HealSummary:
        """Run the queue to completion; returns the summary of this run."""
        self._writable("heal")
        options = options or HealOptions()
        started = time.monotonic()
        before = {i.id for i in self.heals.items((HealState.HEALED,))}
        config = self.config
        if options.model:
            self.registry.get(options.model)  # a clear error before any work starts
            config = replace(config, routing=RoutingConfig(ladder=(options.model,)))
        passed = {o.nodeid for o in self.check_report.outcomes if o.outcome == "passed"}
        healer = Healer(self.root, config, self.heals, ModelRegistry(config), self.session(),
                        self.metrics, passed, options=replace(options, dry_run=self.dry_run),
                        sink=self.sink, cancel=self.cancel, running=self.running)
        healer.run()
        wall = time.monotonic() - started
        summary = HealSummary()
        for item in self.heals.items():
            if item.state is HealState.HEALED and item.id not in before:
                summary.healed.append({"id": item.label, "path": item.path,
                                       "attempts": item.attempts, "model": item.model,
                                       "backup": item.backup or None})
            elif item.state is HealState.ESCALATED:
                summary.escalated.append({"id": item.label, "path": item.path,
                                          "reason": item.reason, "attempts": item.attempts})
        summary.stats = {
            "healed": len(summary.healed), "escalated": len(summary.escalated),
            "workers": healer.workers, "seconds": round(wall, 3),
            "model_seconds": round(healer.model_seconds, 3),
            "validation_seconds": round(healer.validation_seconds, 3),
            "busy_seconds": round(healer.busy_seconds, 3), "dry_run": self.dry_run,
            "check_errors": list(self.check_report.errors),
            "spend": healer.ledger.spend().to_json(),  # against [budget] (core/budget.py)
        }
        return summary

    def run_all(self, options: HealOptions | None = None) -> HealSummary:
        """The whole loop: scan, check, resume, queue failures, heal."""
        report = self.scan()
        # files radon could not analyse still get the syntax check (that is how a
        # syntax error becomes a failure); links and directories in `skipped` do not
        skipped = [s.path for s in report.skipped
                   if s.path.endswith(".py") and (self.root / s.path).is_file()]
        self.check(sorted([f.path for f in report.files] + skipped))
        self.recover()
        self.enqueue(self.check_report.failures)
        return self.heal(options)

    # -- continuous healing (core/watch.py, core/recheck.py) ------------------------------
    @cached_property
    def watch_state(self) -> WatchState:
        return WatchState(self.root)

    def recheck(self, paths: Collection[str],
                options: HealOptions | None = None) -> Recheck | None:
        """One batch of saved files: rescan, check what they can affect, close the queued
        heals whose failure is gone, queue new failures and heal them. None when nothing
        in the batch matters (only this engine's own writes, files no check reads)."""
        self._writable("recheck changed files")
        state = self.watch_state
        own = own_writes(self.root, self.heals)
        before = state.known if state.known is not None else set(self.metrics) | {
            i.path for i in self.heals.items() if i.state.active}
        if not worth_a_scan(paths, before, own, self.root):
            return None
        report = self.scan()
        after = state.known = known_files(self.root, [*report.files, *report.skipped])
        plan = state.plan(paths, before, after, own)
        if plan is None or self.cancel.is_set():
            return None
        self.emit(EngineLog(plan.describe()))
        checked = run_recheck(self.root, self.config.checks, plan, sorted(after), self.cancel)
        for error in checked.errors:
            self.emit(EngineLog(f"a check could not run: {error}", "error"))
        self.check_report = merge_reports(self.check_report, checked, plan)
        self.emit(ChecksFinished(len(checked.failures), tuple(checked.errors)))
        close, moot, fresh = settle(self.heals.items(), checked, plan)
        result = Recheck(plan)
        for item, reason in close:
            result.settled.append(self._change(item, state=HealState.REJECTED, reason=reason))
            self.emit(EngineLog(f"{item.label} {item.path}: {reason}; not healed"))
        for item in moot:
            self.emit(EngineLog(f"{item.label} {item.path} no longer fails: its review is "
                                "moot (reject it to dismiss it)"))
        result.queued = self.enqueue(fresh)
        if self.running.is_set():  # paused: the items wait (a later recheck may close them)
            result.summary = self.heal(options)
        return result

    def watch(self, watcher: ProjectWatcher, options: HealOptions | None = None,
              on_pass: Callable[[Recheck], None] | None = None) -> None:
        """Recheck every batch ``watcher`` reports until it stops (the engine's cancel):
        ``heal --headless --watch``. ``on_pass`` gets each recheck that did something."""
        self._writable("watch the project")
        for batch in watcher.batches():
            result = self.recheck(batch, options)
            if result is not None and on_pass is not None:
                on_pass(result)

    # -- review --------------------------------------------------------------------------
    def accept(self, heal_id: HealId) -> Path:
        """Re-validate an escalated item's best candidate, then apply it with a backup."""
        self._writable("accept a fix")
        item = self._escalated(heal_id)
        if item.best is None:
            raise UserError(f"heal {item.label} has no candidate fix to accept")
        workspace = Workspace(self.root, cancel=self.cancel)
        try:
            passed = {o.nodeid for o in self.check_report.outcomes if o.outcome == "passed"}
            verdict = workspace.validate(item.failure, item.best.content, self.config.checks,
                                         passed, self.config.heal.validation_timeout_s)
        finally:
            workspace.close()
        if not verdict.ok:
            raise UserError(f"heal {item.label}: the candidate does not validate: "
                            f"{verdict.reason}")
        try:  # the candidate was made from its base: never apply it over a newer edit
            item, backup = apply_fix(self.root, self.heals, item, item.best.content,
                                     item.best.base_hash or item.base_hash)
        except ApplyConflict:
            # still the person's to decide (it may have reached APPLYING before the
            # file changed under the backup): back to the review queue, untouched
            self._change(self.heals.get(item.id) or item, state=HealState.ESCALATED,
                         applying=None)
            raise UserError(f"{item.path} changed since this fix was made; "
                            "retry to heal the current content") from None
        # fixed_by: the attempt that made the accepted fix (the learning statistics)
        self._change(item, state=HealState.ACCEPTED, applying=None,
                     backup=str(backup.relative_to(self.root)),
                     fixed_by=item.best.attempt if item.best is not None else 0)
        return backup

    def reject(self, heal_id: HealId) -> None:
        self._writable("reject a fix")
        self._change(self._escalated(heal_id), state=HealState.REJECTED)

    def retry(self, heal_id: HealId, hint: str) -> None:
        """Queue an escalated item again with the user's hint for the next prompt."""
        self._writable("retry a heal")
        self._change(self._escalated(heal_id), state=HealState.QUEUED, hint=hint, attempts=0)

    def _change(self, item: HealItem, **changes: Any) -> HealItem:
        item = self.heals.save(replace(item, **changes))
        self.emit(HealChanged(item))
        return item

    def _escalated(self, heal_id: HealId) -> HealItem:
        item = self.heals.get(heal_id)
        if item is None or item.state is not HealState.ESCALATED:
            raise UserError(f"heal {heal_label(heal_id)} is not waiting for review")
        return item

    def undo(self, heal_id: HealId | None = None) -> HealItem:
        """Restore the latest (or the given) applied heal's backup; the undone item."""
        self._writable("undo a heal")
        item = undo(self.root, self.heals, heal_id)
        self.emit(HealChanged(item))
        self.emit(EngineLog(f"undid heal {item.label} of {item.path}"))
        return item

    def pause(self) -> None:
        """Workers stop: a model answer in flight is abandoned within a second (the
        attempt is not counted), a running validation finishes; nothing is lost."""
        self.running.clear()
        self.emit(EngineLog("healing paused"))

    def resume(self) -> None:
        self.running.set()
        self.emit(EngineLog("healing resumed"))

    def shutdown(self) -> None:
        """Stop work and quit every browser (also what SIGTERM does)."""
        self.cancel.set()
        self.running.set()  # release paused workers so they see the cancel
        if self._pool is not None:
            self._pool.shutdown()

    def close(self) -> None:
        """Shut down and flush the store; safe to call more than once."""
        self.shutdown()
        self.store.close()
        self.heals.close()
        self.trends.close()
        if self._tmp is not None:
            self._tmp.cleanup()

