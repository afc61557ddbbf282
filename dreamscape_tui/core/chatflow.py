"""One prompt through a chat web page: insert it exactly, send it, prove the answer
ended, and read it as the model wrote it. Generic over DOM profiles (``profiles.py``).

The browser is reached only through :class:`PageDriver` (the client implements it),
so this module has no selenium import and each step can be read on its own:

1. insert: paste (or set a textarea), then read the composer back and compare; a prompt
   longer than the profile's paste limit, or one the page altered, is attached as a
   text file instead, with a short instruction naming it (never sent twice);
2. done: the profile's positive end signal (the turn's copy action, a "complete"
   marker), no stop control, and the text unchanged for ``settle_s``. A stop control
   never seen while the text was seen growing, or an end signal that never comes, is
   ``SelectorMissing``: a partial answer is never returned;
3. read: the page's own copy action first (its clipboard text is the answer's
   markdown), else a DOM-to-markdown walk whose code blocks are exact.

Every wait polls the page with one script per tick, so a flow given an
:class:`~dreamscape_tui.core.interrupt.Interrupt` is made interruptible by checking it
before each script (:class:`InterruptiblePage`): a cancel ends any wait within a tick.
"""

from __future__ import annotations

import contextlib
import html
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dreamscape_tui.core import pagejs
from dreamscape_tui.core.answer import Answer, fenced_blocks, markdown_segments
from dreamscape_tui.core.chatpage import PageState, classify_page_error
from dreamscape_tui.core.errors import (
    AnswerTimeout,
    PageError,
    RateLimited,
    SelectorMissing,
    SessionExpired,
)
from dreamscape_tui.core.interrupt import Interrupt, raise_if_set
from dreamscape_tui.core.profiles import Profile

POLL_S = 0.05
STREAMING_SEEN = 2  # text seen growing this often with no stop control: the selector broke
MISSING_END_S = 12.0  # stop gone, text still, and no end signal for this long: page drift
COPY_WAIT_S = 1.5
ATTACHMENT_NAME = "prompt.txt"


class PageDriver(Protocol):
    """What the flow needs from a browser tab (implemented by the client)."""

    def script(self, js: str, *args: Any) -> Any: ...

    def async_script(self, js: str, timeout_s: float, *args: Any) -> Any: ...

    def upload(self, selectors: Sequence[str], path: str) -> bool: ...


class InterruptiblePage:
    """A :class:`PageDriver` that raises ModelCallInterrupted before any script once
    ``interrupt`` is set. Every wait on a page (here and in ``pagecheck``) polls it,
    so wrapping the tab makes all of them interruptible without touching each loop."""

    def __init__(self, page: PageDriver, interrupt: Interrupt) -> None:
        self.page = page
        self.interrupt = interrupt

    def script(self, js: str, *args: Any) -> Any:
        raise_if_set(self.interrupt, "the chat page wait")
        return self.page.script(js, *args)

    def async_script(self, js: str, timeout_s: float, *args: Any) -> Any:
        raise_if_set(self.interrupt, "the chat page wait")
        return self.page.async_script(js, timeout_s, *args)

    def upload(self, selectors: Sequence[str], path: str) -> bool:
        raise_if_set(self.interrupt, "the chat page wait")
        return self.page.upload(selectors, path)


def interruptible(page: PageDriver, interrupt: Interrupt | None) -> PageDriver:
    """``page`` checked against ``interrupt`` (the page itself when there is none)."""
    return page if interrupt is None else InterruptiblePage(page, interrupt)


@dataclass(frozen=True, slots=True)
class Limits:
    """The waits of one prompt, from the config and the model."""

    deadline: float  # monotonic
    timeout_s: float
    start_s: float  # the answer must start streaming within this
    load_s: float  # page-side steps (composer, send button, upload)


def attachment_instruction(name: str, size: int) -> str:
    return (f"The whole request is in the attached file {name} ({size} characters). "
            "Read all of it and answer it exactly as it asks.")


class ChatFlow:
    """Drives one prompt on a loaded chat page with ``profile``.

    With ``interrupt``, every step raises ModelCallInterrupted once it is set; the
    clean-up steps (the stop click, restoring the clipboard) still reach the page.
    """

    def __init__(self, page: PageDriver, profile: Profile, session_id: str,
                 interrupt: Interrupt | None = None) -> None:
        self.page = interruptible(page, interrupt)
        self._raw = page  # for clean-up that must run even when interrupted
        self.profile = profile
        self.roles = profile.roles()
        self.session_id = session_id

    # -- page state -------------------------------------------------------------------
    def state(self) -> PageState:
        raw = self.page.script(pagejs.STATE_JS, self.roles, self.profile.model_attribute)
        if not isinstance(raw, dict):
            raise PageError("the chat page did not answer the state probe")
        return PageState.from_script(raw)

    def poll(self, done: Callable[[PageState], bool], until: float) -> PageState | None:
        while True:
            page = self.state()
            if done(page):
                return page
            if time.monotonic() >= until:
                return None
            time.sleep(POLL_S)

    def _missing(self, role: str, detail: str) -> SelectorMissing:
        return SelectorMissing(role, self.profile.selector(role),
                               f"{detail} (profile {self.profile.name})")

    # -- the whole prompt -------------------------------------------------------------
    def submit(self, prompt: str, before: PageState, limits: Limits) -> Answer:
        started = time.monotonic()
        self.insert(prompt, limits)
        self.send(limits)
        sent = time.monotonic()
        self.wait_for_answer(before, limits, sent)
        return self.read(before, started)

    # -- 1. insert --------------------------------------------------------------------
    def insert(self, prompt: str, limits: Limits) -> None:
        if self.profile.insert == "html":
            self.insert_html(prompt)
            return
        limit = self.profile.paste_limit
        if limit and len(prompt) > limit and self.attach(prompt, limits):
            return  # (a page without a file input gets the paste, checked below)
        how = self.page.script(pagejs.INSERT_JS, self.roles, prompt)
        if how == "missing":
            raise self._missing("prompt_input", "not found when inserting the prompt")
        if how == "failed":
            raise PageError("the prompt input did not accept the inserted text")
        landed = self.page.script(pagejs.COMPOSER_TEXT_JS, self.roles)
        if _same_text(landed, prompt):
            return
        if self._attachments_grew():  # the page turned the paste into an attachment
            raise PageError("the chat page turned the pasted prompt into an attachment; "
                            "set a paste limit below its own")
        self.page.script(pagejs.CLEAR_COMPOSER_JS, self.roles)
        if self.attach(prompt, limits):  # exact, unlike the page's paste
            return
        raise PageError(f"the chat page altered the prompt while inserting it "
                        f"({_first_difference(str(landed or ''), prompt)})")

    def insert_html(self, prompt: str) -> None:
        """Paste ``prompt`` as HTML; its fenced code must land in the composer exactly."""
        how = self.page.script(pagejs.INSERT_HTML_JS, self.roles, prompt_html(prompt), prompt)
        if how == "missing":
            raise self._missing("prompt_input", "not found when inserting the prompt")
        if how == "failed":
            raise PageError("the prompt input did not accept the pasted prompt")
        landed = self.page.script(pagejs.COMPOSER_CODE_JS, self.roles)
        wanted = [b.code for b in fenced_blocks(prompt)]
        if landed != wanted:
            self.page.script(pagejs.CLEAR_COMPOSER_JS, self.roles)
            raise PageError(f"the chat page altered the prompt's code while inserting it "
                            f"({len(wanted)} code blocks sent, "
                            f"{len(landed) if isinstance(landed, list) else 0} landed, "
                            "or their text differs)")

    def _attachments_grew(self) -> bool:
        return self.state().attachments > 0

    def attach(self, prompt: str, limits: Limits) -> bool:
        """Upload ``prompt`` as a text file and insert a short instruction naming it;
        False when the page has no file input."""
        before = self.state().attachments
        with tempfile.TemporaryDirectory(prefix="dreamscape-prompt-") as tmp:
            path = Path(tmp) / ATTACHMENT_NAME
            path.write_text(prompt, encoding="utf-8")
            if not self.page.upload(self.profile.file_input, str(path)):
                return False
            until = min(limits.deadline, time.monotonic() + limits.load_s)
            uploaded = self.poll(lambda p: p.attachments > before and not p.uploading, until)
        if uploaded is None:
            raise PageError(f"the attached prompt did not finish uploading within "
                            f"{limits.load_s:g}s")
        instruction = attachment_instruction(ATTACHMENT_NAME, len(prompt))
        how = self.page.script(pagejs.INSERT_JS, self.roles, instruction)
        if how in ("missing", "failed"):
            raise self._missing("prompt_input", "could not type the attachment's instruction")
        return True

    # -- 2. send and wait -------------------------------------------------------------
    def send(self, limits: Limits) -> None:
        until = min(limits.deadline, time.monotonic() + limits.load_s)
        if self.poll(lambda p: p.send, until) is None:
            raise self._missing("send_button", "not shown after inserting the prompt")
        if not self.page.script(pagejs.CLICK_JS, self.roles, "send_button"):
            raise self._missing("send_button", "vanished before it could be clicked")

    def wait_for_answer(self, before: PageState, limits: Limits, sent: float) -> None:
        def started(p: PageState) -> bool:
            return (p.stop or p.wall or p.assistants > before.assistants
                    or p.errors > before.errors)

        page = self.poll(started, min(limits.deadline, sent + limits.start_s))
        if page is None:
            self.stop()
            if time.monotonic() >= limits.deadline:
                raise AnswerTimeout(f"the answer did not finish within {limits.timeout_s:g}s")
            raise AnswerTimeout(f"the answer did not start within {limits.start_s:g}s "
                                f"(stop {self.profile.selector('stop_button')!r} never "
                                "appeared and no new message)")
        stop_seen = page.stop
        signature = (page.text_length, page.text_tail)
        changed, growth = time.monotonic(), 0
        while True:
            if page.wall or page.errors > before.errors:
                return  # read() raises the typed error
            now = time.monotonic()
            if (page.text_length, page.text_tail) != signature:
                signature, changed = (page.text_length, page.text_tail), now
                growth += 1
            stop_seen = stop_seen or page.stop
            settled = now - changed >= self.profile.settle_s
            if (not page.stop and settled and page.assistants > before.assistants
                    and (page.done or not self.profile.done_marker)):
                if not stop_seen and growth >= STREAMING_SEEN and self.profile.stop_button:
                    raise self._missing("stop_button", "never shown while the answer streamed")
                return
            if (not page.stop and now - changed > MISSING_END_S and self.profile.done_marker
                    and page.assistants > before.assistants):
                raise self._missing("done_marker", f"the answer stopped changing "
                                    f"{MISSING_END_S:g}s ago but never showed its end")
            if now >= limits.deadline:
                self.stop()
                raise AnswerTimeout(f"the answer did not finish within {limits.timeout_s:g}s")
            time.sleep(POLL_S)
            page = self.state()

    def stop(self) -> None:
        """Click the stop control if the page shows one: the tab stops generating an
        answer we gave up on (timed out or interrupted)."""
        with contextlib.suppress(Exception):  # best effort while giving up on an answer
            self._raw.script(pagejs.CLICK_JS, self.roles, "stop_button")

    # -- 3. read ----------------------------------------------------------------------
    def read(self, before: PageState, started: float) -> Answer:
        page = self.state()
        if page.wall:
            raise SessionExpired(f"session {self.session_id} was logged out while answering; "
                                 "import cookies with `dreamscape login`")
        if page.errors > before.errors:
            text = " ".join(page.error_text.split())[:300] or "an error without text"
            if classify_page_error(text) == "rate_limited":
                raise RateLimited(f"rate limited by the chat page: {text}")
            raise PageError(f"the chat page reported an error: {text}")
        if page.notice:
            raise RateLimited(f"the requested model did not answer: {page.notice}")
        if page.assistants <= before.assistants:
            raise self._missing("assistant_message", "no new message after the answer")
        text, code = self._copied() or self._walked()
        return Answer(text=text, code_blocks=tuple(code),
                      seconds=time.monotonic() - started, page_model=page.model)

    def _copied(self) -> tuple[str, list[str]] | None:
        """The answer through the page's own copy action: exactly what the model wrote."""
        if not self.profile.copy_button or not self.page.script(pagejs.COPY_JS, self.roles):
            return None
        until = time.monotonic() + COPY_WAIT_S
        copied: object = None
        try:
            while time.monotonic() < until:
                copied = self.page.script(pagejs.COPIED_JS)
                if isinstance(copied, str) and copied.strip():
                    break
                time.sleep(POLL_S)
        finally:
            self._raw.script(pagejs.RESTORE_CLIPBOARD_JS)
        if not (isinstance(copied, str) and copied.strip()):
            return None
        text = copied.replace("\r\n", "\n").strip()
        return text, [b.code for b in fenced_blocks(text)]

    def _walked(self) -> tuple[str, list[str]]:
        raw = self.page.script(pagejs.READ_JS, self.roles)
        if not isinstance(raw, dict):
            raise self._missing("assistant_message", "the answer could not be read")
        return str(raw.get("text", "")), [str(c) for c in raw.get("code") or ()]


def prompt_html(prompt: str) -> str:
    """``prompt`` as HTML for a rich editor: a <p> per prose line, <pre><code> per fence."""
    parts = []
    for segment in markdown_segments(prompt):
        if isinstance(segment, str):
            parts += [f"<p>{html.escape(line, quote=False)}</p>"
                      for line in segment.split("\n") if line.strip()]
        else:
            language = f' class="language-{html.escape(segment.language)}"' \
                if segment.language else ""
            parts.append(f"<pre><code{language}>{html.escape(segment.code, quote=False)}"
                         "</code></pre>")
    return "".join(parts)


def _same_text(landed: object, prompt: str) -> bool:
    if not isinstance(landed, str):
        return False
    return landed.replace("\r\n", "\n").rstrip("\n") == prompt.replace("\r\n", "\n").rstrip("\n")


def _first_difference(landed: str, prompt: str) -> str:
    got, want = landed.split("\n"), prompt.split("\n")
    for number, (a, b) in enumerate(zip(got, want, strict=False), start=1):
        if a != b:
            return f"line {number}: sent {b[:40]!r}, the page holds {a[:40]!r}"
    return f"{len(want)} lines sent, the page holds {len(got)}"
