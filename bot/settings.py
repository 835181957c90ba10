"""One frozen `Settings` object, read from the environment.

Precedence, highest first:
1. arguments passed in code (`answer(..., backend="offline")`, `Settings.from_env(overrides)`);
2. environment variables (the names beside each field below);
3. the defaults written here.

This is the only module that reads the environment, the variables the Anthropic
SDK and Gradio would read included (ANTHROPIC_BASE_URL, GRADIO_SERVER_NAME ...),
so everything that changes a client is part of the settings it is cached under.
A malformed value stops at once with a `ConfigurationError` naming the variable
and what it accepts. Settings are read when first needed and cached;
`reset_settings()` forgets them (tests, or a process that changed its environment).
"""

from __future__ import annotations

import errno
import ipaddress
import math
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigurationError, register_secret

DEFAULT_MODEL = "claude-sonnet-5-5"
# Bedrock's ID for Sonnet 5.5 has no "-v1:0" suffix, and on-demand calls go through an
# inference profile; the global one is served from every region at the base price.
DEFAULT_BEDROCK_MODEL = "global.anthropic.claude-sonnet-5-5"
DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com"
CHROMA_AUTH_HEADERS = ("Authorization", "X-Chroma-Token")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "amazon-anthropic-faq-bot"
# The one table of backends BOT_BACKEND may name: each name, and the class behind it
# (imported only when chosen, by bot.answering.backends). `auto` picks among them.
BACKENDS = {
    "offline": "bot.answering.backends.offline:OfflineBackend",
    "claude": "bot.answering.backends.claude:ClaudeBackend",
    "bedrock": "bot.answering.backends.claude.bedrock:BedrockBackend",
}
BACKEND_NAMES = ("auto", *BACKENDS)
_REGION = re.compile(r"[a-z0-9]+(-[a-z0-9]+)+")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class Settings:
    backend: str = "auto"  # BOT_BACKEND: auto, claude, offline or bedrock
    model: str | None = None  # BOT_MODEL; None means the backend's default
    api_key: str | None = field(default=None, repr=False)  # ANTHROPIC_API_KEY
    anthropic_base_url: str = DEFAULT_ANTHROPIC_BASE_URL  # ANTHROPIC_BASE_URL
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
    # BOT_TRUSTED_PROXIES: comma-separated addresses or networks whose X-Forwarded-For
    # names the client; by default nobody's, so no client can pick its own address.
    trusted_proxies: str = ""
    server_name: str = "127.0.0.1"  # GRADIO_SERVER_NAME, where the app listens
    server_port: int = 7860  # GRADIO_SERVER_PORT
    aws_region: str | None = None  # AWS_REGION, else AWS_DEFAULT_REGION
    aws_bearer_token: str | None = field(default=None, repr=False)  # AWS_BEARER_TOKEN_BEDROCK
    bedrock_base_url: str | None = None  # ANTHROPIC_BEDROCK_BASE_URL; None: the region's

    def __post_init__(self) -> None:
        # Whoever wrote a text that reaches a reader (an SDK error, an upstream that
        # echoes a header, Claude itself), a configured secret is redacted from it.
        for secret in (self.api_key, self.aws_bearer_token, self.chroma_auth_token):
            register_secret(secret)
        if self.auth:
            register_secret(self.auth.partition(":")[2])

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from `env` (default `os.environ`), then apply `overrides`."""
        reader = _Reader(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for attr, name in (
            ("backend", "BOT_BACKEND"),
            ("model", "BOT_MODEL"),
            ("api_key", "ANTHROPIC_API_KEY"),
            ("anthropic_base_url", "ANTHROPIC_BASE_URL"),
            ("chroma_host", "CHROMA_HOST"),
            ("chroma_auth_token", "CHROMA_AUTH_TOKEN"),
            ("chroma_auth_header", "CHROMA_AUTH_HEADER"),
            ("auth", "BOT_AUTH"),
            ("server_name", "GRADIO_SERVER_NAME"),
            ("trusted_proxies", "BOT_TRUSTED_PROXIES"),
            ("aws_region", "AWS_REGION"),
            ("aws_bearer_token", "AWS_BEARER_TOKEN_BEDROCK"),
            ("bedrock_base_url", "ANTHROPIC_BEDROCK_BASE_URL"),
        ):
            values[attr] = reader.text(name)
        values["aws_region"] = values["aws_region"] or reader.text("AWS_DEFAULT_REGION")
        values["timeout"] = reader.number("BOT_TIMEOUT", float, 0.1, 3600.0)
        for attr, name, low, high in (
            ("max_retries", "BOT_MAX_RETRIES", 0, 10),
            ("max_tokens", "BOT_MAX_TOKENS", 16, 128_000),
            ("max_question_chars", "BOT_MAX_QUESTION_CHARS", 1, 100_000),
            ("history_token_budget", "BOT_HISTORY_TOKENS", 0, 200_000),
            ("top_k", "BOT_TOP_K", 1, 50),
            ("chroma_port", "CHROMA_PORT", 1, 65535),
            ("concurrency", "BOT_CONCURRENCY", 1, 1000),
            ("rate_limit", "BOT_RATE_LIMIT", 0, 100_000),
            ("server_port", "GRADIO_SERVER_PORT", 1, 65535),
        ):
            values[attr] = reader.number(name, int, low, high)
        for attr, name in (
            ("knowledge_dir", "BOT_KNOWLEDGE_DIR"),
            ("data_dir", "BOT_DATA_DIR"),
            ("embedding_model_dir", "BOT_EMBEDDING_MODEL_DIR"),
        ):
            values[attr] = reader.path(name)
        values["chroma_ssl"] = reader.flag("CHROMA_SSL")
        values.update(overrides)
        settings = cls(**{k: v for k, v in values.items() if v is not None})
        settings.check()
        return settings

    def check(self) -> None:
        """ConfigurationError naming the first setting whose value cannot work."""
        if not (isinstance(self.timeout, (int, float)) and math.isfinite(self.timeout)
                and self.timeout > 0):
            raise ConfigurationError(
                f"BOT_TIMEOUT={self.timeout!r} must be a finite number of seconds above 0.",
                setting="BOT_TIMEOUT",
            )
        if self.chroma_auth_header.lower() not in (h.lower() for h in CHROMA_AUTH_HEADERS):
            raise ConfigurationError(
                f"CHROMA_AUTH_HEADER={self.chroma_auth_header!r} is not one of "
                f"{', '.join(CHROMA_AUTH_HEADERS)}.",
                setting="CHROMA_AUTH_HEADER",
            )
        if self.auth is not None:
            user, colon, password = self.auth.partition(":")
            if not (colon and user.strip() and password):
                raise ConfigurationError(
                    "BOT_AUTH must look like user:password, with both parts non-empty.",
                    setting="BOT_AUTH",
                )
        for proxy in filter(None, (p.strip() for p in self.trusted_proxies.split(","))):
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigurationError(
                    f"BOT_TRUSTED_PROXIES has {proxy!r}, which is not an address or network: "
                    "give addresses such as 127.0.0.1 or 10.0.0.0/8, separated by commas.",
                    setting="BOT_TRUSTED_PROXIES") from None
        _check_values(self)

    def with_changes(self, **changes: Any) -> Settings:
        changed = replace(self, **changes)
        changed.check()
        return changed


def _check_values(settings: Settings) -> None:
    """Each text and path setting has a shape it must have, or it fails only later."""
    if settings.backend.strip().lower() not in BACKEND_NAMES:
        raise ConfigurationError(
            f"BOT_BACKEND={settings.backend!r} is not a backend: choose one of "
            f"{', '.join(BACKEND_NAMES)}.", setting="BOT_BACKEND")
    if settings.model is not None and not _is_token(settings.model):
        raise ConfigurationError(
            f"BOT_MODEL={settings.model!r} is not a model ID: give one without spaces or "
            f"control characters, such as {DEFAULT_MODEL}, or unset it.", setting="BOT_MODEL")
    for name, secret in (("ANTHROPIC_API_KEY", settings.api_key),
                         ("AWS_BEARER_TOKEN_BEDROCK", settings.aws_bearer_token),
                         ("CHROMA_AUTH_TOKEN", settings.chroma_auth_token)):
        if secret is not None and not (secret.isascii() and _is_token(secret)):
            # The value is a secret: the message says what is wrong with it, not what it is.
            raise ConfigurationError(
                f"{name} has a space, a control character or a non-ASCII character, which "
                "no HTTP header can carry: set it again as the service issued it.", setting=name)
    for name, url, example in (
        ("ANTHROPIC_BASE_URL", settings.anthropic_base_url, DEFAULT_ANTHROPIC_BASE_URL),
        ("ANTHROPIC_BEDROCK_BASE_URL", settings.bedrock_base_url,
         "https://bedrock-runtime.us-east-1.amazonaws.com"),
    ):
        if url is not None and not _is_url(url):
            raise ConfigurationError(
                f"{name}={url!r} is not valid: give an http:// or https:// URL with a host "
                f"(and a port from 1 to 65535, if any), such as {example}.", setting=name)
    if settings.chroma_host is not None and not _is_host(settings.chroma_host):
        raise ConfigurationError(
            f"CHROMA_HOST={settings.chroma_host!r} is not a host: give a name or address "
            "such as localhost, without http:// or a port (set CHROMA_SSL=true for https "
            "and CHROMA_PORT for the port).", setting="CHROMA_HOST")
    if settings.aws_region is not None and not _REGION.fullmatch(settings.aws_region):
        raise ConfigurationError(
            f"AWS_REGION={settings.aws_region!r} is not a region: give one such as us-east-1 "
            "(AWS_DEFAULT_REGION is read when AWS_REGION is unset).", setting="AWS_REGION")
    for name, path in (("BOT_KNOWLEDGE_DIR", settings.knowledge_dir),
                       ("BOT_DATA_DIR", settings.data_dir),
                       ("BOT_EMBEDDING_MODEL_DIR", settings.embedding_model_dir)):
        if path is not None and _in_a_loop(Path(path)):
            # No path in the message: it may be shown on the page; the user set it anyway.
            raise ConfigurationError(
                f"{name} leads into a loop of symbolic links: point it at a real folder.",
                setting=name)


def _is_token(value: str) -> bool:
    """One word of printable characters: no spaces, tabs, newlines or control characters."""
    return bool(value) and value.isprintable() and " " not in value


def _is_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError when it is not a number from 0 to 65535
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
            and _is_token(url))


def _is_host(host: str) -> bool:
    # A colon belongs only in a bracketed IPv6 address: "[::1]".
    return _is_token(host) and "/" not in host and (":" not in host or host.startswith("["))


def _in_a_loop(path: Path) -> bool:
    try:
        path.stat()
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


class _Reader:
    """Reads one kind of value from the environment, or says in one line what is wrong."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def text(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def number(self, name: str, kind: Callable[[str], Any], low: float, high: float) -> Any:
        raw = self.text(name)
        if raw is None:
            return None
        what = "whole number" if kind is int else "number"
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not low <= value <= high:
            raise ConfigurationError(
                f"{name}={raw!r} is not valid: give a {what} from {low:g} to {high:g}, "
                "or unset it.",
                setting=name,
            )
        return value

    def path(self, name: str) -> Path | None:
        raw = self.text(name)
        return Path(raw).expanduser() if raw is not None else None

    def flag(self, name: str) -> bool | None:
        raw = self.text(name)
        if raw is None:
            return None
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ConfigurationError(
            f"{name}={raw!r} is not valid: give true or false (or 1 or 0).", setting=name
        )


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
