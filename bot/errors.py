"""Every error the bot raises on purpose, each with a message that says what to do.

The tree::

    BotError                      anything the bot can explain to its user
    ├── ConfigurationError        a setting is missing or malformed
    │   ├── MissingAPIKeyError    Claude chosen but ANTHROPIC_API_KEY unset
    │   │   └── MissingAWSCredentialsError  Bedrock chosen without AWS region or credentials
    │   └── EmbeddingModelError   the embedding model files cannot be found or loaded
    ├── InvalidQuestionError      empty, too long, or unusable question
    ├── InvalidHistoryError       history entries of the wrong shape or role
    ├── InvalidArgumentError      an argument given in code has the wrong type or value
    ├── KnowledgeError            the knowledge folder is missing, empty or unreadable
    ├── StoreError                the vector store cannot be opened, written or reached
    └── UpstreamError             Claude could not produce an answer
        ├── AuthenticationError   the key was refused (401/403)
        ├── RateLimitedError      429 after the SDK's own retries
        ├── OverloadedError       529/503/5xx after the SDK's own retries
        ├── UpstreamUnavailableError  connection refused or timed out
        └── BadRequestError       the API rejected the request (400/413/422)

Messages never contain a configured secret (the API key, the Bedrock bearer token,
the Chroma token, the login password): every `Settings` registers its secrets here,
`redact()` is applied to every message, and `scrub()` to the SDK exceptions chained
behind them.
"""

from __future__ import annotations

import contextlib
import re
import threading

_KEY_PATTERN = re.compile(r"sk-ant-[A-Za-z0-9_\-]+")
MIN_SECRET_CHARS = 6  # shorter values would blank out ordinary words
_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(secret: str | None) -> None:
    """Redact `secret` from every text `redact` sees from now on."""
    if secret and len(secret) >= MIN_SECRET_CHARS:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str, *secrets: str | None) -> str:
    """Remove anything that looks like an Anthropic key, the registered secrets, and `secrets`."""
    text = _KEY_PATTERN.sub("[redacted]", text)
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in (*known, *secrets):
        if secret and len(secret) >= MIN_SECRET_CHARS and secret in text:
            text = text.replace(secret, "[redacted]")
    return text


def scrub(error: BaseException, *secrets: str | None) -> None:
    """Redact `error` and every exception chained to it, in place.

    SDK exceptions quote the upstream reply verbatim, and a proxy may echo the key
    back; a traceback logged or printed later must not carry it.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.args = tuple(
            redact(arg, *secrets) if isinstance(arg, str) else arg for arg in current.args
        )
        if isinstance(getattr(current, "message", None), str):
            # A read-only property (like BotError.message) is already redacted.
            with contextlib.suppress(AttributeError):
                current.message = redact(current.message, *secrets)  # type: ignore[attr-defined]
        pending += [current.__cause__, current.__context__]


class BotError(Exception):
    """Base class: an error whose message can be shown to the user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self)


class ConfigurationError(BotError):
    """A setting is missing or malformed; `setting` names it."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class MissingAPIKeyError(ConfigurationError):
    def __init__(self, backend: str = "claude") -> None:
        super().__init__(
            f"The {backend} backend needs an API key: set ANTHROPIC_API_KEY, "
            "or run offline with BOT_BACKEND=offline.",
            setting="ANTHROPIC_API_KEY",
        )


class MissingAWSCredentialsError(MissingAPIKeyError):
    """Bedrock chosen, but no AWS region or no credentials could be found."""

    def __init__(self, missing: str = "AWS credentials", setting: str = "AWS_REGION") -> None:
        ConfigurationError.__init__(
            self,
            f"The bedrock backend found no {missing}: set AWS_REGION (e.g. us-east-1) and "
            "either AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or an instance role) or AWS_BEARER_TOKEN_BEDROCK; "
            "or run offline with BOT_BACKEND=offline.",
            setting=setting,
        )


class EmbeddingModelError(ConfigurationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, setting="BOT_EMBEDDING_MODEL_DIR")


class InvalidQuestionError(BotError):
    """The question cannot be answered as given; `reason` is a short machine tag."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidHistoryError(BotError):
    """A history entry is malformed; `index` is its position in the list."""

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class InvalidArgumentError(BotError, ValueError):
    """An argument given in code cannot be used; `argument` names it."""

    def __init__(self, message: str, *, argument: str) -> None:
        super().__init__(message)
        self.argument = argument


class KnowledgeError(BotError):
    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class StoreError(BotError):
    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.location = location


class UpstreamError(BotError):
    """Claude did not answer; `status` is the HTTP status when there was one."""

    def __init__(
        self, message: str, *, status: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.request_id = request_id


class AuthenticationError(UpstreamError):
    pass


class RateLimitedError(UpstreamError):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.retry_after = retry_after


class OverloadedError(UpstreamError):
    pass


class UpstreamUnavailableError(UpstreamError):
    pass


class BadRequestError(UpstreamError):
    pass
