"""The heal loop: workers take queued failures, prompt a model, validate, apply or retry.

One attempt: route to a model (ladder + learned statistics) -> prompt (file, failure,
tests, metrics, earlier attempts, user hint) -> answer -> parse an edit -> thresholds ->
validate in the worker's isolated copy -> apply atomically with a backup, or retry, or
escalate. Every state change is persisted before it takes effect (``HealStore``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreamscape_tui.core.apply import ApplyConflict, apply_fix, content_hash
from dreamscape_tui.core.checks import Failure
from dreamscape_tui.core.config import Config, ModelConfig
from dreamscape_tui.core.edits import (
    EditRejected,
    NoChange,
    changed_share,
    parse_edit,
    unified_diff,
)
from dreamscape_tui.core.errors import ModelError
from dreamscape_tui.core.events import EngineLog, EventSink, HealChanged
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.metrics import FileMetrics
from dreamscape_tui.core.prompt import PriorAttempt, build_prompt
from dreamscape_tui.core.registry import ModelRegistry, PromptSession, RouteRequest
from dreamscape_tui.core.testrun import TestRunCancelled
from dreamscape_tui.core.validate import Verdict, Workspace

RANKS = "ABCDEF"


@dataclass(frozen=True, slots=True)
class HealOptions:
    """Per-run choices: the CLI's --dry-run, --max-attempts and --model."""

    dry_run: bool = False
    max_attempts: int | None = None
    model: str | None = None


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
        self.max_attempts = options.max_attempts or config.heal.max_attempts
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
                    self._escalate(item, f"internal error: {type(exc).__name__}: {exc}")
                with self._lock:
                    self.busy_seconds += time.monotonic() - started
        finally:
            workspace.close()

    # -- one attempt -------------------------------------------------------------------------
    def _emit(self, item: dict[str, Any], **changes: Any) -> None:
        merged = {**item, **changes}
        self.sink(HealChanged(merged["id"], merged["path"], merged["kind"], merged["state"],
                              merged["attempts"], merged["model"], merged.get("reason", "")))

    def _set(self, item: dict[str, Any], **changes: Any) -> None:
        """Persist first, then tell the listeners, then let it take effect."""
        self.heals.update(item["id"], **changes)
        item.update(changes)
        self._emit(item)

    def _route(self, failure: Failure, metrics: FileMetrics | None, attempt: int) -> ModelConfig:
        if self.options.model:
            return self.registry.get(self.options.model)
        request = RouteRequest(lines=metrics.loc if metrics else 0,
                               cc_max=metrics.cc_max if metrics else 0, kind=failure.kind)
        return self.registry.route(request, attempt, self.heals.learned_order(failure.kind))

    def _attempt(self, item: dict[str, Any], workspace: Workspace) -> None:
        failure = Failure.from_json(item["failure"])
        target = self.root / failure.path
        try:
            original = target.read_bytes()
            content = original.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._escalate(item, f"cannot read {failure.path}: {exc}")
            return
        metrics = self.metrics.get(failure.path)
        limit = self.config.heal.escalate_rank
        if metrics and RANKS.index(metrics.cc_rank) >= RANKS.index(limit):
            self._escalate(item, f"complexity rank {metrics.cc_rank} is at or above the "
                                 f"limit {limit}: too risky to heal unattended")
            return
        number = item["attempts"] + 1
        model = self._route(failure, metrics, number)
        self._set(item, state="running", attempts=number, model=model.name,
                  base_hash=content_hash(original))
        prior = [PriorAttempt(a["number"], a["model"], a["reason"], a.get("diff", ""))
                 for a in self.heals.attempts(item["id"])]
        prompt = build_prompt(self.root, failure, content, metrics, prior, item.get("hint", ""))
        started = time.monotonic()
        try:
            answer = self.registry.process_with_model(self.session, prompt, model)
        except ModelError as exc:
            self._account(model_s=time.monotonic() - started)
            self._failed(item, number, model, f"model error: {exc}", "", None)
            return
        self._account(model_s=time.monotonic() - started)
        item["answered_by"] = answer.page_model  # recorded with the attempt (not persisted)
        try:
            edit = parse_edit(answer, failure.path, content)
        except EditRejected as exc:  # a no-change answer was usable, just not a fix
            reason = str(exc) if isinstance(exc, NoChange) else f"unusable answer: {exc}"
            self._failed(item, number, model, reason, "", None)
            return
        diff = unified_diff(content, edit.content, failure.path)
        self._set(item, state="validating")
        started, synced = time.monotonic(), workspace.sync_seconds
        verdict = workspace.validate(failure, edit.content, self.config.checks,
                                     self.baseline_passed, self.config.heal.validation_timeout_s)
        # syncing the copy is the engine's own work: it stays in the overhead
        sync = workspace.sync_seconds - synced
        self._account(validation_s=time.monotonic() - started - sync)
        share = changed_share(content, edit.content)
        if verdict.ok and share > self.config.heal.max_diff_share:
            # validated, but too big a change to land unseen: a person decides
            self._record(item, number, model, "validated", f"rewrites {share:.0%}", diff)
            self._set(item, best=edit.content, best_failing=0, best_base=item["base_hash"])
            self._escalate(item, f"the fix rewrites {share:.0%} of the file (limit "
                                 f"{self.config.heal.max_diff_share:.0%})")
        elif verdict.ok:
            self._succeeded(item, number, model, edit.content, diff)
        else:
            self._failed(item, number, model, verdict.reason, diff, verdict, edit.content)

    def _account(self, model_s: float = 0.0, validation_s: float = 0.0) -> None:
        with self._lock:
            self.model_seconds += model_s
            self.validation_seconds += validation_s

    def _record(self, item: dict[str, Any], number: int, model: ModelConfig, outcome: str,
                reason: str, diff: str, signature: str = "") -> None:
        self.heals.add_attempt(item["id"], {"number": number, "model": model.name,
                                            "answered_by": item.pop("answered_by", ""),
                                            "outcome": outcome, "reason": reason,
                                            "diff": diff, "signature": signature})

    def _succeeded(self, item: dict[str, Any], number: int, model: ModelConfig,
                   candidate: str, diff: str) -> None:
        self._record(item, number, model, "validated", "validated", diff)
        self.heals.record_outcome(model.name, item["kind"], True)
        if self.options.dry_run:
            self._set(item, state="healed", dry_run=True, best=candidate)
            self.sink(EngineLog(f"{item['path']}: fix validated (dry run, not applied)"))
            return
        if not self.config.heal.auto_apply:
            self._set(item, best=candidate, best_failing=0, best_base=item["base_hash"])
            self._escalate(item, "validated fix waiting for review (auto_apply is off)")
            return
        try:
            backup = apply_fix(self.root, self.heals, item["id"], item["path"], candidate,
                               item["base_hash"])
        except ApplyConflict as exc:
            self._set(item, state="queued", base_hash="", candidate=None)
            self.sink(EngineLog(f"{exc}: the fix was not applied; healing again", "warning"))
            return
        self._set(item, state="healed", backup=str(backup.relative_to(self.root)),
                  candidate=None)
        self.sink(EngineLog(f"healed {item['path']} with {model.name} (attempt {number})"))

    def _failed(self, item: dict[str, Any], number: int, model: ModelConfig, reason: str,
                diff: str, verdict: Verdict | None, candidate: str | None = None) -> None:
        signature = verdict.signature if verdict else ""
        earlier = [a["signature"] for a in self.heals.attempts(item["id"])]
        self._record(item, number, model, "failed", reason, diff, signature)
        self.heals.record_outcome(model.name, item["kind"], False)
        if candidate is not None and verdict is not None and (
                item.get("best_failing") is None or verdict.failing < item["best_failing"]):
            self._set(item, best=candidate, best_failing=verdict.failing,
                      best_base=item["base_hash"])
        if verdict is not None and verdict.timed_out:
            self._escalate(item, f"validation timed out after "
                                 f"{self.config.heal.validation_timeout_s:g} s")
        elif signature and earlier.count(signature) + 1 >= self.config.heal.same_error_limit:
            self._escalate(item, f"the same error {earlier.count(signature) + 1} times: {reason}")
        elif number >= self.max_attempts:
            self._escalate(item, f"attempts exhausted ({number}): {reason}")
        else:
            self._set(item, state="retrying", reason=reason)

    def _escalate(self, item: dict[str, Any], reason: str) -> None:
        self._set(item, state="escalated", reason=reason)
        self.sink(EngineLog(f"{item['path']} needs review: {reason}", "warning"))
