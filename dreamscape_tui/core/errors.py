"""The user-facing error hierarchy and the exit code each maps to (docs/architecture.md#exit-codes).

Anything a user can get wrong (a flag, a path, a config key, a model answer) raises a
``UserError`` subclass whose message is one line; the CLI prints it and exits with
``exit_code``. Nothing else should reach the user as a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; ``str()`` is one line."""

    exit_code = 1


class UsageError(UserError):
    """Bad command-line usage, a bad path or a bad config (exit 2)."""

    exit_code = 2


class ModelError(UserError):
    """A model could not answer; subclasses say why, so callers can react by type."""

    exit_code = 1
    retryable = True


class RateLimited(ModelError):
    """The service refused: too many requests or a usage limit (HTTP 429)."""


class SessionExpired(ModelError):
    """The browser session is logged out: the page shows its login wall."""

    retryable = False


class AnswerTimeout(ModelError):
    """The answer did not start, or did not finish, within the model's timeout."""


class PageError(ModelError):
    """The page reported an error instead of an answer ("Something went wrong")."""


class SelectorMissing(ModelError):
    """A configured selector matched nothing: the chat page has changed (page drift)."""

    retryable = False

    def __init__(self, role: str, selector: str, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"selector for {role} matched nothing: {selector!r}{extra}; "
            f"the page may have changed: set [webchat.selectors] {role}"
        )
        self.role = role
        self.selector = selector


class BadResponse(ModelError):
    """The service answered with something that is not a valid answer (bad JSON ...)."""


class SessionUnavailable(ModelError):
    """No browser session could be started or reached."""


class ChallengeShown(ModelError):
    """The site showed a bot challenge ("Just a moment...") instead of its chat page.

    Not retryable and never worked around: the remedy is the user's own browser
    (attach mode) or the provider's API.
    """

    retryable = False


class ModelCallInterrupted(Exception):
    """The caller cancelled a model call in flight (``q``, SIGTERM, pause).

    Deliberately not a ``ModelError``: a ModelError counts as a failed attempt and may
    recycle the session, while an interrupted call is neither the model's fault nor the
    session's; the attempt is not counted and is made again on the next run.
    """
