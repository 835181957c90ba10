"""The answerers: the abstract `Backend`, and each name's class.

A name in `bot.settings.BACKENDS` (the one table of them) is what BOT_BACKEND,
`answer(..., backend=...)` and the command line accept; its class is imported only
when first asked for, so choosing the offline backend never loads the Anthropic SDK.
`auto` means Claude when ANTHROPIC_API_KEY is set and offline otherwise; Bedrock is
chosen only by name, since AWS credentials may be ambient (an instance role).
"""

from __future__ import annotations

import importlib

from ...errors import ConfigurationError
from ...settings import BACKEND_NAMES as NAMES
from ...settings import BACKENDS, Settings
from .base import REFUSAL_PREFIX, AnswerRequest, Backend, last_snapshot


def resolve_name(settings: Settings, name: str | None = None) -> str:
    """The backend that answers: `name`, else BOT_BACKEND, with `auto` resolved."""
    chosen = (name or settings.backend).strip().lower()
    if chosen == "auto":
        return "claude" if settings.api_key else "offline"
    if chosen not in BACKENDS:
        raise ConfigurationError(
            f"BOT_BACKEND={chosen!r} is not a backend: choose one of {', '.join(NAMES)}.",
            setting="BOT_BACKEND",
        )
    return chosen


def backend_class(name: str) -> type[Backend]:
    """The class behind a resolved backend name; imports only what that backend needs."""
    module, _, cls = BACKENDS[name].partition(":")
    found: type[Backend] = getattr(importlib.import_module(module), cls)
    return found


__all__ = [
    "BACKENDS",
    "NAMES",
    "REFUSAL_PREFIX",
    "AnswerRequest",
    "Backend",
    "backend_class",
    "last_snapshot",
    "resolve_name",
]
