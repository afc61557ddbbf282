"""Answers read from chat-page DOMs as markdown, with exact code and no UI chrome.

The DOM-to-markdown walk (``pagejs.READ_JS``) runs in real Chromium on pages shaped like
each profile's answers: ChatGPT's 2025 ``pre`` blocks with their label and "Copy code"
button, the 2026 CodeMirror viewer (lines as spans between ``<br>``), Open WebUI's
CodeMirror editors with gutters and fold markers, and a reasoning preamble.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from dreamscape_tui.core import pagejs, profiles
from dreamscape_tui.core.client import OpenAIClient
from dreamscape_tui.core.config import SelectorsConfig
from dreamscape_tui.core.profiles import CHATGPT, OPENWEBUI, Profile
from tests.browser_fixtures import browser_test

CODE = 'def f(x):\n\tif x:   \n\n        return "<b>&amp;</b>"  \n    return None'
SPANS = "".join(f"<span>{line}</span><br>" for line in
                (c.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                 for c in CODE.split("\n")))


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


CLASSIC = f"""
<article data-testid="conversation-turn-2"><div data-message-author-role="assistant"
 data-message-model-slug="gpt-4o"><div class="markdown prose">
<div class="thinking-preamble"><button>Thought for 3s</button></div>
<p>Change <code>calc/strutil.py</code>:</p>
<p>calc/strutil.py</p>
<pre><div class="header"><span>python</span><button aria-label="Copy">Copy code</button></div><code class="language-python">{esc(CODE)}
</code></pre>
<h3>Why</h3>
<ul><li>it is <strong>safe</strong></li><li>it is short</li></ul>
<ol><li>one</li><li>two</li></ol>
<blockquote><p>quoted</p></blockquote>
</div></div></article>
"""

VIEWER = f"""
<article data-testid="conversation-turn-2"><div data-message-author-role="assistant">
<div class="markdown"><p>Here:</p>
<pre><div class="header">diff<button>Copy</button></div><div id="code-block-viewer"
 class="cm-editor"><div class="cm-scroller"><div class="cm-content">{SPANS}</div></div></div></pre>
</div></div></article>
"""

OPENWEBUI_PAGE = f"""
<div id="message-1" class="chat-assistant" data-model="qwen"><div id="response-content-container">
<p>Fixed:</p>
<div class="code-block"><div class="code-block-language">python</div>
<button>Collapse</button><button>Run</button><button>Save</button><button>Copy</button>
<div class="cm-editor"><div class="cm-gutters" aria-hidden="true"><div>1</div><div>⌄</div></div>
<div class="cm-content">{"".join(f'<div class="cm-line">{esc(c)}</div>' for c in CODE.split(chr(10))[:2])}</div>
</div></div>
</div><div data-sonner-toast>Copied to clipboard</div></div>
"""


@pytest.fixture
def driver(client: OpenAIClient) -> Iterator[object]:
    yield client._require()


def read(driver: object, html: str, profile: Profile, setup: str = "") -> dict[str, object]:
    driver.get("data:text/html;charset=utf-8," + quote(html))  # type: ignore[attr-defined]
    if setup:
        driver.execute_script(setup)  # type: ignore[attr-defined]
    result = driver.execute_script(pagejs.READ_JS, profile.roles())  # type: ignore[attr-defined]
    assert isinstance(result, dict)
    return result


@browser_test
def test_classic_answer_reads_as_markdown_without_chrome(driver: object) -> None:
    result = read(driver, CLASSIC, CHATGPT)
    assert result["code"] == [CODE]
    assert result["text"] == (
        "Change `calc/strutil.py`:\n\ncalc/strutil.py\n\n```python\n" + CODE + "\n```\n\n"
        "### Why\n\n- it is **safe**\n- it is short\n\n1. one\n2. two\n\n> quoted")
    assert "Copy code" not in str(result["text"]) and "Thought" not in str(result["text"])


@browser_test
def test_codemirror_viewer_lines_come_back_exact(driver: object) -> None:
    result = read(driver, VIEWER, CHATGPT)
    assert result["code"] == [CODE]
    assert result["text"] == "Here:\n\n```diff\n" + CODE + "\n```"


@browser_test
def test_codemirror_editor_state_beats_its_rendered_lines(driver: object) -> None:
    # CodeMirror renders only the lines in view; its document has them all
    whole = CODE + "\n" + "\n".join(f"x{n} = {n}" for n in range(400))
    setup = ("document.querySelector('.cm-content').cmView = "
             f"{{view: {{state: {{doc: {{toString: () => {whole!r}}}}}}}}};")
    result = read(driver, OPENWEBUI_PAGE, OPENWEBUI, setup)
    assert result["code"] == [whole]
    text = str(result["text"])
    assert text.startswith("Fixed:\n\n```python\n" + CODE)
    for chrome in ("Collapse", "Run", "Save", "Copy", "⌄", "Copied to clipboard"):
        assert chrome not in text


@browser_test
def test_codemirror_lines_without_a_reachable_view(driver: object) -> None:
    result = read(driver, OPENWEBUI_PAGE, OPENWEBUI)
    assert result["code"] == ["\n".join(CODE.split("\n")[:2])]


def test_profiles_resolve_with_the_users_overrides() -> None:
    assert profiles.resolve("auto", SelectorsConfig()) is None
    chatgpt = profiles.resolve("chatgpt", SelectorsConfig(stop_button="button.halt"))
    assert chatgpt is not None and chatgpt.stop_button == ("button.halt",)
    assert chatgpt.prompt_input == CHATGPT.prompt_input
    generic = profiles.resolve("generic", SelectorsConfig(prompt_input="textarea#q"))
    assert generic is not None and generic.prompt_input == ("textarea#q",)
    assert generic.send_button == ('button[data-testid="send-button"]',)  # classic fallback
    names = [p.name for p in profiles.candidates(SelectorsConfig())]
    assert names == ["chatgpt", "openwebui", "generic"]
    assert set(CHATGPT.roles()) >= {"prompt_input", "done_marker", "copy_button", "reasoning"}
