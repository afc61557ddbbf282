"""Scripted answers for the practice chat page: what to stream, and how.

Kept apart from the HTTP plumbing so a demo or a test can script replies by
importing only this vocabulary.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

SESSION_COOKIE_NAME = "__Secure-next-auth.session-token"
"""Cookie the real ChatGPT uses for its session; the page checks the same name."""

ERROR_MESSAGES: dict[str, str] = {
    "something_went_wrong": (
        "Something went wrong. If this issue persists please contact us through our help center."
    ),
    "rate_limited": (
        "Too many requests. You've reached our limit of messages per hour. Please try again later."
    ),
    "usage_limit": "You've reached our limit of messages. Please try again later.",
}
"""Error texts exactly as ChatGPT shows them, keyed by :attr:`Reply.error`."""

ERROR_STATUS: dict[str, int] = {
    "something_went_wrong": 500,
    "rate_limited": 429,
    "usage_limit": 429,
}
"""HTTP status the conversation endpoint answers with for each error state."""


DOMS: tuple[str, ...] = ("classic", "codemirror", "transcript", "openwebui")
"""The chat DOMs the page can serve (``?dom=NAME``); see the package docstring."""

PASTE_LIMIT = 10_000
"""Characters above which a ChatGPT-like composer turns a paste into an attachment."""

DOWNGRADE_NOTICE = (
    "You've hit the Free plan limit for GPT-4o. Responses will use another model until"
    " your limit resets after 3:45 PM."
)
"""The Free-plan notice shown when :attr:`Reply.downgrade_to` is set, as ChatGPT words it."""

Attachment = tuple[str, str]
"""``(file name, text content)`` of a file sent along with a prompt."""


class _PromptFields(NamedTuple):
    text: str
    model: str


class Prompt(_PromptFields):
    """One prompt as the page delivered it, with the files attached to it.

    A ``(text, model)`` pair, so tests can compare it to plain pairs; ``attachments``
    rides along as an attribute. A prompt with attachments never equals a bare pair.
    """

    attachments: tuple[Attachment, ...]

    def __new__(cls, text: str, model: str, attachments: Iterable[Attachment] = ()) -> Prompt:
        """``Prompt(text, model)`` or ``Prompt(text, model, [(name, content), ...])``."""
        self = super().__new__(cls, text, model)
        self.attachments = tuple((str(name), str(content)) for name, content in attachments)
        return self

    def __eq__(self, other: object) -> bool:
        """Equal to a Prompt with the same attachments, or to a bare pair if it has none."""
        if isinstance(other, Prompt):
            return tuple(self) == tuple(other) and self.attachments == other.attachments
        if isinstance(other, tuple):
            return not self.attachments and tuple(self) == other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        """The negation of :meth:`__eq__` (tuple's own ``!=`` would ignore attachments)."""
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = _PromptFields.__hash__

    def __repr__(self) -> str:
        """Shows the attachments only when there are any."""
        extra = f", attachments={self.attachments!r}" if self.attachments else ""
        return f"Prompt(text={self.text!r}, model={self.model!r}{extra})"


@dataclass
class Reply:
    """What the scripted model answers to one prompt, and how it streams it.

    The timing knobs exist because real clients break on timing: a client that
    treats a long mid-answer pause as "done" or reads the answer before the stop
    button disappears is caught by ``pause_after_chars``/``pause_s``.

    Attributes:
        text: markdown-ish answer (paragraphs, ```lang fenced code blocks).
        chunk_chars: characters per streamed delta.
        chunk_delay_s: delay between deltas.
        pause_after_chars: where a single long pause falls (None: no pause).
        pause_s: length of that pause; the stop button stays up throughout.
        error: ``"something_went_wrong"``, ``"rate_limited"`` or ``"usage_limit"``
            to show that error state instead of ``text`` (after ``delay_before_s``).
        delay_before_s: "thinking" time before the first delta (or the error).
        thinking_s: a reasoning preamble of this many seconds after ``delay_before_s``:
            the message shows "Thinking", then "Thought for Ns", then the answer; part
            of that time no stop control is visible (0: no preamble).
        downgrade_to: answer as this model instead of the requested one and show the
            Free-plan notice (:data:`DOWNGRADE_NOTICE`); the message's model slug is
            this model.
    """

    text: str = ""
    chunk_chars: int = 40
    chunk_delay_s: float = 0.02
    pause_after_chars: int | None = None
    pause_s: float = 0.0
    error: str | None = None
    delay_before_s: float = 0.0
    thinking_s: float = 0.0
    downgrade_to: str | None = None

    def __post_init__(self) -> None:
        """Reject impossible scripts early, where the test that wrote them is."""
        if self.chunk_chars < 1:
            raise ValueError("chunk_chars must be >= 1")
        if min(self.chunk_delay_s, self.pause_s, self.delay_before_s, self.thinking_s) < 0:
            raise ValueError("delays must be >= 0")
        if self.pause_after_chars is not None and self.pause_after_chars < 0:
            raise ValueError("pause_after_chars must be >= 0")
        if self.error is not None and self.error not in ERROR_MESSAGES:
            known = ", ".join(sorted(ERROR_MESSAGES))
            raise ValueError(f"unknown error {self.error!r}; expected one of: {known}")
        if self.downgrade_to is not None and (
            not isinstance(self.downgrade_to, str) or not self.downgrade_to.strip()
        ):
            raise ValueError("downgrade_to must be a model name (a non-empty string)")


Responder = Callable[[str, str], Reply]
"""``(prompt, model) -> Reply``: decides the answer to each delivered prompt."""


def default_responder(prompt: str, model: str) -> Reply:
    """Answer every prompt with its length and a small python block.

    Good enough for a smoke run of ``dreamscape demo``: the answer has a paragraph
    and a fenced code block, the two things a healing client has to extract.
    """
    lines = prompt.count("\n") + 1 if prompt else 0
    text = (
        f"You said {len(prompt)} characters.\n\n"
        f"Here is a tiny program ({model}):\n\n"
        "```python\n"
        "def answer() -> str:\n"
        f'    return "{lines} line(s) received"\n'
        "```\n"
    )
    return Reply(text=text)


def encode_json(payload: object) -> bytes:
    """JSON bytes for responses; ``ensure_ascii`` keeps every byte 7-bit safe."""
    return json.dumps(payload).encode("ascii")
