"""What a loaded chat page is: its profile, its health, its login, every selector's fate.

Shared by the session health check and ``dreamscape doctor``. No selenium here: the
page is reached through :class:`~dreamscape_tui.core.chatflow.PageDriver` (the client
implements it), so all of this reads as plain logic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from dreamscape_tui.core import chatpage, pagejs, profiles
from dreamscape_tui.core.chatflow import POLL_S, ChatFlow, PageDriver
from dreamscape_tui.core.chatpage import PageState
from dreamscape_tui.core.config import SelectorsConfig
from dreamscape_tui.core.profiles import Profile

PROBE_TIMEOUT_S = 5.0
CANDIDATES = 5

# Roles a page shows when idle, ready for a prompt; the others appear with an answer
# (stop, done, copy ...), an error, a notice or an upload.
IDLE_ROLES = ("prompt_input",)
# Words that find look-alike elements for a role whose selectors match nothing.
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "prompt_input": ("prompt", "composer", "textarea", "chat-input", "textbox", "message"),
    "send_button": ("send", "submit", "composer"),
    "stop_button": ("stop", "cancel", "streaming"),
    "assistant_message": ("assistant", "message", "response", "turn"),
    "answer_body": ("markdown", "prose", "content", "response"),
    "done_marker": ("copy", "complete", "regenerate", "action"),
    "copy_button": ("copy",),
    "login_wall": ("login", "log-in", "signin", "sign-in", "auth", "logged-out"),
    "error_message": ("error", "alert"),
    "code_block": ("code", "pre", "cm-editor"),
}


def challenge_message(url: str) -> str:
    """One line for a bot challenge, with the remedies (never a workaround)."""
    return (f'{url} showed a bot challenge ("Just a moment...") instead of the chat: '
            "drive your own logged-in browser ([sessions] debugger_address) or use the "
            'provider\'s API (kind = "openai-api")')


def detect_profile(tab: PageDriver, name: str, selectors: SelectorsConfig,
                   until: float) -> Profile:
    """The DOM profile for the loaded page: the named one, or detected (``auto``).

    Detection waits for the page to render one profile's composer or login wall; a
    page that matches none is driven by ``[webchat.selectors]`` (generic).
    """
    chosen = profiles.resolve(name, selectors)
    if chosen is not None:
        return chosen
    found = profiles.candidates(selectors)
    probes = [[p.name, [*p.detect, *p.login_wall]] for p in found if p.detect]
    while True:
        detected = tab.script(pagejs.DETECT_JS, probes)
        if detected == "-":  # a bot challenge: no profile's page is there to find
            return found[-1]
        if detected:
            return next(p for p in found if p.name == detected)
        if time.monotonic() >= until or str(tab.script("return location.href")).startswith(
                "chrome-error:"):
            return found[-1]
        time.sleep(POLL_S)


def _probe(tab: PageDriver, profile: Profile) -> dict[str, Any] | None:
    raw = tab.async_script(pagejs.SESSION_PROBE_JS, PROBE_TIMEOUT_S, profile.session_probe,
                           profile.session_probe_token)
    return raw if isinstance(raw, dict) else None


def login_state(tab: PageDriver, profile: Profile) -> bool | None:
    """The site's own session endpoint, where the profile names one (None: unknown)."""
    if not profile.session_probe:
        return None
    raw = _probe(tab, profile)
    if raw is None:
        return None
    return profiles.probe_says_logged_in(profile, int(raw.get("status") or 0), raw.get("body"))


def wait_ready(tab: PageDriver, profile: Profile, until: float) -> PageState | None:
    """The page once it shows its composer, its login wall, an error page or a challenge.

    A login wall shown while the site itself says this browser is logged in (its token
    is an httpOnly cookie the page cannot read) is answered once by giving the page the
    token the site returned, then waiting again.
    """
    flow = ChatFlow(tab, profile, "")

    def ready(p: PageState) -> bool:
        return p.input or p.wall or p.unreachable or p.challenge

    page = flow.poll(ready, until)
    if page is None or not page.wall or not profile.session_token_field:
        return page
    raw = _probe(tab, profile) if profile.session_probe else None
    body = raw.get("body") if raw else None
    token = body.get(profile.session_token_field) if isinstance(body, dict) else None
    if not (raw and raw.get("status") == 200 and isinstance(token, str) and token):
        return page
    tab.script(pagejs.ADOPT_TOKEN_JS, profile.session_probe_token, token)
    return flow.poll(lambda p: ready(p) and not p.wall, until) or flow.poll(ready, until)


def health(tab: PageDriver, profile: Profile, target: str,
           until: float) -> tuple[str, str]:
    """``(state, detail)`` of the loaded page: healthy, logged_out, unreachable, error."""
    page = wait_ready(tab, profile, until)
    if page is None:
        return "error", (f"neither prompt_input {profile.selector('prompt_input')!r} nor "
                         f"login_wall {profile.selector('login_wall')!r} found on {target} "
                         f"(profile {profile.name})")
    if page.unreachable:
        return "unreachable", f"could not load {target}: {chatpage.net_error(page)}"
    if page.challenge:
        return "error", challenge_message(target)
    if page.wall:
        return "logged_out", f"login wall shown ({profile.selector('login_wall')!r})"
    if login_state(tab, profile) is False:
        return "logged_out", (f"the site says this browser is not logged in "
                              f"({profile.session_probe})")
    return "healthy", ""


@dataclass
class RoleReport:
    """One role on the page: each selector tried and how many elements it matched."""

    role: str
    tried: list[tuple[str, int]]
    candidates: list[tuple[str, int]] = field(default_factory=list)

    @property
    def matched(self) -> str | None:
        return next((sel for sel, count in self.tried if count > 0), None)

    def to_json(self) -> dict[str, Any]:
        return {"matched": self.matched,
                "count": next((c for _s, c in self.tried if c > 0), 0),
                "tried": [{"selector": s, "count": c} for s, c in self.tried],
                "candidates": [{"selector": s, "count": c} for s, c in self.candidates]}


def inspect_roles(tab: PageDriver, profile: Profile,
                  required: tuple[str, ...]) -> dict[str, RoleReport]:
    """Every role's selectors on the page now; look-alikes for a required role missing."""
    roles = {role: sels for role, sels in profile.roles().items() if role != "chrome"}
    raw = tab.script(pagejs.INSPECT_JS, roles) or {}
    reports = {role: RoleReport(role, [(str(s), int(c)) for s, c in raw[role]])
               for role in roles if raw.get(role)}  # in the profile's order
    for role in required:
        report = reports.get(role)
        if report is not None and report.matched is None and role in ROLE_WORDS:
            found = tab.script(pagejs.CANDIDATES_JS, list(ROLE_WORDS[role]), CANDIDATES)
            report.candidates = [(str(s), int(c)) for s, c in found or []]
    return reports


@dataclass
class PageInspection:
    """A chat page as ``doctor`` reports it."""

    profile: str
    state: str  # healthy | logged_out | unreachable | error
    detail: str
    roles: dict[str, RoleReport]
    required: tuple[str, ...] = IDLE_ROLES  # the roles that must match on the page now

    @property
    def missing(self) -> list[str]:
        return [r for r in self.required if r in self.roles and self.roles[r].matched is None]


def answer_roles(profile: Profile) -> tuple[str, ...]:
    """The roles a page must show once an answer is complete."""
    wanted = ("assistant_message", "answer_body", "done_marker", "copy_button")
    return tuple(role for role in wanted if getattr(profile, role))
