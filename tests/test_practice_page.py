"""Real-browser tests of the practice ChatGPT page (``dreamscape_tui.practice``).

The product's Selenium client is tested against this page, so the page itself
must be proven to behave like ChatGPT where clients go wrong: Enter sends,
pasted text is kept byte for byte, the stop button lingers through pauses, code
blocks carry label/button noise, errors replace the answer, and a login wall
hides the composer. Selenium is used directly here, not the product's client.

One Chromium session and one server are shared by the whole module to keep it fast.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from dreamscape_tui.practice import ERROR_MESSAGES, ChatServer, Prompt, Reply
from tests.browser_fixtures import needs_browser, plain_chromium
from tests.page_helpers import EXEC_COMMAND_JS, PASTE_JS, css, wait_until
from tests.prompts import big_prompt

pytestmark = [pytest.mark.browser, needs_browser]

PROMPT = "#prompt-textarea"
SEND = 'button[data-testid="send-button"]'
STOP = 'button[data-testid="stop-button"]'
VOICE = 'button[data-testid="composer-speech-button"]'
LOGIN = 'button[data-testid="login-button"]'
USER = '[data-message-author-role="user"]'
ASSISTANT = '[data-message-author-role="assistant"]'
ERROR = 'div.text-token-text-error[data-testid="error-message"]'




# -- fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def driver() -> Iterator[WebDriver]:
    """One headless Chromium for the module (starting one costs most of a second)."""
    with plain_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def shared_server() -> Iterator[ChatServer]:
    """The server every test talks to; :func:`server` resets it per test."""
    with ChatServer() as chat_server:
        yield chat_server


@pytest.fixture
def server(shared_server: ChatServer, driver: WebDriver) -> Iterator[ChatServer]:
    """A clean server: no prompts, no queued replies, no login required, no cookies."""
    shared_server.reset()
    yield shared_server
    if driver.current_url.startswith(shared_server.url):
        driver.delete_all_cookies()


# -- helpers --------------------------------------------------------------------------




def open_chat(driver: WebDriver, server: ChatServer, query: str = "") -> WebElement:
    """Load the page and return the prompt input once the app has wired it up."""
    driver.get(server.url + query)
    element: WebElement = wait_until(driver, lambda d: d.find_element(By.CSS_SELECTOR, PROMPT))
    return element


def wait_idle(driver: WebDriver, timeout: float = 10) -> None:
    """Wait for the end of all streaming: the stop button is gone."""
    wait_until(driver, lambda d: not css(d, STOP), timeout)


def answer_text(driver: WebDriver, index: int = -1) -> str:
    """Exact text content of an assistant answer's ``.markdown`` div."""
    markdown = css(driver, f"{ASSISTANT} .markdown")[index]
    return str(driver.execute_script("return arguments[0].textContent", markdown))


# -- prompt input -------------------------------------------------------------------


@pytest.mark.parametrize("method", ["paste", "execCommand", "cdp-insertText"])
def test_inserted_20kb_prompt_arrives_byte_exact(
    driver: WebDriver, server: ChatServer, method: str
) -> None:
    """Pasted / execCommand-inserted multi-line text reaches the server unchanged."""
    text = big_prompt()
    assert len(text.encode("utf-8")) > 20_000
    element = open_chat(driver, server)
    if method == "paste":
        driver.execute_script(PASTE_JS, element, text)
    elif method == "execCommand":
        assert driver.execute_script(EXEC_COMMAND_JS, element, text) is True
    else:
        element.click()
        driver.execute_cdp_cmd("Input.insertText", {"text": text})
    send_button: WebElement = wait_until(driver, lambda d: css(d, SEND))[0]
    send_button.click()

    assert server.wait_for_prompts(1) == [Prompt(text, "auto")]
    bubble = css(driver, USER)[0]
    assert driver.execute_script("return arguments[0].textContent", bubble) == text
    wait_idle(driver)
    assert answer_text(driver).startswith(f"You said {len(text)} characters.")


def test_typing_multiline_prompt_sends_it_in_pieces(driver: WebDriver, server: ChatServer) -> None:
    """Enter sends, so send_keys with newlines delivers each line as its own prompt."""
    element = open_chat(driver, server)
    element.send_keys("first line\nsecond line\nthird")

    assert server.wait_for_prompts(2) == [("first line", "auto"), ("second line", "auto")]
    wait_idle(driver)
    assert len(css(driver, USER)) == 2
    assert len(css(driver, ASSISTANT)) == 2
    assert driver.execute_script("return arguments[0].textContent", element) == "third"
    assert len(server.prompts) == 2


def test_shift_enter_breaks_the_line_without_sending(driver: WebDriver, server: ChatServer) -> None:
    """Shift+Enter is the only way to type a newline key by key."""
    element = open_chat(driver, server)
    element.send_keys("one", Keys.SHIFT, Keys.ENTER, Keys.NULL, "two")
    css(driver, SEND)[0].click()

    assert server.wait_for_prompts(1) == [("one\ntwo", "auto")]
    wait_idle(driver)
    assert len(server.prompts) == 1


def test_send_button_only_while_input_holds_text(driver: WebDriver, server: ChatServer) -> None:
    """Empty (or blank) composer shows the voice button; text shows the send button."""
    element = open_chat(driver, server)
    assert css(driver, VOICE) and not css(driver, SEND) and not css(driver, STOP)

    element.send_keys("x")
    wait_until(driver, lambda d: css(d, SEND))
    assert not css(driver, VOICE)

    element.send_keys(Keys.BACKSPACE)
    wait_until(driver, lambda d: css(d, VOICE))
    assert not css(driver, SEND)

    element.send_keys("   ")
    assert css(driver, VOICE) and not css(driver, SEND)


# -- streaming ------------------------------------------------------------------------


def test_stop_button_while_streaming_then_gone(driver: WebDriver, server: ChatServer) -> None:
    """Stop replaces send from the moment of sending until the stream ends."""
    text = " ".join(f"word{i}" for i in range(60))
    server.queue(Reply(text=text, chunk_chars=25, chunk_delay_s=0.03, delay_before_s=0.3))
    element = open_chat(driver, server)
    element.send_keys("stream please\n")

    assert css(driver, STOP) and not css(driver, SEND) and not css(driver, VOICE)
    wait_until(driver, lambda d: css(d, ASSISTANT))
    assert css(driver, STOP)  # still streaming after the first chunk
    wait_idle(driver)
    assert answer_text(driver) == text
    assert css(driver, VOICE)


def test_long_pause_mid_answer_keeps_stop_button(driver: WebDriver, server: ChatServer) -> None:
    """A 2.5 s silence mid-answer is not the end: the stop button stays up."""
    text = "A" * 100 + "B" * 100
    server.queue(
        Reply(text=text, chunk_chars=50, chunk_delay_s=0.01, pause_after_chars=100, pause_s=2.5)
    )
    element = open_chat(driver, server)
    element.send_keys("pause please\n")

    samples: list[tuple[float, int, bool]] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        length, stop = driver.execute_script(
            "const m = document.querySelector(arguments[0]);"
            "return [m ? m.textContent.length : 0, !!document.querySelector(arguments[1])];",
            f"{ASSISTANT} .markdown",
            STOP,
        )
        samples.append((time.monotonic(), int(length), bool(stop)))
        if not stop:
            break
        time.sleep(0.05)  # sampling interval, not a wait for a condition

    assert samples[-1][1:] == (200, False), "stream did not finish"
    assert all(stop for _, length, stop in samples[:-1])
    paused = [t for t, length, _ in samples if length == 100]
    resumed = [t for t, length, _ in samples if length > 100]
    assert paused and resumed[0] - paused[0] >= 2.0


def test_stop_button_stops_the_stream(driver: WebDriver, server: ChatServer) -> None:
    """Clicking stop ends the answer early; the server survives the dropped connection."""
    text = "x" * 2000
    server.queue(Reply(text=text, chunk_chars=10, chunk_delay_s=0.05))
    element = open_chat(driver, server)
    element.send_keys("long answer\n")
    wait_until(driver, lambda d: css(d, ASSISTANT))
    css(driver, STOP)[0].click()
    wait_idle(driver, timeout=3)
    partial = answer_text(driver)
    assert 0 < len(partial) < len(text)

    element.send_keys("still there?\n")
    assert server.wait_for_prompts(2)[1] == ("still there?", "auto")
    wait_idle(driver)
    assert answer_text(driver).startswith("You said 12 characters.")


# -- rendering ------------------------------------------------------------------------


def test_code_block_renders_like_chatgpt(driver: WebDriver, server: ChatServer) -> None:
    """Label and "Copy code" sit in the <pre>; ``pre code`` holds the exact code."""
    code = 'def heal(x):\n\tif x:  \n\n        return "<ok>"  # done\n    return None   '
    server.queue(
        Reply(text=f"Here is the fix:\n\n```python\n{code}\n```\n\nThat's all.", chunk_chars=7)
    )
    element = open_chat(driver, server)
    element.send_keys("fix it\n")
    wait_idle(driver)

    message = css(driver, ASSISTANT)[-1]
    pre = message.find_element(By.CSS_SELECTOR, ".markdown pre")
    header = pre.find_element(By.CSS_SELECTOR, "div")
    assert "python" in header.text
    assert pre.find_element(By.TAG_NAME, "button").text == "Copy code"
    code_element = pre.find_element(By.CSS_SELECTOR, "code")
    assert "language-python" in (code_element.get_attribute("class") or "").split()
    assert driver.execute_script("return arguments[0].textContent", code_element) == code
    assert "python" in message.text and "Copy code" in message.text
    paragraphs = message.find_elements(By.CSS_SELECTOR, ".markdown > p")
    assert [p.text for p in paragraphs] == ["Here is the fix:", "That's all."]


def test_open_code_block_renders_while_streaming(driver: WebDriver, server: ChatServer) -> None:
    """An unfinished fence already renders as a code block (ChatGPT re-renders as it grows)."""
    head = "Intro\n\n```python\nprint(1)\n"
    server.queue(Reply(text=head + "print(2)\n```\n", pause_after_chars=len(head), pause_s=0.8))
    element = open_chat(driver, server)
    element.send_keys("code\n")
    code = wait_until(driver, lambda d: css(d, f"{ASSISTANT} pre code"))[0]
    assert css(driver, STOP)
    streamed = str(driver.execute_script("return arguments[0].textContent", code))
    assert streamed.startswith("print(1)")
    wait_idle(driver)
    final = css(driver, f"{ASSISTANT} pre code")[0]
    assert driver.execute_script("return arguments[0].textContent", final) == "print(1)\nprint(2)"


@pytest.mark.parametrize("error", sorted(ERROR_MESSAGES))
def test_error_states_replace_the_answer(driver: WebDriver, server: ChatServer, error: str) -> None:
    """Each error shows ChatGPT's text in the error colour, with no answer and no stop."""
    server.queue(Reply(text="never shown", error=error, delay_before_s=0.3))
    element = open_chat(driver, server)
    element.send_keys("hello\n")
    assert css(driver, STOP)

    shown = wait_until(driver, lambda d: css(d, ERROR))[0]
    assert shown.text == ERROR_MESSAGES[error]
    wait_idle(driver)
    assert not css(driver, ASSISTANT)
    assert "never shown" not in driver.find_element(By.TAG_NAME, "body").text
    assert server.prompts == [("hello", "auto")]


# -- login and model -------------------------------------------------------------------


def test_login_wall_without_cookie_and_none_with_it(driver: WebDriver, server: ChatServer) -> None:
    """No valid session cookie: a Log in button and no composer; the cookie lifts the wall."""
    server.require_login = True
    driver.get(server.url)
    wait_until(driver, lambda d: css(d, LOGIN))
    assert not css(driver, PROMPT)

    driver.add_cookie({**server.session_cookie(), "value": "wrong-token"})
    driver.get(server.url)
    wait_until(driver, lambda d: css(d, LOGIN))
    assert not css(driver, PROMPT)

    driver.add_cookie(server.session_cookie())
    element = open_chat(driver, server)
    assert not css(driver, LOGIN)
    element.send_keys("logged in\n")
    assert server.wait_for_prompts(1) == [("logged in", "auto")]
    wait_idle(driver)


def test_conversation_endpoint_rejects_requests_without_cookie(server: ChatServer) -> None:
    """The backend enforces the wall too, and records nothing for rejected requests."""
    server.require_login = True
    body = json.dumps({"prompt": "sneaky", "model": "gpt-4o"}).encode()
    request = urllib.request.Request(server.url + "backend-api/conversation", data=body)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    caught.value.close()  # an HTTPError holds the response's socket
    assert caught.value.code == 401
    assert server.prompts == []


def test_model_from_url_reaches_the_server(driver: WebDriver, server: ChatServer) -> None:
    """``/?model=gpt-4o`` is sent with the prompt; without it the model is "auto"."""
    element = open_chat(driver, server, "?model=gpt-4o")
    element.send_keys("which model?\n")
    assert server.wait_for_prompts(1) == [("which model?", "gpt-4o")]
    wait_idle(driver)

    element = open_chat(driver, server)
    element.send_keys("and now?\n")
    assert server.wait_for_prompts(2)[1] == ("and now?", "auto")
    wait_idle(driver)


# -- server ----------------------------------------------------------------------------


def test_health_and_raw_stream_without_browser(server: ChatServer) -> None:
    """The HTTP side alone: health check, and a prompt with CR/LF and unicode kept exactly."""
    with urllib.request.urlopen(server.url + "health", timeout=5) as response:
        assert json.load(response)["status"] == "ok"

    server.queue(Reply(text="héllo wörld", chunk_chars=3, chunk_delay_s=0))
    prompt = "line 1\r\nline 2\t \n\n  ünï ✓"
    body = json.dumps({"prompt": prompt, "model": "gpt-4o"}).encode()
    request = urllib.request.Request(server.url + "backend-api/conversation", data=body)
    with urllib.request.urlopen(request, timeout=5) as response:
        events = [line for line in response.read().decode().split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    assert "".join(json.loads(e.removeprefix("data: "))["v"] for e in events[:-1]) == "héllo wörld"
    assert server.prompts == [(prompt, "gpt-4o")]


def test_stop_mid_stream_ends_every_thread(driver: WebDriver) -> None:
    """Stopping while a browser streams and holds keep-alive connections must not hang."""
    before = set(threading.enumerate())
    own = ChatServer().start()
    try:
        own.queue(Reply(text="y" * 5000, chunk_chars=5, chunk_delay_s=0.05))
        element = open_chat(driver, own)
        element.send_keys("go\n")
        wait_until(driver, lambda d: css(d, ASSISTANT))
    finally:
        started = time.monotonic()
        own.stop()
    assert time.monotonic() - started < 3
    leftover = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert [t.name for t in leftover if t.name.startswith("practice-chat")] == []
    shown = wait_until(driver, lambda d: css(d, ERROR))[0]
    assert shown.text == ERROR_MESSAGES["something_went_wrong"]
