"""The webchat client on every chat DOM it supports, in real Chromium (issue 9).

The practice page serves ChatGPT's 2025 DOM (classic), its 2026 CodeMirror code viewer,
its 2026 transcript DOM and Open WebUI's DOM (``?dom=``). For each, with the profile
detected from the page (``auto``): answers come back as the model's markdown with
exact code and no chrome, long prompts arrive once and intact, every edit format
parses from what the browser read, a reasoning preamble is not the answer, and page
drift is ``SelectorMissing`` rather than a partial answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from dreamscape_tui.core.answer import fenced_blocks
from dreamscape_tui.core.chatflow import ATTACHMENT_NAME
from dreamscape_tui.core.client import OpenAIClient
from dreamscape_tui.core.edits import parse_edit
from dreamscape_tui.core.errors import RateLimited, SelectorMissing
from dreamscape_tui.practice import ChatServer, Reply
from tests.browser_fixtures import browser_test
from tests.prompts import big_prompt

DOMS = ("classic", "codemirror", "transcript", "openwebui")
CHATGPT_DOMS = DOMS[:3]

ORIGINAL = 'def greet(name):\n\tif name:\n\t\treturn "hi " + name   \n\treturn "hi"\n'
FIXED = ORIGINAL.replace('"hi " + name', '"Hello, " + name + "!"')
SEARCH_REPLACE = (
    "The greeting is wrong. Change it:\n\n"
    "pkg/greet.py\n```python\n<<<<<<< SEARCH\n\t\treturn \"hi \" + name   \n=======\n"
    "\t\treturn \"Hello, \" + name + \"!\"   \n>>>>>>> REPLACE\n```\n\nThat is all.")
DIFF = (
    "Here is the patch:\n\n```diff\n--- a/pkg/greet.py\n+++ b/pkg/greet.py\n"
    "@@ -1,4 +1,4 @@\n def greet(name):\n \tif name:\n-\t\treturn \"hi \" + name   \n"
    "+\t\treturn \"Hello, \" + name + \"!\"   \n \treturn \"hi\"\n```\n")
WHOLE = "The whole file:\n\n```python\n" + FIXED + "```\n\n- fixed **the** greeting"


def drift(client: OpenAIClient, **selectors: str) -> None:
    """The page "changed": these roles' selectors now match nothing."""
    client.webchat = replace(client.webchat,
                             selectors=replace(client.webchat.selectors, **selectors))


@pytest.fixture
def ask(client: OpenAIClient, practice: ChatServer) -> Iterator[object]:
    def run(dom: str, text: str, prompt: str = "fix it", **reply: object) -> object:
        practice.queue(Reply(text=text, **reply))  # type: ignore[arg-type]
        return client.submit_prompt(prompt, f"{practice.url}?model=m&dom={dom}",
                                     timeout_s=60)

    yield run


@browser_test
@pytest.mark.parametrize("dom", DOMS)
@pytest.mark.parametrize("text", [SEARCH_REPLACE, DIFF, WHOLE], ids=["sr", "diff", "whole"])
def test_every_edit_format_parses_from_what_the_browser_read(ask: object, dom: str,
                                                             text: str) -> None:
    answer = ask(dom, text)  # type: ignore[operator]
    assert answer.text == text.strip()  # the page's copy action: the model's own markdown
    assert list(answer.code_blocks) == [b.code for b in fenced_blocks(text)]
    edit = parse_edit(answer, "pkg/greet.py", ORIGINAL)
    assert edit.content == FIXED


@browser_test
@pytest.mark.parametrize("dom", DOMS)
def test_without_a_copy_action_the_dom_walk_keeps_code_exact_and_drops_chrome(
        client: OpenAIClient, ask: object, dom: str) -> None:
    drift(client, copy_button="button.not-here")  # the client fixture restores it
    answer = ask(dom, SEARCH_REPLACE)  # type: ignore[operator]
    assert list(answer.code_blocks) == [b.code for b in fenced_blocks(SEARCH_REPLACE)]
    assert "pkg/greet.py\n\n```python\n<<<<<<< SEARCH" in answer.text
    for chrome in ("Copy code", "Copy", "Collapse", "Run", "Save", "⌄"):
        assert chrome not in answer.text.replace("<<<<<<<", "")
    assert parse_edit(answer, "pkg/greet.py", ORIGINAL).content == FIXED


@browser_test
@pytest.mark.parametrize("dom", DOMS)
@pytest.mark.parametrize("size", [15_000, 20_500])
def test_long_prompts_arrive_once_and_intact(ask: object, practice: ChatServer, dom: str,
                                             size: int) -> None:
    code = big_prompt()[:size]
    prompt = f"Fix this file:\n\n```python\n{code.rstrip(chr(10))}\n```\n"
    ask(dom, "ok", prompt)  # type: ignore[operator]
    (delivered,) = practice.prompts  # exactly once
    if dom in CHATGPT_DOMS:  # over the paste limit: attached, byte for byte
        assert delivered.attachments == ((ATTACHMENT_NAME, prompt),)
    else:  # Open WebUI: its code blocks are the exact channel
        assert [b.code for b in fenced_blocks(delivered.text)] == [code.rstrip("\n")]


@browser_test
@pytest.mark.parametrize("dom", DOMS)
def test_a_reasoning_answer_is_read_whole_past_its_preamble(ask: object, dom: str) -> None:
    answer = ask(dom, WHOLE, thinking_s=2.0, chunk_chars=20,  # type: ignore[operator]
                 chunk_delay_s=0.02)
    assert answer.text == WHOLE.strip()
    assert "Thinking" not in answer.text and "Thought for" not in answer.text


@browser_test
@pytest.mark.parametrize("dom", DOMS)
def test_a_vanished_stop_selector_is_selector_missing_not_a_partial_answer(
        client: OpenAIClient, ask: object, dom: str) -> None:
    drift(client, stop_button="button.renamed-stop")
    with pytest.raises(SelectorMissing, match="stop_button"):
        ask(dom, WHOLE, chunk_chars=8, chunk_delay_s=0.1)  # type: ignore[operator]


@browser_test
@pytest.mark.parametrize("dom", CHATGPT_DOMS)
def test_the_free_plan_downgrade_is_a_rate_limit(ask: object, dom: str) -> None:
    with pytest.raises(RateLimited, match="Free plan limit"):
        ask(dom, "an answer from another model", downgrade_to="gpt-4o-mini")  # type: ignore[operator]


@browser_test
@pytest.mark.parametrize("dom", DOMS)
def test_the_model_the_page_says_answered_is_kept(ask: object, dom: str) -> None:
    answer = ask(dom, "hello")  # type: ignore[operator]
    assert answer.page_model == "m" and answer.model == "m"
