"""Chat-page DOM profiles: what each chat web UI looks like to the client, as data.

A profile names, for every role the client needs, a list of CSS selectors tried in
order (the first that matches wins, so one profile can cover several versions of a
page), plus the few numbers and choices that differ between pages. The client's page
scripts are generic and read everything from here, so a new version of a chat UI is a
profile edit, not a client rewrite.

Roles (docs/architecture.md#dom-profiles):

``prompt_input``, ``send_button``, ``stop_button``
    the composer; the stop role is anything that shows while an answer streams.
``assistant_message``, ``answer_body``
    the answers, and the markdown container inside one (default: the message).
``turn``
    the ancestor of a message that holds its controls (done markers, copy action).
``done_marker``
    the positive proof that an answer ended, matched on the turn or inside it.
``copy_button``
    the page's own "copy the whole answer" action (inside the turn).
``code_block``, ``code_label``
    code block containers for the DOM-to-markdown walk, and their language label.
``reasoning``, ``chrome``
    elements that are never part of the answer text: reasoning preambles ("Thinking",
    "Thought for 3s"), and UI chrome (buttons, gutters, toasts).
``login_wall``, ``error_message``, ``downgrade_notice``
    logged out; an error instead of an answer; "Responses will use another model".
``file_input``, ``attachment``, ``uploading``
    attaching a prompt too long to paste, and proof its upload finished.
``detect``
    any match means the loaded page is this profile's (``profile = "auto"``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from dreamscape_tui.core.config import SelectorsConfig

ProfileName = Literal["auto", "chatgpt", "openwebui", "generic"]
Selectors = tuple[str, ...]

# The roles whose selector a user can set in [webchat.selectors] (one selector each).
CONFIGURABLE_ROLES = tuple(f.name for f in fields(SelectorsConfig))


@dataclass(frozen=True, slots=True)
class Profile:
    """One chat web UI: selectors by role (fallbacks in order) and its strategies."""

    name: str
    prompt_input: Selectors
    send_button: Selectors
    stop_button: Selectors
    assistant_message: Selectors
    login_wall: Selectors = ()
    error_message: Selectors = ()
    answer_body: Selectors = ()
    turn: Selectors = ()
    done_marker: Selectors = ()
    copy_button: Selectors = ()
    code_block: Selectors = ("pre",)
    code_label: Selectors = ()
    reasoning: Selectors = ()
    chrome: Selectors = ("button", "svg", "[aria-hidden='true']", ".cm-gutters", "style",
                         "script")
    downgrade_notice: Selectors = ()
    file_input: Selectors = ("input[type='file']",)
    attachment: Selectors = ()
    uploading: Selectors = ()
    detect: Selectors = ()
    model_label: Selectors = ()  # an element (in the turn) whose text names the model
    model_attribute: str = ""  # the message attribute naming the model that answered
    insert: Literal["paste", "html"] = "paste"  # html: prose as <p>, fences as <pre><code>
    # The site's own word on the login (the page's markers back it up): a same-origin
    # endpoint, read as "user" (JSON with a non-empty user when logged in) or "status"
    # (200 logged in, 401/403 logged out); a bearer token from localStorage if named.
    session_probe: str = ""
    session_probe_kind: Literal["", "user", "status"] = ""
    session_probe_token: str = ""
    # A site whose page reads its login token from localStorage while the server set it
    # as an httpOnly cookie (Open WebUI): when the probe says logged in and returns the
    # token in this field, it is put where the page looks and the page reloaded.
    session_token_field: str = ""
    paste_limit: int = 0  # longer prompts are attached as a file (0 = no limit)
    settle_s: float = 0.4  # the answer text must stay unchanged this long to be done

    def roles(self) -> dict[str, list[str]]:
        """Every selector role as plain lists, the shape the page scripts take."""
        return {f.name: list(getattr(self, f.name)) for f in fields(self)
                if f.type == "Selectors"}

    def selector(self, role: str) -> str:
        """The role's selectors as one string, for messages (``a | b``)."""
        return " | ".join(getattr(self, role)) or "(none)"


CHATGPT = Profile(
    name="chatgpt",
    # classic 2025 DOM first, then the 2026 transcript DOM (no data-testid anywhere)
    prompt_input=("#prompt-textarea", "textarea#mobile-composer-prompt"),
    send_button=('button[data-testid="send-button"]',
                 "button[data-composer-submit]:not([data-stop-generating])"),
    stop_button=('button[data-testid="stop-button"]',
                 "button[data-composer-submit][data-stop-generating]",
                 '[data-message-role="assistant"][data-message-streaming]'),
    assistant_message=('[data-message-author-role="assistant"]',
                       'li[data-message-role="assistant"]'),
    answer_body=(".markdown", "[data-assistant-markdown]"),
    turn=('article[data-testid^="conversation-turn"]', 'li[data-message-role]'),
    done_marker=('[data-testid="copy-turn-action-button"]', "[data-message-complete]"),
    copy_button=('[data-testid="copy-turn-action-button"]', "button[data-copy-message]"),
    login_wall=('button[data-testid="login-button"]', "button[data-login-button]",
                "[data-logged-out]"),
    error_message=('.text-token-text-error, [data-testid="error-message"]',
                   "[data-message-error]"),
    code_block=("pre",),
    reasoning=(".thinking-preamble", "[data-reasoning]"),
    downgrade_notice=('[data-testid="model-downgrade-notice"]', "[data-model-notice]"),
    attachment=('[data-testid="composer-attachment"]', "[data-composer-attachment]"),
    uploading=('[data-upload-state="uploading"]',),
    detect=("#prompt-textarea", "ol[data-conversation-transcript]",
            "textarea#mobile-composer-prompt"),
    model_attribute="data-message-model-slug",
    paste_limit=10_000,
    session_probe="/api/auth/session",
    session_probe_kind="user",
)

# Open WebUI 0.8-0.12 (its Svelte source: RichTextInput, MessageInput, ResponseMessage,
# CodeBlock; tried on a real 0.12.4 with bench/openwebui_trial.py). Its TipTap composer
# alters pasted plain text (blank lines, leading tabs), so prompts go in as HTML whose
# code blocks TipTap keeps byte-exact.
OPENWEBUI = Profile(
    name="openwebui",
    prompt_input=("#chat-input",),
    send_button=("#send-message-button",),
    stop_button=('button[aria-label="Stop"]',),
    assistant_message=(".chat-assistant",),
    answer_body=("#response-content-container",),
    turn=('div[id^="message-"]',),
    done_marker=(".copy-response-button", 'button[aria-label="Regenerate"]',
                 "#continue-response-button"),
    copy_button=(".copy-response-button",),
    model_label=("#response-message-model-name",),
    # not a bare #auth-page: the page passes through it for a moment while it signs
    # itself in (WEBUI_AUTH=False, or from the token cookie); seen on Open WebUI 0.12.4
    login_wall=("#auth-login-card", "#auth-page input#password",
                'button[aria-label="Get started"]'),
    error_message=('#response-content-container div[class*="bg-black/[0.03]"]',
                   'li[data-sonner-toast][data-type="error"]'),
    code_block=('div.flex.flex-col:has(> div.sticky):has(.cm-editor, .diff-block)',
                '[id^="code-textarea-"]', ".diff-block", "pre"),
    code_label=("div.sticky span.truncate",),
    chrome=("button", "svg", "[aria-hidden='true']", ".cm-gutters", ".cm-announced",
            "style", "script", "[data-sonner-toast]", "div.buttons"),
    file_input=("input[type='file'][multiple]",),
    attachment=('button:has([aria-label="Remove File"])',),
    uploading=('button:has([aria-label="Remove File"]) .animate-spin',),
    detect=("#chat-input", "#send-message-button", "#auth-page"),
    insert="html",
    session_probe="/api/v1/auths/",
    session_probe_kind="status",
    session_probe_token="token",
    session_token_field="token",
)

PROFILES: dict[str, Profile] = {p.name: p for p in (CHATGPT, OPENWEBUI)}


def generic(selectors: SelectorsConfig) -> Profile:
    """The ``generic`` profile: only ``[webchat.selectors]``; an unset role falls back
    to the classic ChatGPT selector, as before profiles existed."""
    configured = {role: getattr(selectors, role) for role in CONFIGURABLE_ROLES}

    def role(name: str, default: Selectors) -> Selectors:
        value = configured.get(name, "")
        return (value,) if value else default

    return Profile(
        name="generic",
        prompt_input=role("prompt_input", CHATGPT.prompt_input[:1]),
        send_button=role("send_button", CHATGPT.send_button[:1]),
        stop_button=role("stop_button", CHATGPT.stop_button[:1]),
        assistant_message=role("assistant_message", CHATGPT.assistant_message[:1]),
        login_wall=role("login_wall", CHATGPT.login_wall[:1]),
        error_message=role("error_message", CHATGPT.error_message[:1]),
        code_block=role("code_block", ("pre",)),
        done_marker=role("done_marker", ()),
        copy_button=role("copy_button", ()),
    )


def with_overrides(profile: Profile, selectors: SelectorsConfig) -> Profile:
    """``profile`` with each role the user set in ``[webchat.selectors]`` replaced."""
    changes: dict[str, Any] = {role: (getattr(selectors, role),) for role in CONFIGURABLE_ROLES
                               if getattr(selectors, role)}
    return replace(profile, **changes) if changes else profile


def resolve(name: str, selectors: SelectorsConfig) -> Profile | None:
    """The named profile with the user's overrides; None for ``auto`` (detect it)."""
    if name == "generic":
        return generic(selectors)
    if name in PROFILES:
        return with_overrides(PROFILES[name], selectors)
    return None


def candidates(selectors: SelectorsConfig) -> list[Profile]:
    """The profiles ``auto`` tries on a loaded page, in order, then generic."""
    return [*(with_overrides(p, selectors) for p in PROFILES.values()), generic(selectors)]


def probe_says_logged_in(profile: Profile, status: int, body: object) -> bool | None:
    """What the site's session endpoint says (None: it says nothing we can read)."""
    if profile.session_probe_kind == "user" and status == 200 and isinstance(body, dict):
        return bool(body.get("user"))
    if profile.session_probe_kind == "status" and status in (200, 401, 403):
        return status == 200
    return None
