"""One frozen `Settings` object, read from the environment.

Precedence, highest first:
1. arguments passed in code (`answer(..., backend="offline")`, `Settings.from_env(overrides)`);
2. environment variables (the names below);
3. the defaults written here.

Settings are read when first needed and cached; `reset_settings()` forgets them
(tests, or a process that changed its environment).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

BACKENDS = ("auto", "claude", "offline", "bedrock")
DEFAULT_MODEL = "claude-sonnet-5-5"
# Bedrock's ID for Sonnet 5.5 has no "-v1:0" suffix, and on-demand calls go through an
# inference profile; the global one is served from every region at the base price.
DEFAULT_BEDROCK_MODEL = "global.anthropic.claude-sonnet-5-5"
CHROMA_AUTH_HEADERS = ("Authorization", "X-Chroma-Token")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("amazon-anthropic-faq-bot", appauthor=False))


@dataclass(frozen=True)
class Settings:
    backend: str = "auto"  # BOT_BACKEND
    model: str | None = None  # BOT_MODEL; None means the backend's default
    api_key: str | None = field(default=None, repr=False)  # ANTHROPIC_API_KEY
    timeout: float = 30.0  # BOT_TIMEOUT, seconds, handed to the SDK
    max_retries: int = 2  # BOT_MAX_RETRIES, handed to the SDK
    max_tokens: int = 1024  # BOT_MAX_TOKENS, Claude's answer length cap
    max_question_chars: int = 2000  # BOT_MAX_QUESTION_CHARS
    history_token_budget: int = 3000  # BOT_HISTORY_TOKENS, older turns dropped past it
    top_k: int = 4  # BOT_TOP_K, passages handed to the answerer
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"  # BOT_KNOWLEDGE_DIR
    data_dir: Path = field(default_factory=_default_data_dir)  # BOT_DATA_DIR
    embedding_model_dir: Path | None = None  # BOT_EMBEDDING_MODEL_DIR
    chroma_host: str | None = None  # CHROMA_HOST
    chroma_port: int = 8000  # CHROMA_PORT
    chroma_ssl: bool = False  # CHROMA_SSL
    chroma_auth_token: str | None = field(default=None, repr=False)  # CHROMA_AUTH_TOKEN
    chroma_auth_header: str = "Authorization"  # CHROMA_AUTH_HEADER, or X-Chroma-Token
    concurrency: int = 16  # BOT_CONCURRENCY, chat answers produced side by side
    auth: str | None = field(default=None, repr=False)  # BOT_AUTH, "user:password"
    rate_limit: int = 0  # BOT_RATE_LIMIT, questions per minute per client; 0 = off
    aws_region: str | None = None  # AWS_REGION, else AWS_DEFAULT_REGION
    aws_bearer_token: str | None = field(default=None, repr=False)  # AWS_BEARER_TOKEN_BEDROCK

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from `env` (default `os.environ`), then apply `overrides`."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, kind: type, low: float) -> Any:
            raw = text(name)
            if raw is None:
                return None
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigurationError(
                    f"{name}={raw!r} is not a valid {kind.__name__}; unset it or give a number.",
                    setting=name,
                ) from None
            if value < low:
                raise ConfigurationError(f"{name} must be at least {low}.", setting=name)
            return value

        if (backend := text("BOT_BACKEND")) is not None:
            values["backend"] = backend.lower()
        for attr, name in (
            ("model", "BOT_MODEL"),
            ("api_key", "ANTHROPIC_API_KEY"),
            ("chroma_host", "CHROMA_HOST"),
            ("chroma_auth_token", "CHROMA_AUTH_TOKEN"),
            ("chroma_auth_header", "CHROMA_AUTH_HEADER"),
            ("auth", "BOT_AUTH"),
            ("aws_bearer_token", "AWS_BEARER_TOKEN_BEDROCK"),
        ):
            if (value := text(name)) is not None:
                values[attr] = value
        if (region := text("AWS_REGION") or text("AWS_DEFAULT_REGION")) is not None:
            values["aws_region"] = region
        for attr, name, kind, low in (
            ("timeout", "BOT_TIMEOUT", float, 0.1),
            ("max_retries", "BOT_MAX_RETRIES", int, 0),
            ("max_tokens", "BOT_MAX_TOKENS", int, 16),
            ("max_question_chars", "BOT_MAX_QUESTION_CHARS", int, 1),
            ("history_token_budget", "BOT_HISTORY_TOKENS", int, 0),
            ("top_k", "BOT_TOP_K", int, 1),
            ("chroma_port", "CHROMA_PORT", int, 1),
            ("concurrency", "BOT_CONCURRENCY", int, 1),
            ("rate_limit", "BOT_RATE_LIMIT", int, 0),
        ):
            if (value := number(name, kind, low)) is not None:
                values[attr] = value
        for attr, name in (
            ("knowledge_dir", "BOT_KNOWLEDGE_DIR"),
            ("data_dir", "BOT_DATA_DIR"),
            ("embedding_model_dir", "BOT_EMBEDDING_MODEL_DIR"),
        ):
            if (value := text(name)) is not None:
                values[attr] = Path(value).expanduser()
        if (ssl := text("CHROMA_SSL")) is not None:
            values["chroma_ssl"] = ssl.lower() in ("1", "true", "yes", "on")
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigurationError(
                f"BOT_BACKEND={self.backend!r} is not one of {', '.join(BACKENDS)}.",
                setting="BOT_BACKEND",
            )
        if self.chroma_auth_header.lower() not in (h.lower() for h in CHROMA_AUTH_HEADERS):
            raise ConfigurationError(
                f"CHROMA_AUTH_HEADER={self.chroma_auth_header!r} is not one of "
                f"{', '.join(CHROMA_AUTH_HEADERS)}.",
                setting="CHROMA_AUTH_HEADER",
            )
        if self.auth is not None and ":" not in self.auth:
            raise ConfigurationError("BOT_AUTH must look like user:password.", setting="BOT_AUTH")

    def resolved_backend(self) -> str:
        """`auto` becomes `claude` when a key is set, `offline` otherwise; Bedrock is
        only ever chosen by name, since AWS credentials may be ambient (an instance role)."""
        if self.backend == "auto":
            return "claude" if self.api_key else "offline"
        return self.backend

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)


_lock = threading.Lock()
_cached: Settings | None = None


def get_settings() -> Settings:
    global _cached
    with _lock:
        if _cached is None:
            _cached = Settings.from_env()
        return _cached


def reset_settings() -> None:
    global _cached
    with _lock:
        _cached = None
