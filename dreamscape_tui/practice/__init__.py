"""Offline practice imitations of chat web UIs, served on 127.0.0.1.

Used two ways: tests drive the product's Selenium client against it in real
headless Chromium, and ``dreamscape demo`` uses it as a practice page. This
docstring is the page-side contract (kept in step with docs/dom-contract.md).

Choosing a page
---------------
One DOM per page load: ``/?dom=classic|codemirror|transcript|openwebui`` (default: the
server's ``ChatServer(dom=...)``, itself "classic"); ``/?model=NAME`` picks the model
sent with each prompt and works alongside (``/?model=gpt-4o&dom=transcript``). An
unknown ``dom`` is a 400. ``/?paste_limit=N`` overrides the paste limit for one load.

Common to every DOM (openwebui differs where its section says)
--------------------------------------------------------------
* Enter sends, Shift+Enter breaks the line, so typing a multi-line prompt key by
  key sends it in pieces. What the server records is the page's own serialisation.
* Answers stream in chunks, with pauses; a stop control shows while streaming
  (including the wait before the first chunk and long pauses). Enter while an answer
  streams queues the prompt.
* A reasoning reply (``Reply(thinking_s=N)``) first shows "Thinking", then
  "Thought for Ns", inside the assistant message before the answer; from 0.3 s into
  the thinking until it ends NO stop control is shown (the composer looks idle).
* ``Reply(downgrade_to=M)``: the Free-plan notice (:data:`DOWNGRADE_NOTICE`) shows
  above the composer and the message's model slug is ``M``.
* Attachments: a hidden ``input[type="file"]`` in the composer takes files (Selenium
  ``send_keys(path)``); a paste over the paste limit (default 10,000 characters in
  codemirror and transcript, none in classic) is not inserted but becomes the
  attachment "Pasted text.txt". A chip shows per attachment with
  ``data-upload-state="uploading"``, then ``"done"`` (after ``upload_delay_s``,
  0.5 s) or ``"error"``. While one is uploading the send button is ``disabled`` and
  Enter does nothing. Sending delivers the text plus the attachments; the server
  records their contents in :attr:`Prompt.attachments`.
* The copy action writes the answer's markdown source (exactly as streamed) with
  ``navigator.clipboard.writeText`` and shows a toast "Copied!" outside the message.
* Logged out (``require_login`` and no session cookie): login buttons and no
  composer; with ``logged_out_composer`` the composer works too (and the server
  answers) while the login buttons stay.

classic (ChatGPT 2025)
----------------------
* ``#prompt-textarea`` is a contenteditable ``div.ProseMirror``, not a textarea
  (a hidden ``textarea[name="prompt-textarea"]`` sits next to it as a decoy). Text
  inserted with a paste event (``text/plain``) or
  ``document.execCommand('insertText', ...)`` is kept byte for byte.
* ``button[data-testid="send-button"]`` exists only while the input holds text (or an
  attachment); otherwise ``button[data-testid="composer-speech-button"]``. While an
  answer streams only ``button[data-testid="stop-button"]`` is shown.
* Turns are ``article[data-testid="conversation-turn-N"]`` (user odd, assistant even).
  Messages are ``div[data-message-author-role="user"|"assistant"]``, the assistant's
  with ``data-message-model-slug``; answers render in its ``div.markdown`` with
  ChatGPT's code block DOM (``pre`` > header with the language label and a "Copy code"
  button, then ``code.language-x`` holding the exact code). The reasoning preamble is
  ``div.thinking-preamble`` before ``div.markdown``.
* Once an answer is complete (or stopped; never while streaming, never after an
  error) the assistant article gets ``div[data-testid="turn-actions"]`` with
  ``button[data-testid="copy-turn-action-button"]``,
  ``good-response-turn-action-button`` and ``bad-response-turn-action-button``.
* Errors render as ``div.text-token-text-error[data-testid="error-message"]`` in the
  assistant article. Notice: ``div[data-testid="model-downgrade-notice"]``; chips:
  ``div[data-testid="composer-attachment"]``; toasts: ``div[data-testid="toast"]``.
* Logged out: ``button[data-testid="login-button"]`` (and ``signup-button``).

codemirror (ChatGPT 2026 code viewer)
-------------------------------------
As classic, except code blocks: ``pre`` > header (label, a "Copy" button) >
``div#code-block-viewer.cm-editor`` > ``div.cm-scroller`` > ``div.cm-content`` with one
``span`` per non-empty line (token spans inside) and a ``br`` between lines, so its
``textContent`` joins the lines. No ``code`` element. The exact code is in the CM6
expando: ``.cm-content``'s ``cmView.view.state.doc.toString()``.

transcript (ChatGPT 2026 second DOM, no ``data-testid`` anywhere)
-----------------------------------------------------------------
* ``textarea#mobile-composer-prompt`` (a real textarea: a synthetic paste event does
  not insert into it, ``execCommand('insertText')`` does); one
  ``button[data-composer-submit]`` sends (``disabled`` when there is nothing to send or
  an upload is in flight) and, while an answer streams, carries
  ``data-stop-generating`` and stops it.
* ``ol[data-conversation-transcript]`` > ``li[data-message-role="user"|"assistant"]``;
  the assistant ``li`` has ``data-message-model-slug`` and ``data-message-streaming``
  from the moment of sending; when the answer is complete (or stopped) that is
  replaced by ``data-message-complete`` and ``button[data-copy-message]`` appears; after
  an error only the streaming attribute goes. The answer is in
  ``[data-assistant-markdown]`` (code blocks as in codemirror), the preamble in
  ``[data-reasoning]``, an error in ``div[role="alert"][data-message-error]``.
* Notice ``[data-model-notice]``, chips ``[data-composer-attachment]``, toasts
  ``[data-toast]``. Logged out: ``html[data-logged-out]`` and
  ``button[data-login-button]``.

openwebui (Open WebUI 0.11/0.12, from its Svelte source: docs/openwebui-dom.md)
----------------------------------------------------------------------------------------
* Composer ``#chat-input``: TipTap ``div.tiptap.ProseMirror[role=textbox]
  [aria-label="Send a Message"]`` with ``<p>`` per paragraph (``pre > code.language-x``
  for code blocks); ``#chat-input.editor`` is a TipTap-like handle (``getHTML``,
  ``getJSON``, ``getText``, ``commands.setContent/insertContent/clearContent``). The
  prompt sent is Open WebUI's turndown markdown: paragraphs joined by one newline,
  whitespace runs collapsed except runs of 2+ spaces, edges of a paragraph trimmed
  (a leading tab or single space goes), an empty paragraph a "  " line, code blocks
  fenced and exact. A plain paste makes one paragraph per line and drops blank
  lines; a paste with ``vscode-editor-data`` (``{"mode": "python"}``) or text/html
  ``<pre><code>`` becomes an exact code block (Enter inside it is a newline; a third
  Enter at its end or ArrowDown leaves it). Typed text gets Typography input rules
  (quotes, ``--``, ``...``, ``->``...); ``execCommand('insertText')`` makes one
  paragraph per line. Enter sends, Shift+Enter a new paragraph, Escape stops.
* ``button#send-message-button`` only while the prompt or files are non-empty
  (``disabled`` while uploading; Enter then toasts "Oops! There are files still
  uploading..."); else ``button[aria-label="Stop"]`` while generating (thinking
  included: no gap) or ``button[aria-label="Voice mode"]``.
* Messages: ``#messages-container ul[role=log] > div[role=listitem].message-listitem``;
  the user's ``div.user-message > ... .chat-user``; the assistant's
  ``div#message-ID`` with ``span#response-message-model-name`` (the model, or the
  downgraded one; no Free-plan notice here) and ``.chat-assistant
  #response-content-container .markdown-prose``. While streaming, words are
  ``span.fade-in-token``. When the message is done (also after an error or a stop)
  ``div.buttons`` gets Edit, ``button.copy-response-button[aria-label="Copy"]``
  (writes the answer's markdown, trimmed, and toasts "Copying to clipboard was
  successful!"), Read Aloud, Good/Bad Response, Continue Response (last message),
  ``button.regenerate-response-button`` (hidden) and ``[aria-label="Regenerate"]``.
* Reasoning: a collapsible ``div.w-full.space-y-2 > button[aria-expanded]`` first in
  ``.markdown-prose``: "Thinking..." then "Thought for N seconds" ("less than a
  second" under 1 s).
* Code blocks (every ``` fence, diff too): header with the language and Collapse /
  Run (python) / Save / Copy buttons, then ``div[id^="code-textarea-"] > .cm-editor >
  .cm-scroller`` > ``.cm-gutters`` (line numbers, "⌄" fold markers) and
  ``.cm-content > .cm-line``; only lines within 1000px of the window are rendered
  (20px lines: about a hundred), ``div.cm-gap`` for the rest. The whole text:
  ``.cm-content.cmTile.view.state.doc.toString()`` (CM view >= 6.39: ``cmTile``, not
  ``cmView``). ``~~~`` fences render as plain text.
* Errors: a grey ``div.rounded-2xl.text-gray-500`` in ``#response-content-container``
  ("Uh-oh! There was an issue with the response." and the message, no role) plus an
  error toast. Toasts: ``section[aria-label="Notifications alt+T"] >
  ol[data-sonner-toaster] > li[data-sonner-toast][data-type=success|error]``.
* Files: ``input[type=file][hidden][multiple]`` before the form (or
  ``#input-menu-button`` > "Upload Files"); chips have no data attributes: a
  ``.spinner_ajPY`` svg while uploading, ``[aria-label="Remove File"]``. A long
  paste becomes ``Pasted_Text_<ms>.txt`` only with ``?paste_limit=N`` (off by default,
  like "Paste Large Text as File").
* Logged out: the page moves to ``/auth?redirect=...`` showing ``#auth-page`` with
  ``input#email``, ``input#password`` and a submit button "Sign in" (any values log
  in); ``logged_out_composer`` does not apply.

No third-party imports: this package must work wherever the app does.
"""

from dreamscape_tui.practice.replies import (
    DOMS,
    DOWNGRADE_NOTICE,
    ERROR_MESSAGES,
    PASTE_LIMIT,
    SESSION_COOKIE_NAME,
    Attachment,
    Prompt,
    Reply,
    Responder,
    default_responder,
)
from dreamscape_tui.practice.server import ChatServer

__all__ = [
    "DOMS",
    "DOWNGRADE_NOTICE",
    "ERROR_MESSAGES",
    "PASTE_LIMIT",
    "SESSION_COOKIE_NAME",
    "Attachment",
    "ChatServer",
    "Prompt",
    "Reply",
    "Responder",
    "default_responder",
]
