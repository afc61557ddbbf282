"""The practice page's Open WebUI DOM (``?dom=openwebui``), driven with plain Selenium.

Built from Open WebUI's own Svelte source (docs/openwebui-dom.md): a TipTap
composer whose prompt is turndown's markdown (a plain paste loses blank lines and
leading tabs; a code-block paste is exact), CodeMirror 6 code blocks that render only
the lines near the viewport (the whole text is in ``.cm-content.cmTile``), action
buttons once a message is done, svelte-sonner toasts and the /auth page.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from dreamscape_tui.practice import ERROR_MESSAGES, ChatServer, Prompt, Reply
from tests.browser_fixtures import needs_browser
from tests.page_helpers import PASTE_JS, css, js, wait_until

pytestmark = [pytest.mark.browser, needs_browser]
pytest_plugins = ["tests.practice_driver"]  # page_driver: the shared browser

INPUT = "#chat-input"
SEND = "#send-message-button"
STOP = 'button[aria-label="Stop"]'
VOICE = 'button[aria-label="Voice mode"]'
ANSWER = "#response-content-container .markdown-prose"
DONE = ".buttons button.copy-response-button"
TOAST = "li[data-sonner-toast]"
CODE = 'def heal(x):\n\tif x:  \n\n        return "<ok>"  # done\n    return None   '

def open_owui(driver: WebDriver, server: ChatServer, query: str = "") -> WebElement:
    driver.get(f"{server.url}?dom=openwebui{query}")
    element: WebElement = wait_until(driver, lambda d: d.find_element(By.CSS_SELECTOR, INPUT))
    return element


def wait_done(driver: WebDriver, timeout: float = 10) -> None:
    wait_until(driver, lambda d: css(d, DONE) and not css(d, STOP), timeout)


def last_answer(driver: WebDriver) -> str:
    return str(js(driver, "const a = document.querySelectorAll(arguments[0]);"
                          "return a[a.length - 1].textContent", ANSWER))


# -- composer ---------------------------------------------------------------------------------


def test_plain_paste_is_altered_and_code_block_pastes_are_exact(
    page_driver: WebDriver, practice: ChatServer
) -> None:
    """turndown's markdown: blank lines and a leading tab go; code blocks (vscode or HTML
    pastes) keep every byte."""
    element = open_owui(page_driver, practice)
    assert css(page_driver, VOICE) and not css(page_driver, SEND)
    js(page_driver, PASTE_JS, element, "Fix:\n\ndef f():\n\treturn 1  # a  b\n\nok")
    assert [p.tag_name for p in element.find_elements(By.XPATH, "./*")] == ["p"] * 4
    wait_until(page_driver, lambda d: css(d, SEND))[0].click()
    assert practice.wait_for_prompts(1)[0] == ("Fix:\ndef f():\nreturn 1  # a  b\nok", "auto")
    wait_done(page_driver)

    vscode = {"vscode-editor-data": json.dumps({"mode": "python"})}
    js(page_driver, PASTE_JS, element, CODE, vscode)
    assert css(page_driver, f"{INPUT} > pre > code.language-python")
    element.send_keys("\n")  # Enter inside a code block is a newline, not a send
    assert len(practice.prompts) == 1
    element.send_keys("\n\n")  # the third Enter leaves the block
    element.send_keys("Thanks")
    css(page_driver, SEND)[0].click()
    prompt = practice.wait_for_prompts(2)[1]
    assert prompt == (f"```python\n{CODE}\n```\n\nThanks", "auto")
    wait_done(page_driver)

    # text/html wins over text/plain: <p> lines collapse, <pre><code> stays exact
    page = (f"<meta charset='utf-8'><p>Intro\t  here</p><pre><code class=\"language-python\">"
            f"{html.escape(CODE)}</code></pre><p>Bye</p>")
    js(page_driver, PASTE_JS, element, "ignored plain text", {"text/html": page})
    assert len(css(page_driver, f"{INPUT} > pre > code")) == 1
    css(page_driver, SEND)[0].click()
    prompt = practice.wait_for_prompts(3)[2]
    assert prompt.text == f"Intro here\n\n```python\n{CODE}\n```\n\nBye"
    wait_done(page_driver)


def test_typed_text_gets_typography_and_exec_command_keeps_blank_lines(
    page_driver: WebDriver, practice: ChatServer
) -> None:
    """Input rules rewrite typed quotes and dashes; insertText lines become paragraphs."""
    element = open_owui(page_driver, practice)
    element.send_keys('say "hi" -- ok\n')
    assert practice.wait_for_prompts(1)[0].text == "say “hi” — ok"
    wait_done(page_driver)
    inserted = "a\n\n\tb  c\n x"
    assert js(page_driver, "arguments[0].focus(); return document.execCommand('insertText', false,"
                      " arguments[1])", element, inserted) is True
    css(page_driver, SEND)[0].click()
    assert practice.wait_for_prompts(2)[1].text == "a\n  \nb  c\nx"
    wait_done(page_driver)


# -- answers ----------------------------------------------------------------------------------


def test_streaming_tokens_then_buttons_and_copy_response(
    page_driver: WebDriver, practice: ChatServer
) -> None:
    """Stop and fade-in tokens while streaming; the buttons once done; copy is markdown."""
    answer = "Here is **the** fix:\n\n```diff\n-a\n+b\n```\n\n~~~\nplain  text\n~~~\n\nBye.\n"
    practice.queue(Reply(text=answer, chunk_chars=6, chunk_delay_s=0.03, delay_before_s=0.2))
    element = open_owui(page_driver, practice, "&model=qwen3:8b")
    element.send_keys("fix\n")
    wait_until(page_driver, lambda d: css(d, f"{ANSWER} span.fade-in-token"))
    assert css(page_driver, STOP) and not css(page_driver, DONE)
    wait_done(page_driver)
    assert not css(page_driver, "span.fade-in-token")
    assert css(page_driver, "#response-message-model-name")[-1].text == "qwen3:8b"
    labels = [b.get_attribute("aria-label") for b in css(page_driver, ".buttons button")]
    for label in ("Edit", "Copy", "Good Response", "Bad Response", "Regenerate"):
        assert label in labels
    assert css(page_driver, ".buttons .regenerate-response-button")
    # diff is a CodeMirror editor too; ~~~ is not a code block in Open WebUI
    assert not css(page_driver, f"{ANSWER} pre code")
    assert len(css(page_driver, f"{ANSWER} .cm-editor")) == 1
    assert "plain  text" in last_answer(page_driver)

    js(page_driver, "window.__copied = []; navigator.clipboard.writeText = (t) => "
               "{ window.__copied.push(t); return Promise.resolve(); };")
    css(page_driver, DONE)[-1].click()
    assert js(page_driver, "return window.__copied") == [answer.strip()]
    toast = wait_until(page_driver, lambda d: css(d, f"ol[data-sonner-toaster] {TOAST}"))[0]
    assert toast.text == "Copying to clipboard was successful!"


def test_long_code_block_renders_only_near_the_viewport(
    page_driver: WebDriver, practice: ChatServer
) -> None:
    """About a hundred .cm-line elements of 400 lines; cmTile's doc holds every line."""
    code = "def f():\n\tpass\n" + "\n".join(f"x{n} = {n}" for n in range(398))
    practice.queue(Reply(text=f"Fixed:\n\n```python\n{code}\n```\n", chunk_chars=4000))
    element = open_owui(page_driver, practice)
    element.send_keys("long\n")
    wait_done(page_driver)
    js(page_driver, "document.querySelector('.cm-editor').scrollIntoView({block: 'start'})")
    wait_until(page_driver, lambda d: js(d, "return document.querySelector('.cm-line').textContent")
               == "def f():")
    rendered = js(page_driver, "return document.querySelectorAll('.cm-content > .cm-line').length")
    assert 40 <= rendered <= 160
    content = css(page_driver, ".cm-content")[0]
    whole = "return arguments[0].cmTile.view.state.doc.toString()"
    assert js(page_driver, whole, content) == code
    assert js(page_driver, "return arguments[0].cmView", content) is None
    gutter = css(page_driver, ".cm-gutters .cm-lineNumbers .cm-gutterElement")
    assert [g.text for g in gutter[1:4]] == ["1", "2", "3"]
    assert css(page_driver, '.cm-foldGutter span[title="Fold line"]')[0].text == "⌄"
    header = [b.text for b in css(page_driver, "div.rounded-2xl.border > .sticky.top-0 button")]
    assert header == ["Collapse", "Run", "Save", "Copy"]
    assert css(page_driver, '[id^="code-textarea-"] > .cm-editor > .cm-scroller > .cm-content')


@pytest.mark.parametrize("error", [False, True], ids=["reasoning", "error"])
def test_reasoning_keeps_stop_and_errors_still_finish(
    page_driver: WebDriver, practice: ChatServer, error: bool
) -> None:
    """"Thinking..." then "Thought for 2 seconds" with Stop up throughout; errors are done."""
    if error:
        practice.queue(Reply(error="something_went_wrong", delay_before_s=0.2))
    else:
        practice.queue(Reply(text="The answer.", thinking_s=1.6, chunk_delay_s=0))
    element = open_owui(page_driver, practice)
    element.send_keys("go\n")
    if not error:
        samples = []
        while not css(page_driver, DONE):
            samples.append(js(page_driver, "return [!!document.querySelector(arguments[0]),"
                                      " document.querySelector(arguments[1])?.textContent]",
                              STOP, ANSWER))
            time.sleep(0.05)  # sampling interval, not a wait for a condition
        thinking = [s for s in samples if s[1] and s[1].startswith("Thinking...")]
        assert thinking and all(stop for stop, _ in thinking)
        assert last_answer(page_driver) == "Thought for 2 secondsThe answer."
        return
    wait_done(page_driver)
    shown = css(page_driver, "#response-content-container .text-gray-500.rounded-2xl")[0]
    assert ERROR_MESSAGES["something_went_wrong"] in shown.text
    assert css(page_driver, f'{TOAST}[data-type="error"]')


# -- files and login ------------------------------------------------------------------------------


def test_upload_waits_then_reaches_the_server(
    page_driver: WebDriver, practice: ChatServer, tmp_path: Path
) -> None:
    """A spinner while uploading (Enter then only toasts); then the file goes with the prompt."""
    upload = tmp_path / "notes.txt"
    upload.write_text("\tkeep\n\nall  of it\n", encoding="utf-8")
    element = open_owui(page_driver, practice)
    css(page_driver, 'input[type="file"][hidden]')[0].send_keys(str(upload))
    wait_until(page_driver, lambda d: css(d, "#message-input-container svg .spinner_ajPY"))
    assert css(page_driver, f"{SEND}[disabled]")
    element.send_keys("see file\n")
    toast = wait_until(page_driver, lambda d: css(d, f'{TOAST}[data-type="error"]'))[0]
    assert toast.text.startswith("Oops! There are files still uploading.")
    wait_until(page_driver, lambda d: not css(d, "#message-input-container .spinner_ajPY"))
    assert practice.prompts == []
    element.send_keys("\n")
    prompts = practice.wait_for_prompts(1)
    assert prompts == [Prompt("see file", "auto", [("notes.txt", upload.read_text())])]
    wait_done(page_driver)


def test_logged_out_goes_to_the_auth_page(page_driver: WebDriver, practice: ChatServer) -> None:
    """No session: /auth?redirect=... with email and password; signing in returns to chat."""
    practice.require_login = True
    page_driver.get(f"{practice.url}?dom=openwebui")
    wait_until(page_driver, lambda d: css(d, "#auth-page input#email[type=email]"))
    assert "/auth?redirect=" in page_driver.current_url and not css(page_driver, INPUT)
    css(page_driver, "input#email")[0].send_keys("me@example.com")
    css(page_driver, "input#password")[0].send_keys("secret")
    css(page_driver, '#auth-login-card button[type="submit"]')[0].click()
    wait_until(page_driver, lambda d: css(d, INPUT))
    assert not css(page_driver, "#auth-page")
