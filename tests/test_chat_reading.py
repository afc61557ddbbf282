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
from dreamscape_tui.core.answer import FencedBlock, markdown_segments
from dreamscape_tui.core.chatflow import prompt_html
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
<pre><div class="header"><span>python</span><button aria-label="Copy">Copy code</button></div>
<code class="language-python">{esc(CODE)}
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

# Open WebUI's ResponseMessage + CodeBlock DOM (its Svelte source, 0.11)
CM_LINES = "".join(f'<div class="cm-line">{esc(c)}</div>' for c in CODE.split("\n")[:2])
OPENWEBUI_PAGE = f"""
<div id="message-1" class="flex w-full message-1"><div class="flex-auto">
<span id="response-message-model-name">qwen2.5-coder</span>
<div class="chat-assistant w-full"><div><div id="response-content-container">
<div class="w-full space-y-2"><button aria-expanded="false"><div>Thought for 2 seconds</div>
</button></div>
<div class="markdown-prose"><p>Fixed:</p>
<div><div class="relative flex flex-col rounded-2xl border" dir="ltr">
<div class="sticky top-0 text-xs"><div class="flex-1 truncate">
<span class="truncate text-ellipsis">python</span></div>
<div class="flex items-center"><button><div>Collapse</div></button>
<button class="run-code-button"><div>Run</div></button><button class="save-code-button">Save
</button><button class="copy-code-button">Copy</button></div></div>
<div class="language-python rounded-t-2xl"><div class="pt-6.5"></div>
<div id="code-textarea-c-1-0"><div class="cm-editor"><div class="cm-announced"></div>
<div class="cm-scroller"><div class="cm-gutters" aria-hidden="true"><div>1</div>
<div><span title="Fold line">⌄</span></div></div>
<div class="cm-content">{CM_LINES}</div></div></div></div></div></div></div>
</div></div></div></div>
<div class="buttons"><button class="copy-response-button" aria-label="Copy">c</button></div>
</div></div>
<ol data-sonner-toaster><li data-sonner-toast>Copying to clipboard was successful!</li></ol>
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
@pytest.mark.parametrize("expando", ["cmTile", "cmView"])  # CodeMirror >= 6.39, older
def test_codemirror_editor_state_beats_its_rendered_lines(driver: object, expando: str) -> None:
    # CodeMirror renders only the lines in view; its document has them all
    whole = CODE + "\n" + "\n".join(f"x{n} = {n}" for n in range(400))
    setup = (f"document.querySelector('.cm-content').{expando} = "
             f"{{view: {{state: {{doc: {{toString: () => {whole!r}}}}}}}}};")
    result = read(driver, OPENWEBUI_PAGE, OPENWEBUI, setup)
    assert result["code"] == [whole]
    text = str(result["text"])
    assert text.startswith("Fixed:\n\n```python\n" + CODE)
    for chrome in ("Collapse", "Run", "Save", "Copy", "⌄", "clipboard", "Thought"):
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


def test_prompts_become_html_whose_code_blocks_are_exact() -> None:
    prompt = "Fix <calc.py>:\n\n```python\n" + CODE + "\n```\n\nThen\tsay `done`.\n"
    assert markdown_segments(prompt)[1] == FencedBlock("python", CODE)
    assert prompt_html(prompt) == (
        "<p>Fix &lt;calc.py&gt;:</p><pre><code class=\"language-python\">"
        + esc(CODE) + "</code></pre><p>Then\tsay `done`.</p>")
