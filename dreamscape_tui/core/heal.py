"""The heal loop: workers take queued failures, prompt a model, validate, then execute
what the policy decides.

One attempt: the run's budget (``policy.over_budget``) -> route to a model (ladder +
learned statistics, without the models whose budget is spent) -> prompt (file, failure,
tests, metrics, earlier attempts, user hint, the project's accepted fixes, the model's
best edit format) -> answer -> parse an edit -> validate in the worker's isolated copy
-> ``policy.decide`` -> apply atomically with a backup, retry or escalate. No threshold
is compared here (``policy.py`` owns them all). Every state change is persisted before
it takes effect (``HealStore``) and then sent as a ``HealChanged`` carrying the whole
item; what the run spends (``budget.Ledger``) is sent as ``HealSpend`` after each
attempt.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dreamscape_tui.core import policy
from dreamscape_tui.core.answer import Answer
from dreamscape_tui.core.apply import ApplyConflict, apply_fix, content_hash, file_hash
from dreamscape_tui.core.budget import Ledger, RunSpend, cost_of, run_limits
from dreamscape_tui.core.config import Config, ModelConfig
from dreamscape_tui.core.edits import (
    EditRejected,
    NoChange,
    answer_format,
    changed_share,
    parse_edit,
    unified_diff,
)
from dreamscape_tui.core.errors import ModelCallInterrupted, ModelError
from dreamscape_tui.core.events import EngineLog, EventSink, HealChanged, HealSpend
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
class _Usage:
    """What one model call cost: seconds waited, tokens reported, estimated cost."""

    seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0


@dataclass(frozen=True, slots=True)
class _Tried:
    """What one attempt produced, whatever its outcome."""

    model: ModelConfig
    result: AttemptResult
    diff: str = ""
    candidate: str | None = None
    verdict: Verdict | None = None
    answered_by: str = ""
    format: str = ""
    usage: _Usage = _Usage()


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
        self.ledger = Ledger(registry.models)  # this run's spend, against [budget]
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        return self.config.heal.workers or self.config.sessions.size

    def run(self) -> None:
        """Heal until the queue is empty (or cancelled); blocks."""
        self._report_spend()
        threads = [threading.Thread(target=self._worker, name=f"heal-{n}", daemon=True)
                   for n in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self._report_spend()

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

    def _pick(self, item: HealItem, metrics: FileMetrics | None,
              attempt: int) -> ModelConfig | policy.Escalate:
        """The model for this attempt, its attempt counted in the run's ledger; or why
        the run's budget, or every fitting model's, leaves none."""
        learning = self.config.learning
        order = (self.heals.learned_order(item.kind, learning.min_tries,
                                          [m.name for m in self.registry.ladder])
                 if learning.enabled else None)
        request = RouteRequest(lines=metrics.loc if metrics else 0,
                               cc_max=metrics.cc_max if metrics else 0, kind=item.kind)

        def choose(spent: RunSpend) -> ModelConfig | policy.Escalate:
            over = policy.over_budget(spent.run, self.config.budget)
            if over is not None:
                return over
            exhausted = {m.name: why for m in self.registry.models
                         if (why := policy.model_exhausted(spent.model(m.name), m))}
            if self.options.model:
                candidates = [self.registry.get(self.options.model)]
                model = None if candidates[0].name in exhausted else candidates[0]
            else:
                candidates = self.registry.candidates(request)
                model = self.registry.choose(request, attempt, order, skip=exhausted,
                                             tried=item.round_models())
            if model is not None:
                return model
            return policy.no_model_left([exhausted[m.name] for m in candidates])

        return self.ledger.reserve(choose)

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
        picked = self._pick(item, metrics, number)
        if isinstance(picked, policy.Escalate):  # over budget: escalated untried
            self._escalate(item, picked.reason)
            self._report_spend()
            return
        model = picked
        waiting = HealState.RETRYING if item.attempts else HealState.QUEUED
        item = self._set(item, state=HealState.RUNNING, attempts=number, model=model.name,
                         base_hash=content_hash(original))
        try:
            tried = self._try(item, workspace, content, metrics, model)
        except ModelCallInterrupted:
            # paused or quitting mid-answer: not an attempt; it resumes from the queue
            self.ledger.release(model.name)
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
        prompt = self._prompt(item, content, metrics, model)
        started = time.monotonic()
        try:
            answer = self.registry.process_with_model(self.session, prompt, model,
                                                      interrupt=self.interrupt)
        except ModelError as exc:
            return _Tried(model, AttemptResult(Outcome.MODEL_ERROR, number,
                                               f"model error: {exc}"),
                          usage=self._charge(model, started))
        finally:
            self._account(model_s=time.monotonic() - started)
        usage = self._charge(model, started, answer)
        if file_hash(self.root / item.path) != item.base_hash:
            raise FileChangedUnderHeal(item.path)  # the answer fixes a file that is gone
        try:
            edit = parse_edit(answer, item.path, content)
        except EditRejected as exc:  # a no-change answer was usable, just not a fix
            reason = str(exc) if isinstance(exc, NoChange) else f"unusable answer: {exc}"
            return _Tried(model, AttemptResult(Outcome.UNUSABLE, number, reason),
                          answered_by=answer.page_model, format=answer_format(answer),
                          usage=usage)
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
        return _Tried(model, result, diff, edit.content, verdict, answer.page_model,
                      edit.format, usage)

    def _prompt(self, item: HealItem, content: str, metrics: FileMetrics | None,
                model: ModelConfig) -> str:
        """The prompt, conditioned on what was learned (unless ``[learning]`` is off):
        the model's best edit format and this project's accepted fixes of the kind."""
        learning = self.config.learning
        prior = [PriorAttempt(a.number, a.model, a.reason, a.diff) for a in item.log]
        if not learning.enabled:
            return build_prompt(self.root, item.failure, content, metrics, prior, item.hint)
        return build_prompt(
            self.root, item.failure, content, metrics, prior, item.hint,
            answer_format=self.heals.best_format(model.name, item.kind, learning.min_tries),
            examples=self.heals.accepted_fixes(item.kind) if learning.examples else (),
            example_limit=learning.examples, example_chars=learning.example_chars)

    def _charge(self, model: ModelConfig, started: float, answer: Answer | None = None
                ) -> _Usage:
        """Charge one model call to the run's ledger and report the run's spend."""
        tokens_in = answer.tokens_in if answer else 0
        tokens_out = answer.tokens_out if answer else 0
        usage = _Usage(time.monotonic() - started, tokens_in, tokens_out,
                       cost_of(model, tokens_in, tokens_out))
        self.ledger.charge(model.name, usage.seconds, tokens_in + tokens_out, usage.cost)
        self._report_spend()
        return usage

    def _report_spend(self) -> None:
        spent = self.ledger.spend()
        over = policy.over_budget(spent.run, self.config.budget)
        exhausted = tuple(why for m in self.registry.models
                          if (why := policy.model_exhausted(spent.model(m.name), m)))
        self.sink(HealSpend(spent, run_limits(self.config.budget),
                            over.reason if over is not None else "", exhausted))

    def _conclude(self, item: HealItem, tried: _Tried) -> None:
        """Record the attempt, let the policy decide, and carry the decision out."""
        result = tried.result
        decision = policy.decide(self.limits, item, result)
        validated = result.outcome is Outcome.VALIDATED
        usage = tried.usage
        attempt = Attempt(result.number, tried.model.name,
                          "validated" if validated else "failed", result.reason, tried.diff,
                          result.signature, tried.answered_by, tried.format, usage.seconds,
                          usage.tokens_in, usage.tokens_out, usage.cost)
        self.heals.record_outcome(tried.model.name, item.kind, validated, attempt=attempt)
        best = item.best
        if tried.candidate is not None and tried.verdict is not None and (
                best is None or tried.verdict.failing < best.failing):
            best = Candidate(tried.candidate, tried.verdict.failing, item.base_hash,
                             attempt=len(item.log) + 1)
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
            self._set(item, state=HealState.HEALED, dry_run=True, fixed_by=len(item.log))
            self.sink(EngineLog(f"{item.path}: fix validated (dry run, not applied)"))
            return
        try:
            item, backup = apply_fix(self.root, self.heals, item, candidate, item.base_hash)
        except ApplyConflict:
            self._restart(item)
            return
        # fixed_by: the attempt just logged made the fix (the learning statistics credit it)
        self._set(item, state=HealState.HEALED, backup=str(backup.relative_to(self.root)),
                  applying=None, fixed_by=len(item.log))
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
