"""Offline practice imitation of the ChatGPT web UI, served on 127.0.0.1.

Used two ways: tests drive the product's Selenium client against it in real
headless Chromium, and ``dreamscape demo`` uses it as a practice page. The page
keeps ChatGPT's selectors and behaviour, including the ones that trip clients up:

* ``#prompt-textarea`` is a contenteditable ``div.ProseMirror``, not a textarea;
  Enter sends, Shift+Enter breaks the line, so typing a multi-line prompt key by
  key sends it in pieces. Text inserted with a paste event (``text/plain``) or
  ``document.execCommand('insertText', ...)`` is kept byte for byte.
* ``button[data-testid="send-button"]`` exists only while the input holds text;
  otherwise ``button[data-testid="composer-speech-button"]``. While an answer
  streams (including thinking time and long pauses) only
  ``button[data-testid="stop-button"]`` is shown.
* Messages are ``[data-message-author-role="user"|"assistant"]``; answers render in
  ``.markdown`` with ChatGPT's code block DOM (``pre`` > language label, "Copy
  code" button, ``code.language-x``).
* Errors render as ``div.text-token-text-error[data-testid="error-message"]``.
* Without the session cookie (when login is required) the page shows
  ``button[data-testid="login-button"]`` and no composer.
* ``/?model=NAME`` picks the model sent along with each prompt.

No third-party imports: this package must work wherever the app does.
"""

from dreamscape_tui.practice.replies import (
    ERROR_MESSAGES,
    SESSION_COOKIE_NAME,
    Prompt,
    Reply,
    Responder,
    default_responder,
)
from dreamscape_tui.practice.server import ChatServer

__all__ = [
    "ERROR_MESSAGES",
    "SESSION_COOKIE_NAME",
    "ChatServer",
    "Prompt",
    "Reply",
    "Responder",
    "default_responder",
]
