"""Every configured secret is redacted from what a reader is shown, whoever wrote it:
Claude's answer (as it streams, too), its warnings, error messages, log lines and the
command line's output. Secrets are echoed back by the stand-in, the way a
misconfigured proxy (or a steered model) would."""

from __future__ import annotations

import io
import itertools
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from claude_case import KEY, ask, backend, collect
from hypothesis import given
from hypothesis import strategies as st
from stand_in import FAKE_KEY
from upstream import (
    Reply,
    Upstream,
    answer_events,
    citations_delta,
    error_reply,
    message_delta,
    message_stop,
)

import bot
from bot.redaction import REDACTED, redact, redact_logs
from bot.types import Answer, Passage

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How much is Amazon investing in Anthropic?"


def echo(secret: str, chunk: int = 4, **options: object) -> Reply:
    """An answer that quotes `secret` back, in small deltas that split it."""
    text = f"Amazon is investing $5 billion. Your key is {secret}, as sent."
    return Reply(events=answer_events([(text, [])], chunk=chunk), **options)  # type: ignore[arg-type]


def assert_only_grows(snapshots: list[Answer]) -> None:
    for earlier, later in itertools.pairwise(s.text for s in snapshots):
        assert later.startswith(earlier), f"{earlier!r} is not a prefix of {later!r}"


# The redaction of a growing text, on its own.

ALPHABET = "sk-ant01 x"
SECRETS = st.lists(st.text(alphabet=ALPHABET, min_size=6, max_size=9), min_size=1, max_size=3)


@given(text=st.text(alphabet=ALPHABET, max_size=40), secrets=SECRETS)
def test_a_growing_text_redacts_to_prefixes_of_its_whole_redaction(
    text: str, secrets: list[str]
) -> None:
    whole = redact(text, *secrets)
    shown = [redact(text[:end], *secrets, partial=True) for end in range(len(text) + 1)]

    for earlier, later in itertools.pairwise([*shown, whole]):
        assert later.startswith(earlier), (earlier, later)
    assert not any(secret in whole for secret in secrets)


def test_the_start_of_a_secret_is_held_back_until_it_is_known_not_to_be_one() -> None:
    assert redact("key: sk-an", partial=True) == "key: "
    assert redact("key: sk-ant-abc", partial=True) == f"key: {REDACTED}"
    assert redact("key: tok-9", "tok-9f3e2", partial=True) == "key: "
    assert redact("key: tok-9x", "tok-9f3e2", partial=True) == "key: tok-9x"
    assert redact("key: tok-9f3e2.", "tok-9f3e2") == f"key: {REDACTED}."


# Claude's answer, through the real SDK and the stand-in.

def test_a_key_claude_echoes_into_its_answer_is_redacted_from_every_snapshot(
    claude_api: Upstream,
) -> None:
    claude_api.enqueue(echo(FAKE_KEY))
    snapshots = list(bot.stream_answer(QUESTION, backend="claude"))

    assert_only_grows(snapshots)
    assert not any(FAKE_KEY[:9] in s.text for s in snapshots)  # not even its first half
    assert snapshots[-1].text.endswith(f"Your key is {REDACTED}, as sent.")


SECRETS_SET = {  # the secret as Claude would echo it, and the setting that configures it
    "ANTHROPIC_API_KEY": (KEY, {}),
    "AWS_BEARER_TOKEN_BEDROCK": ("bedrock-token-3c9d1e7a",
                                 {"aws_bearer_token": "bedrock-token-3c9d1e7a"}),
    "CHROMA_AUTH_TOKEN": ("chroma-token-5b8e2f4d", {"chroma_auth_token": "chroma-token-5b8e2f4d"}),
    "BOT_AUTH's password": ("login-pass-6a1f", {"auth": "reader:login-pass-6a1f"}),
}


@pytest.mark.parametrize("shown_secret,setting", SECRETS_SET.values(), ids=SECRETS_SET.keys())
def test_each_configured_secret_is_redacted_from_claudes_answer(
    api: Upstream, passages: tuple[Passage, ...], shown_secret: str, setting: dict[str, str]
) -> None:
    api.enqueue(echo(shown_secret, chunk=3))
    snapshots = collect(backend(**setting).stream(ask(passages)))

    assert_only_grows(snapshots)
    assert not any(shown_secret[:len(shown_secret) // 2] in s.text for s in snapshots)
    assert f"Your key is {REDACTED}" in snapshots[-1].text


def test_a_key_in_the_request_id_or_the_stop_reason_is_redacted_from_warnings_and_errors(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    events = [*answer_events([("Amazon is investing.", [])])[:-2],
              message_delta(stop_reason=f"stopped by {KEY}"), message_stop()]
    api.enqueue(Reply(events=events, headers={"request-id": f"req-{KEY}"}))
    stopped = backend().answer(ask(passages))
    api.enqueue(Reply(events=answer_events([("Amazon is investing.", [])]), cut_after=5,
                      headers={"request-id": f"req-{KEY}"}))
    cut = backend().answer(ask(passages))
    api.enqueue(error_reply(400, "invalid_request_error", "No.", request_id=f"req-{KEY}"))
    with pytest.raises(bot.BadRequestError) as refused:
        backend().answer(ask(passages))

    shown = [*stopped.warnings, *cut.warnings, refused.value.message,
             str(refused.value.request_id)]
    assert not [text for text in shown if KEY in text]
    assert any(f"stopped by {REDACTED}" in w for w in stopped.warnings)
    assert any(f"req-{REDACTED}" in w for w in cut.warnings)


# Log lines and the command line.

def test_a_redacting_handler_writes_no_secret_in_messages_or_tracebacks() -> None:
    logger = logging.getLogger("test_redaction.handler")
    out = io.StringIO()
    logger.addHandler(logging.StreamHandler(out))
    logger.propagate = False
    redact_logs(logger)
    try:
        logger.warning("upstream said %s", FAKE_KEY)
        try:
            raise RuntimeError(f"the reply quoted {FAKE_KEY}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.handlers.clear()

    written = out.getvalue()
    assert FAKE_KEY not in written and FAKE_KEY[7:] not in written
    assert f"upstream said {REDACTED}" in written and "RuntimeError: the reply quoted" in written


def test_faq_bot_shows_an_echoed_key_nowhere_in_its_answer_or_its_log() -> None:
    # The citation's type is the key: the backend logs that it dropped a citation of
    # that type, which is how a log line comes to quote what an upstream wrote.
    events = answer_events([(f"Amazon invests $5 billion. Key: {FAKE_KEY}.", [])], chunk=5)
    odd = citations_delta(0, {"type": FAKE_KEY, "cited_text": "x"})
    events.insert(4, odd)
    with Upstream() as server:
        server.enqueue(Reply(events=events))
        env = {**os.environ, "ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": server.base_url,
               "BOT_MAX_RETRIES": "0", "BOT_BACKEND": "claude"}
        run = subprocess.run([sys.executable, "-m", "bot", "-v", "ask", QUESTION], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stderr
    assert f"Key: {REDACTED}." in run.stdout and "Dropped a citation" in run.stderr
    for shown in (run.stdout, run.stderr):
        assert FAKE_KEY not in shown and FAKE_KEY[7:] not in shown
