"""The heal loop: workers take queued failures, prompt a model, validate, then execute
what the policy decides.

One attempt: route to a model (ladder + learned statistics) -> prompt (file, failure,
tests, metrics, earlier attempts, user hint) -> answer -> parse an edit -> validate in
the worker's isolated copy -> ``policy.decide`` -> apply atomically with a backup, retry
or escalate. No threshold is compared here (``policy.py`` owns them all). Every state
change is persisted before it takes effect (``HealStore``) and then sent as a
``HealChanged`` carrying the whole item.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dreamscape_tui.core import policy
from dreamscape_tui.core.apply import ApplyConflict, apply_fix, content_hash, file_hash
from dreamscape_tui.core.config import Config, ModelConfig
from dreamscape_tui.core.edits import (
    EditRejected,
    NoChange,
    changed_share,
    parse_edit,
    unified_diff,
)
from dreamscape_tui.core.errors import ModelCallInterrupted, ModelError
from dreamscape_tui.core.events import EngineLog, EventSink, HealChanged
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.healtypes import Attempt, Candidate, HealItem, HealState
from dreamscape_tui.core.metrics import FileMetrics
from dreamscape_tui.core.policy import AttemptResult, Outcome
from dreamscape_tui.core.prompt import PriorAttempt, build_prompt
from dreamscape_tui.core.registry import ModelRegistry, PromptSession, RouteRequest
from dreamscape_tui.core.testrun import TestRunCancelled
from dreamscape_tui.core.validate import Verdict, Workspace


@dataclass(frozen=True, slots=True)
class HealOptions:
    """Per-run choices: the CLI's --dry-run, --max-attempts and --model."""

    dry_run: bool = False
    max_attempts: int | None = None
    model: str | None = None


class StopOrPause:
    """Set while the engine is cancelled or healing is paused: a model call in flight
    stops within a second, and the attempt is not counted (``ModelCallInterrupted``)."""

    def __init__(self, cancel: threading.Event, running: threading.Event) -> None:
        self.cancel, self.running = cancel, running

    def is_set(self) -> bool:
        return self.cancel.is_set() or not self.running.is_set()


class FileChangedUnderHeal(Exception):
    """The file no longer holds the content the attempt started from."""


@dataclass(frozen=True, slots=True)
class _Tried:
    """What one attempt produced, whatever its outcome."""

    model: ModelConfig
    result: AttemptResult
    diff: str = ""
    candidate: str | None = None
    verdict: Verdict | None = None
    answered_by: str = ""


class Healer:
    """Runs the queue to completion with one worker thread per session."""

    def __init__(self, root: Path, config: Config, heals: HealStore, registry: ModelRegistry,
                 session: PromptSession | None, metrics: dict[str, FileMetrics],
                 baseline_passed: set[str], *, options: HealOptions | None = None,
                 sink: EventSink | None = None, cancel: threading.Event | None = None,
                 running: threading.Event | None = None) -> None:
        self.root, self.config, self.heals, self.registry = root, config, heals, registry
        self.session, self.metrics, self.baseline_passed = session, metrics, baseline_passed
        self.options = options = options or HealOptions()
        self.sink = sink or (lambda event: None)
        self.cancel = cancel or threading.Event()
        if running is None:
            running = threading.Event()
            running.set()
        self.running = running  # cleared = paused between attempts
        self.limits = replace(config.heal,
                              max_attempts=options.max_attempts or config.heal.max_attempts)
        self.interrupt = StopOrPause(self.cancel, self.running)
        self.busy_seconds = 0.0  # time workers spent on items (utilisation)
        self.model_seconds = 0.0
        self.validation_seconds = 0.0
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        return self.config.heal.workers or self.config.sessions.size

    def run(self) -> None:
        """Heal until the queue is empty (or cancelled); blocks."""
        threads = [threading.Thread(target=self._worker, name=f"heal-{n}", daemon=True)
                   for n in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _worker(self) -> None:
        workspace = Workspace(self.root, cancel=self.cancel)
        try:
            while not self.cancel.is_set():
                self.running.wait()
                if self.cancel.is_set():
                    return
                item = self.heals.claim_next()
                if item is None:
                    return
                started = time.monotonic()
                try:
                    self._attempt(item, workspace)
                except TestRunCancelled:
                    return  # shutting down: the persisted state resumes it next run
                except Exception as exc:  # a bug must not kill the worker or lose the item
                    latest = self.heals.get(item.id) or item
                    result = AttemptResult(Outcome.INTERNAL_ERROR, latest.attempts,
                                           f"{type(exc).__name__}: {exc}")
                    self._execute(latest, policy.decide(self.limits, latest, result))
                with self._lock:
                    self.busy_seconds += time.monotonic() - started
        finally:
            workspace.close()


    # -- one attempt -------------------------------------------------------------------------
    def _set(self, item: HealItem, **changes: Any) -> HealItem:
        """Persist first, then tell the listeners; the returned item is the stored one."""
        item = self.heals.save(replace(item, **changes))
        self.sink(HealChanged(item))
        return item

    def _route(self, item: HealItem, metrics: FileMetrics | None, attempt: int) -> ModelConfig:
        if self.options.model:
            return self.registry.get(self.options.model)
        request = RouteRequest(lines=metrics.loc if metrics else 0,
                               cc_max=metrics.cc_max if metrics else 0, kind=item.kind)
        return self.registry.route(request, attempt, self.heals.learned_order(item.kind))

    def _attempt(self, item: HealItem, workspace: Workspace) -> None:
        try:
            original = (self.root / item.path).read_bytes()
            content = original.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._escalate(item, f"cannot read {item.path}: {exc}")
            return
        metrics = self.metrics.get(item.path)
        too_risky = policy.before_attempt(self.limits, metrics.cc_rank if metrics else None)
        if too_risky is not None:
            self._escalate(item, too_risky.reason)
            return
        number = item.attempts + 1
        model = self._route(item, metrics, number)
        waiting = HealState.RETRYING if item.attempts else HealState.QUEUED
        item = self._set(item, state=HealState.RUNNING, attempts=number, model=model.name,
                         base_hash=content_hash(original))
        try:
            tried = self._try(item, workspace, content, metrics, model)
        except ModelCallInterrupted:
            # paused or quitting mid-answer: not an attempt; it resumes from the queue
            self._set(item, state=waiting, attempts=number - 1)
            return
        except FileChangedUnderHeal:
            self._restart(item)
            return
        self._conclude(item, tried)

    def _try(self, item: HealItem, workspace: Workspace, content: str,
             metrics: FileMetrics | None, model: ModelConfig) -> _Tried:
        """Prompt, parse and validate: what happened, with no decision taken yet."""
        number = item.attempts
        prior = [PriorAttempt(a.number, a.model, a.reason, a.diff) for a in item.log]
        prompt = build_prompt(self.root, item.failure, content, metrics, prior, item.hint)
        started = time.monotonic()
        try:
            answer = self.registry.process_with_model(self.session, prompt, model,
                                                      interrupt=self.interrupt)
        except ModelError as exc:
            return _Tried(model, AttemptResult(Outcome.MODEL_ERROR, number,
                                               f"model error: {exc}"))
        finally:
            self._account(model_s=time.monotonic() - started)
        if file_hash(self.root / item.path) != item.base_hash:
            raise FileChangedUnderHeal(item.path)  # the answer fixes a file that is gone
        try:
            edit = parse_edit(answer, item.path, content)
        except EditRejected as exc:  # a no-change answer was usable, just not a fix
            reason = str(exc) if isinstance(exc, NoChange) else f"unusable answer: {exc}"
            return _Tried(model, AttemptResult(Outcome.UNUSABLE, number, reason),
                          answered_by=answer.page_model)
        diff = unified_diff(content, edit.content, item.path)
        item = self._set(item, state=HealState.VALIDATING)
        started, synced = time.monotonic(), workspace.sync_seconds
        verdict = workspace.validate(item.failure, edit.content, self.config.checks,
                                     self.baseline_passed, self.limits.validation_timeout_s)
        # syncing the copy is the engine's own work: it stays in the overhead
        sync = workspace.sync_seconds - synced
        self._account(validation_s=time.monotonic() - started - sync)
        outcome = (Outcome.VALIDATED if verdict.ok else
                   Outcome.TIMED_OUT if verdict.timed_out else Outcome.FAILED)
        result = AttemptResult(outcome, number, "validated" if verdict.ok else verdict.reason,
                               verdict.signature, changed_share(content, edit.content))
        return _Tried(model, result, diff, edit.content, verdict, answer.page_model)

    def _conclude(self, item: HealItem, tried: _Tried) -> None:
        """Record the attempt, let the policy decide, and carry the decision out."""
        result = tried.result
        decision = policy.decide(self.limits, item, result)
        validated = result.outcome is Outcome.VALIDATED
        attempt = Attempt(result.number, tried.model.name,
                          "validated" if validated else "failed", result.reason, tried.diff,
                          result.signature, tried.answered_by)
        self.heals.record_outcome(tried.model.name, item.kind, validated)
        best = item.best
        if tried.candidate is not None and tried.verdict is not None and (
                best is None or tried.verdict.failing < best.failing):
            best = Candidate(tried.candidate, tried.verdict.failing, item.base_hash)
        item = self.heals.save(replace(item, log=(*item.log, attempt), best=best))
        if isinstance(decision, policy.Apply):
            assert tried.candidate is not None
            self._apply(item, tried.candidate, tried.model)
        else:
            self._execute(item, decision)

    def _execute(self, item: HealItem, decision: policy.Decision) -> None:
        if isinstance(decision, policy.Retry):
            self._set(item, state=HealState.RETRYING, reason=decision.reason)
        elif isinstance(decision, policy.Escalate):
            self._escalate(item, decision.reason)

    def _apply(self, item: HealItem, candidate: str, model: ModelConfig) -> None:
        if self.options.dry_run:
            self._set(item, state=HealState.HEALED, dry_run=True)
            self.sink(EngineLog(f"{item.path}: fix validated (dry run, not applied)"))
            return
        try:
            item, backup = apply_fix(self.root, self.heals, item, candidate, item.base_hash)
        except ApplyConflict:
            self._restart(item)
            return
        self._set(item, state=HealState.HEALED, backup=str(backup.relative_to(self.root)),
                  applying=None)
        self.sink(EngineLog(f"healed {item.path} with {model.name} "
                            f"(attempt {item.attempts})"))

    def _account(self, model_s: float = 0.0, validation_s: float = 0.0) -> None:
        with self._lock:
            self.model_seconds += model_s
            self.validation_seconds += validation_s

    def _restart(self, item: HealItem) -> None:
        """The file changed while it was being healed (someone is editing it): never
        write under them; start a fresh round from the new content."""
        self._set(item, state=HealState.QUEUED, attempts=0, base_hash="", applying=None)
        self.sink(EngineLog(f"{item.path} changed while it was being healed: the fix was "
                            "not applied; healing the new content", "warning"))

    def _escalate(self, item: HealItem, reason: str) -> None:
        self._set(item, state=HealState.ESCALATED, reason=reason)
        self.sink(EngineLog(f"{item.path} needs review: {reason}", "warning"))
