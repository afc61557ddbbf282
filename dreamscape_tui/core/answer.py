"""What a model returns, whichever way it was asked (web page or HTTP API)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A fenced block: ``` or ~~~ (3+), optional info string, body, the same fence closing.
_FENCE = re.compile(
    r"^(?P<indent>[ \t]{0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)"
    r"^(?P=indent)(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Answer:
    """A model's answer: the whole text, its code blocks (exact), and how long it took.

    ``code_blocks`` hold the code verbatim: from ``pre code`` elements on a web page
    (never the visible text, which carries "Copy code" labels), or from the fenced
    blocks of an API answer's markdown. ``tokens_in``/``tokens_out`` are the answer's
    ``usage.prompt_tokens``/``completion_tokens`` where the API reports them.
    """

    text: str
    code_blocks: tuple[str, ...] = field(default_factory=tuple)
    seconds: float = 0.0
    model: str = ""
    page_model: str = ""  # the model the chat page says answered ("" = it does not say)
    tokens_in: int = 0  # the API's reported usage (openai-api; 0 = not reported)
    tokens_out: int = 0

    def to_json(self) -> dict[str, object]:
        """The ``ask --json`` object of docs/architecture.md#json-outputs."""
        return {"model": self.model, "text": self.text, "code_blocks": list(self.code_blocks),
                "seconds": round(self.seconds, 3)}


@dataclass(frozen=True, slots=True)
class FencedBlock:
    """One fenced code block of a markdown text."""

    language: str
    code: str


def fenced_blocks(markdown: str) -> list[FencedBlock]:
    """Every fenced code block in ``markdown``, in order, with its code exactly."""
    blocks = []
    for match in _FENCE.finditer(markdown.replace("\r\n", "\n")):
        body = match.group("body")
        blocks.append(FencedBlock(
            language=match.group("info").strip().split(" ")[0] if match.group("info") else "",
            code=body[:-1] if body.endswith("\n") else body,
        ))
    return blocks


def markdown_segments(markdown: str) -> list[str | FencedBlock]:
    """``markdown`` cut into prose (str) and fenced code blocks, in order."""
    text = markdown.replace("\r\n", "\n")
    segments: list[str | FencedBlock] = []
    position = 0
    for match in _FENCE.finditer(text):
        if match.start() > position:
            segments.append(text[position:match.start()])
        body = match.group("body")
        info = match.group("info").strip().split(" ")[0] if match.group("info") else ""
        segments.append(FencedBlock(info, body[:-1] if body.endswith("\n") else body))
        position = match.end()
    if position < len(text):
        segments.append(text[position:])
    return segments
