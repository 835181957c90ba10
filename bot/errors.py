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
the Chroma token, the login password), nor does an error's `request_id`: every
`Settings` registers its secrets with `bot.redaction`, `redact()` is applied to
every message, and `scrub()` to the SDK exceptions chained behind them.
"""

from __future__ import annotations

# Redaction lives in its own module; its names stay importable from here.
from .redaction import MIN_SECRET_CHARS as MIN_SECRET_CHARS
from .redaction import redact as redact
from .redaction import register_secret as register_secret
from .redaction import scrub as scrub


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
    """`path` is the folder or file at fault; `reason`, when one file is, what is wrong
    with it, without its path (for text readers see)."""

    def __init__(self, message: str, *, path: str | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


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
        # Read from the upstream's headers, so whatever it echoes there is redacted too.
        self.request_id = redact(request_id) if request_id is not None else None


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
