"""Each DOM the practice page serves, driven with plain Selenium in real Chromium.

The client is coded against docs/dom-contract.md (and the package docstring of
``dreamscape_tui.practice``); these tests prove the page keeps that contract: the
selectors exist, the streaming / stop / done markers behave, the copy actions write the
exact markdown, code viewers hide the exact code where the real ones do, long pastes and
uploaded files become attachments that reach the server, and the reasoning preamble,
Free-plan notice and logged-out composer show. The shared browser of
``tests/browser_fixtures.py`` is used (see tests/practice_driver.py).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from dreamscape_tui.practice import DOWNGRADE_NOTICE, ERROR_MESSAGES, ChatServer, Prompt, Reply
from tests.browser_fixtures import needs_browser
from tests.page_helpers import EXEC_COMMAND_JS, PASTE_JS, css, js, wait_until

pytestmark = [pytest.mark.browser, needs_browser]
pytest_plugins = ["tests.practice_driver"]  # page_driver: the shared browser

CODE = 'def heal(x):\n\tif x:  \n\n        return "<ok>"  # done\n    return None   '
ANSWER = f"Here is the fix:\n\n```python\n{CODE}\n```\n\nThat's **all**."


@dataclass(frozen=True)
class Dom:
    """The selectors of one DOM, as the contract names them."""

    name: str
    composer: str
    send: str
    stop: str
    turn: str  # the last match is the newest assistant answer (done marker on or in it)
    markdown: str  # inside the turn
    done: str
    copy: str
    error: str
    attachment: str
    notice: str
    reasoning: str
    login: str
    toast: str


CLASSIC = Dom(
    name="classic", composer="#prompt-textarea", send='button[data-testid="send-button"]',
    stop='button[data-testid="stop-button"]', turn='article[data-testid^="conversation-turn-"]',
    markdown='div[data-message-author-role="assistant"] > div.markdown',
    done='div[data-testid="turn-actions"]',
    copy='button[data-testid="copy-turn-action-button"]',
    error='div.text-token-text-error[data-testid="error-message"]',
    attachment='div[data-testid="composer-attachment"]',
    notice='div[data-testid="model-downgrade-notice"]', reasoning="div.thinking-preamble",
    login='button[data-testid="login-button"]', toast='[data-testid="toast"]',
)
CODEMIRROR = Dom(**{**CLASSIC.__dict__, "name": "codemirror"})
TRANSCRIPT = Dom(
    name="transcript", composer="textarea#mobile-composer-prompt",
    send="button[data-composer-submit]:not([data-stop-generating]):not([disabled])",
    stop="button[data-composer-submit][data-stop-generating]",
    turn='li[data-message-role="assistant"]', markdown="[data-assistant-markdown]",
    done="[data-message-complete]", copy="button[data-copy-message]",
    error='div[role="alert"][data-message-error]', attachment="[data-composer-attachment]",
    notice="[data-model-notice]", reasoning="[data-reasoning]",
    login="button[data-login-button]", toast="[data-toast]",
)
CHATGPT_DOMS = [CLASSIC, CODEMIRROR, TRANSCRIPT]
by_name = pytest.mark.parametrize("dom", CHATGPT_DOMS, ids=lambda d: d.name)

CAPTURE_CLIPBOARD_JS = """
window.__copied = [];
navigator.clipboard.writeText = (text) => { window.__copied.push(text); return Promise.resolve(); };
"""
STATE_JS = """
const [d] = arguments;
const turns = document.querySelectorAll(d.turn);
const turn = turns[turns.length - 1] || null;
const find = (sel) => turn && (turn.matches(sel) ? turn : turn.querySelector(sel));
const md = find(d.markdown);
const pre = find(d.reasoning);
return {stop: !!document.querySelector(d.stop), done: !!find(d.done),
        text: md ? md.textContent : '', preamble: pre ? pre.textContent : '',
        slug: (turn && turn.querySelector('[data-message-model-slug]')
               || turn || document.body).getAttribute('data-message-model-slug')};
"""


# -- fixtures and helpers ---------------------------------------------------------------


def open_dom(driver: WebDriver, server: ChatServer, dom: Dom, query: str = "") -> WebElement:
    """Load the page with ``?dom=`` and return its composer once the app wired it up."""
    driver.get(f"{server.url}?dom={dom.name}{query}")
    element: WebElement = wait_until(
        driver, lambda d: d.find_element(By.CSS_SELECTOR, dom.composer)
    )
    return element


def state(driver: WebDriver, dom: Dom) -> dict[str, Any]:
    """One snapshot of the newest answer: stop shown, done marker, text, preamble, slug."""
    result: dict[str, Any] = js(driver, STATE_JS, dom.__dict__)
    return result


def wait_done(driver: WebDriver, dom: Dom, timeout: float = 10) -> dict[str, Any]:
    """Wait for the contract's end of an answer: the done marker, and no stop control."""
    snapshot: dict[str, Any] = wait_until(
        driver, lambda d: (s := state(d, dom))["done"] and not s["stop"] and s, timeout
    )
    return snapshot


def paste(driver: WebDriver, element: WebElement, text: str) -> None:
    js(driver, PASTE_JS, element, text)


# -- the DOM is chosen per page load ----------------------------------------------------


def test_dom_from_query_or_server_default(page_driver: WebDriver, practice: ChatServer) -> None:
    """``?dom=`` picks the DOM, the server's ``dom`` is the default, unknown names fail."""
    open_dom(page_driver, practice, TRANSCRIPT, "&model=gpt-4o")
    assert js(page_driver, "return document.querySelectorAll('[data-testid]').length") == 0
    assert css(page_driver, "ol[data-conversation-transcript]")
    assert not css(page_driver, CLASSIC.composer)

    practice.dom = "codemirror"
    page_driver.get(practice.url + "?model=gpt-4o")
    wait_until(page_driver, lambda d: css(d, CLASSIC.composer))
    assert not css(page_driver, TRANSCRIPT.composer)

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(practice.url + "?dom=nope", timeout=5)
    caught.value.close()
    assert caught.value.code == 400
    with pytest.raises(ValueError, match="unknown dom"):
        ChatServer(dom="nope")


# -- streaming, done markers, copy ------------------------------------------------------------


@by_name
def test_answer_streams_then_done_marker_and_copy_writes_markdown(
    page_driver: WebDriver, practice: ChatServer, dom: Dom
) -> None:
    """Stop shows while streaming and no done marker; then the marker; copy gives markdown."""
    practice.queue(Reply(text=ANSWER, chunk_chars=8, chunk_delay_s=0.02, delay_before_s=0.2))
    element = open_dom(page_driver, practice, dom, "&model=gpt-4o")
    element.send_keys("fix it\n")
    wait_until(page_driver, lambda d: state(d, dom)["text"])
    streaming = state(page_driver, dom)
    assert streaming["stop"] and not streaming["done"] and not css(page_driver, dom.copy)
    if dom is TRANSCRIPT:
        assert css(page_driver, f"{dom.turn}[data-message-streaming]")
    final = wait_done(page_driver, dom)
    assert final["slug"] == "gpt-4o"
    assert final["text"].startswith("Here is the fix:") and "That's all." in final["text"]
    if dom is TRANSCRIPT:
        assert not css(page_driver, f"{dom.turn}[data-message-streaming]")
    assert practice.prompts == [Prompt("fix it", "gpt-4o")]

    js(page_driver, CAPTURE_CLIPBOARD_JS)
    css(page_driver, dom.copy)[-1].click()
    assert js(page_driver, "return window.__copied") == [ANSWER]
    toast = wait_until(page_driver, lambda d: css(d, dom.toast))[0]
    assert toast.text == "Copied!"
    assert not js(page_driver, "return !!arguments[0].closest(arguments[1])", toast, dom.turn)


@by_name
def test_code_block_shape_per_dom(page_driver: WebDriver, practice: ChatServer, dom: Dom) -> None:
    """classic: exact ``pre code``; CodeMirror viewers: lines as spans, exact only in cmView."""
    practice.queue(Reply(text=ANSWER, chunk_chars=50, chunk_delay_s=0))
    element = open_dom(page_driver, practice, dom)
    element.send_keys("code\n")
    wait_done(page_driver, dom)
    pre = css(page_driver, f"{dom.turn} pre")[-1]
    header = pre.find_element(By.CSS_SELECTOR, "div")
    assert "python" in header.text
    if dom is CLASSIC:
        assert pre.find_element(By.TAG_NAME, "button").text == "Copy code"
        code = pre.find_element(By.CSS_SELECTOR, "code.language-python")
        assert js(page_driver, "return arguments[0].textContent", code) == CODE
        return
    assert pre.find_element(By.TAG_NAME, "button").text == "Copy"
    assert not pre.find_elements(By.TAG_NAME, "code")
    viewer = "#code-block-viewer.cm-editor > .cm-scroller > .cm-content"
    content = pre.find_element(By.CSS_SELECTOR, viewer)
    assert js(page_driver, "return arguments[0].textContent", content) == CODE.replace("\n", "")
    kids = js(page_driver, "return Array.from(arguments[0].children, (c) => c.tagName)", content)
    lines = CODE.split("\n")
    expected = []
    for i, line in enumerate(lines):
        expected += (["BR"] if i else []) + (["SPAN"] if line else [])
    assert kids == expected
    assert js(page_driver, "return arguments[0].cmView.view.state.doc.toString()", content) == CODE
    via_query = "return document.querySelector('.cm-content').cmView.view.state.doc.toString()"
    assert js(page_driver, via_query) == CODE


def test_transcript_submit_button_stops_and_errors_alert(
    page_driver: WebDriver, practice: ChatServer
) -> None:
    """The one submit button stops a stream; an error is an alert, never "complete"."""
    dom = TRANSCRIPT
    practice.queue(Reply(text="x" * 2000, chunk_chars=10, chunk_delay_s=0.05),
                   Reply(error="rate_limited", delay_before_s=0.2))
    element = open_dom(page_driver, practice, dom)
    assert css(page_driver, "button[data-composer-submit][disabled]")  # nothing to send yet
    element.send_keys("long\n")
    wait_until(page_driver, lambda d: state(d, dom)["text"])
    css(page_driver, dom.stop)[0].click()
    snapshot = wait_done(page_driver, dom, timeout=3)
    assert 0 < len(snapshot["text"]) < 2000

    element.send_keys("again\n")
    alert = wait_until(page_driver, lambda d: css(d, f"{dom.turn} {dom.error}"))[0]
    assert alert.text == ERROR_MESSAGES["rate_limited"]
    wait_until(page_driver, lambda d: not css(d, dom.stop))
    last = css(page_driver, dom.turn)[-1]
    assert last.get_attribute("data-message-complete") is None
    assert last.get_attribute("data-message-streaming") is None


# -- reasoning preamble, Free-plan downgrade ---------------------------------------------------


@pytest.mark.parametrize("dom", [CLASSIC, TRANSCRIPT], ids=lambda d: d.name)
def test_reasoning_preamble_with_moments_without_stop(
    page_driver: WebDriver, practice: ChatServer, dom: Dom
) -> None:
    """"Thinking", then "Thought for 2s", then the answer; mid-thought no stop control."""
    practice.queue(Reply(text="The answer.", thinking_s=1.6, chunk_delay_s=0))
    element = open_dom(page_driver, practice, dom)
    element.send_keys("think\n")
    samples: list[tuple[float, dict[str, Any]]] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        snapshot = state(page_driver, dom)
        samples.append((time.monotonic(), snapshot))
        if snapshot["done"]:
            break
        time.sleep(0.05)  # sampling interval, not a wait for a condition
    assert samples[-1][1]["preamble"] == "Thought for 2s"
    assert samples[-1][1]["text"] == "The answer."
    thinking = [(t, s) for t, s in samples if s["preamble"] == "Thinking"]
    assert thinking and all(s["text"] == "" for _, s in thinking)
    unstoppable = [t for t, s in thinking if not s["stop"]]
    assert unstoppable and unstoppable[-1] - unstoppable[0] >= 0.5


@pytest.mark.parametrize("dom", [CODEMIRROR, TRANSCRIPT], ids=lambda d: d.name)
def test_free_plan_notice_and_downgraded_slug(
    page_driver: WebDriver, practice: ChatServer, dom: Dom
) -> None:
    """The notice shows and the message says which model really answered."""
    practice.queue(Reply(text="Cheaper answer.", downgrade_to="gpt-4o-mini"))
    element = open_dom(page_driver, practice, dom, "&model=gpt-4o")
    element.send_keys("hi\n")
    final = wait_done(page_driver, dom)
    assert final["slug"] == "gpt-4o-mini"
    assert css(page_driver, dom.notice)[0].text == DOWNGRADE_NOTICE
    assert practice.prompts == [("hi", "gpt-4o")]


# -- attachments: long pastes and uploaded files ----------------------------------------------


@pytest.mark.parametrize(
    ("dom", "query"), [(CODEMIRROR, ""), (TRANSCRIPT, ""), (CLASSIC, "&paste_limit=10000")],
    ids=["codemirror", "transcript", "classic-with-limit"],
)
def test_long_paste_becomes_an_attachment(
    page_driver: WebDriver, practice: ChatServer, dom: Dom, query: str
) -> None:
    """Over 10,000 characters a paste is a "Pasted text.txt" chip, not text; under, text."""
    big = "".join(f"line {i}\t \n" for i in range(1500))
    assert len(big) > 15_000
    element = open_dom(page_driver, practice, dom, query)
    paste(page_driver, element, big)
    chip = wait_until(page_driver, lambda d: css(d, dom.attachment))[0]
    assert "Pasted text.txt" in chip.text
    assert chip.get_attribute("data-upload-state") == "uploading"
    value = "return arguments[0].value ?? arguments[0].textContent"
    assert js(page_driver, value, element) == ""
    wait_until(page_driver, lambda d: chip.get_attribute("data-upload-state") == "done")
    # a synthetic paste does not insert into a textarea (browsers only do that for real
    # ones), so the short text goes in the way clients insert text anywhere
    assert js(page_driver, EXEC_COMMAND_JS, element, "small paste\n\tkept") is True
    wait_until(page_driver, lambda d: css(d, dom.send))[0].click()
    prompts = practice.wait_for_prompts(1)
    assert prompts == [Prompt("small paste\n\tkept", "auto", [("Pasted text.txt", big)])]
    assert not css(page_driver, dom.attachment)
    wait_done(page_driver, dom)


@pytest.mark.parametrize("dom", [CLASSIC, TRANSCRIPT], ids=lambda d: d.name)
def test_uploaded_file_reaches_the_server(
    page_driver: WebDriver, practice: ChatServer, dom: Dom, tmp_path: Path
) -> None:
    """The hidden file input uploads (uploading, then done); send waits for it."""
    upload = tmp_path / "prompt.md"
    upload.write_text("# Task\n\n\tfix `calc.py`  \n", encoding="utf-8")
    element = open_dom(page_driver, practice, dom)
    css(page_driver, 'input[type="file"]')[0].send_keys(str(upload))
    chip = wait_until(page_driver, lambda d: css(d, dom.attachment))[0]
    assert chip.get_attribute("data-upload-state") == "uploading"
    element.send_keys("see the file\n")  # Enter while uploading does not send
    wait_until(page_driver, lambda d: chip.get_attribute("data-upload-state") == "done")
    assert practice.prompts == []
    element.send_keys("\n")
    prompts = practice.wait_for_prompts(1)
    assert prompts == [Prompt("see the file", "auto", [("prompt.md", upload.read_text())])]
    wait_done(page_driver, dom)


# -- logged out -----------------------------------------------------------------------------


@pytest.mark.parametrize("dom", [CLASSIC, TRANSCRIPT], ids=lambda d: d.name)
def test_logged_out_with_and_without_composer(
    page_driver: WebDriver, practice: ChatServer, dom: Dom
) -> None:
    """Logged out: login buttons; with ``logged_out_composer`` the composer works too."""
    practice.require_login = True
    page_driver.get(f"{practice.url}?dom={dom.name}")
    wait_until(page_driver, lambda d: css(d, dom.login))
    assert not css(page_driver, dom.composer)
    if dom is TRANSCRIPT:
        assert css(page_driver, "html[data-logged-out]")

    practice.logged_out_composer = True
    element = open_dom(page_driver, practice, dom)
    assert css(page_driver, dom.login)
    element.send_keys("anonymous\n")
    wait_done(page_driver, dom)
    assert practice.prompts == [("anonymous", "auto")]
