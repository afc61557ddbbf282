"""ModelRegistry: the one owner of every model rule (names, URLs, thresholds, routing).

The scripts this replaces scattered model URLs and routing over several handlers. Here
every caller (``ask``, heal workers, the TUI) asks the registry which model to use and
sends the prompt through ``process_with_model``, so a rule changes in one place.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from dreamscape_tui.core.answer import Answer
from dreamscape_tui.core.config import Config, ModelConfig
from dreamscape_tui.core.errors import SessionUnavailable, UsageError
from dreamscape_tui.core.interrupt import Interrupt, raise_if_set
from dreamscape_tui.core.openai_api import chat_completion


class PromptSession(Protocol):
    """Anything that can put a prompt to a chat web page (a pooled browser session).

    ``interrupt`` is passed only when the caller gave one, so a session written
    before interrupts existed still serves uninterruptible calls."""

    def submit_prompt(self, prompt: str, model_url: str, *, timeout_s: float = ...,
                      profile: str = ..., interrupt: Interrupt | None = ...) -> Answer:
        ...


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """What routing needs to know about the work: its size, complexity and kind."""

    lines: int = 0
    cc_max: int = 0
    kind: str = ""


def _ask_session(session: PromptSession, prompt: str, model: ModelConfig,
                 interrupt: Interrupt | None) -> Answer:
    """``session.submit_prompt``, naming ``interrupt`` only when there is one (see
    :class:`PromptSession`)."""
    if interrupt is None:
        return session.submit_prompt(prompt, model.url, timeout_s=model.timeout_s,
                                     profile=model.profile)
    return session.submit_prompt(prompt, model.url, timeout_s=model.timeout_s,
                                 profile=model.profile, interrupt=interrupt)


class ModelRegistry:
    """Models and the escalation ladder from the config; routing and dispatch."""

    def __init__(self, config: Config) -> None:
        self.models: tuple[ModelConfig, ...] = config.models
        self._by_name = {m.name: m for m in config.models}
        names = config.routing.ladder or tuple(m.name for m in config.models)
        self.ladder: tuple[ModelConfig, ...] = tuple(self._by_name[n] for n in names)

    def get(self, name: str) -> ModelConfig:
        """The model called ``name``; a UsageError listing the known names otherwise."""
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name)
            raise UsageError(f"unknown model {name!r} (models: {known})") from None

    @property
    def default(self) -> ModelConfig:
        """The first rung of the ladder: what a plain ``ask`` uses."""
        return self.ladder[0] if self.ladder else self.models[0]

    def fits(self, model: ModelConfig, request: RouteRequest) -> bool:
        """Whether ``request`` is within the model's max_lines / max_complexity (0 = any)."""
        if model.max_lines and request.lines > model.max_lines:
            return False
        return not (model.max_complexity and request.cc_max > model.max_complexity)

    def candidates(self, request: RouteRequest) -> list[ModelConfig]:
        """The ladder, in order, without the models the request is too big for.

        When no model fits, the last rung (the strongest) is the only candidate:
        routing always returns a model, and thresholds decide escalation later.
        """
        fitting = [m for m in self.ladder if self.fits(m, request)]
        return fitting or [self.ladder[-1] if self.ladder else self.models[-1]]

    def route(self, request: RouteRequest, attempt: int,
              order: Sequence[str] | None = None) -> ModelConfig:
        """The model for ``attempt`` (1-based): one rung up the ladder per attempt.

        ``order`` (model names, best first) lets learned statistics reorder the
        candidates (``learning.learned_order``: kept rate, then mean latency, then the
        ladder); models it does not name keep their ladder order after it.
        """
        model = self.choose(request, attempt, order)
        assert model is not None  # nothing skipped: there is always a candidate
        return model

    def choose(self, request: RouteRequest, attempt: int, order: Sequence[str] | None = None,
               skip: Collection[str] = (), tried: Collection[str] = ()) -> ModelConfig | None:
        """:meth:`route` without the models named in ``skip`` (their budget for this run
        is spent): None when that leaves no candidate.

        ``tried``: the models this item's earlier attempts of this round went to. A
        retry escalates: it goes to the best candidate not tried yet, so a learned order
        that changed since the last attempt (other items' results came in) never sends
        it back to the model that just failed. With every candidate tried, the rung for
        ``attempt`` (the last one, past the top of the ladder).
        """
        models = [m for m in self.candidates(request) if m.name not in skip]
        if not models:
            return None
        if order:
            rank = {name: i for i, name in enumerate(order)}
            models.sort(key=lambda m: rank.get(m.name, len(rank)))
        fresh = [m for m in models if m.name not in tried] if tried else []
        if fresh:
            return fresh[0]
        return models[min(max(attempt, 1), len(models)) - 1]

    def needs_browser(self, model: ModelConfig) -> bool:
        return model.kind == "webchat"

    def process_with_model(self, session: PromptSession | None, prompt: str,
                           model: ModelConfig, *, interrupt: Interrupt | None = None) -> Answer:
        """Send ``prompt`` to ``model``: the one protocol every caller uses.

        ``session`` is a leased browser session for ``webchat`` models and may be None
        for ``openai-api`` ones. Errors are the typed ``ModelError`` subclasses. Once
        ``interrupt`` is set (cancel, pause), the call raises ``ModelCallInterrupted``
        within a second, wherever it waits: not a ModelError, so the attempt does not
        count as failed and is made again on the next run.
        """
        raise_if_set(interrupt)
        if model.kind == "openai-api":
            return chat_completion(model, prompt, interrupt=interrupt)
        if session is None:
            raise SessionUnavailable(f"model {model.name!r} needs a browser session")
        answer = _ask_session(session, prompt, model, interrupt)
        return Answer(answer.text, answer.code_blocks, answer.seconds, model.name,
                      answer.page_model)

    def describe(self) -> list[dict[str, object]]:
        """The ``models --json`` rows: each model and its place on the ladder."""
        positions = {m.name: i + 1 for i, m in enumerate(self.ladder)}
        rows: list[dict[str, object]] = []
        for m in self.models:
            rows.append({
                "name": m.name, "kind": m.kind,
                "url": m.url if m.kind == "webchat" else m.base_url,
                "model": m.model, "api_key_env": m.api_key_env,
                "max_lines": m.max_lines, "max_complexity": m.max_complexity,
                "timeout_s": m.timeout_s, "ladder_position": positions.get(m.name),
            })
        return rows
