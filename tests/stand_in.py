"""Points the public API at the loopback stand-in, as a deployment's environment would.

The key is shaped like a real one (`sk-ant-...`) so that redaction is tested the
way it works in the field.
"""

from __future__ import annotations

import pytest

from bot.answering import reset_backends
from bot.settings import reset_settings

FAKE_KEY = "sk-ant-test-f00dfacecafe0123456789abcdefABCDEF-xyz"


def point_at(monkeypatch: pytest.MonkeyPatch, base_url: str, **env: str) -> None:
    """Claude through `base_url` with the fake key; `env` adds or overrides settings."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url)
    monkeypatch.setenv("BOT_MAX_RETRIES", "2")
    monkeypatch.setenv("BOT_TIMEOUT", "10")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    forget_configuration()


def forget_configuration() -> None:
    # The backend is cached per settings, and the SDK reads ANTHROPIC_BASE_URL only once.
    reset_settings()
    reset_backends()
