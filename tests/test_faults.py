"""Every upstream fault ends in a clear `BotError` or an answer marked incomplete.

Driven through the public `bot.answer(..., backend="claude")` and the real SDK,
against the loopback stand-in API, with a key shaped like a real one so that
redaction is tested as it would work in the field: no message, no traceback and
no log record at any level may contain it.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from app_process import AppProcess
from soak import ask
from stand_in import FAKE_KEY, forget_configuration, point_at
from upstream import (
    Reply,
    Upstream,
    answer_events,
    citations_delta,
    error_event,
    error_reply,
    text_block_start,
    text_delta,
    unused_port_url,
)

import bot
from bot import errors
from bot.presentation import APOLOGY, NOTICE

KEY = FAKE_KEY
QUESTION = "How much is Amazon investing in Anthropic?"


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_no_key(*texts: str, logs: pytest.LogCaptureFixture | None = None) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    shown = list(texts)
    if logs is not None:
        shown += [formatter.format(record) for record in logs.records]
    leaked = [text for text in shown if KEY in text or KEY[7:] in text]
    assert not leaked, leaked[0][:500]


def full_traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


def retry_quickly(headers: dict[str, str] | None = None) -> dict[str, str]:
    # The SDK honours retry-after-ms, which keeps the retries real but the test quick.
    return {"retry-after-ms": "20", **(headers or {})}


def echoing(status: int, kind: str, headers: dict[str, str] | None = None) -> Reply:
    """An error whose body quotes the key back, as a misconfigured proxy might."""
    return error_reply(status, kind, f"{kind} for key {KEY}", headers)


@dataclass(frozen=True)
class Fault:
    replies: list[Reply]
    error: type[errors.BotError]
    requests: int  # how many attempts reach the stand-in: retries show here
    says: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


def cut_before_text() -> Reply:
    events = [*answer_events([("Amazon", [])])[:2], text_block_start(0), text_delta(0, "Amazon")]
    return Reply(events=events, cut_after=3)


def not_json_error(status: int) -> Reply:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    return Reply(status=status, json=html, headers=retry_quickly({"content-type": "text/html"}))


FAULTS = {
    "401 unauthorised": Fault([echoing(401, "authentication_error")],
                              errors.AuthenticationError, 1, ("ANTHROPIC_API_KEY",)),
    "403 forbidden": Fault([echoing(403, "permission_error")],
                           errors.AuthenticationError, 1, ("ANTHROPIC_API_KEY",)),
    "400 bad request": Fault([echoing(400, "invalid_request_error")],
                             errors.BadRequestError, 1, ("HTTP 400", "invalid_request_error")),
    "413 too large": Fault([echoing(413, "request_too_large")],
                           errors.BadRequestError, 1, ("HTTP 413", "too long")),
    "429 with retry-after": Fault(
        [echoing(429, "rate_limit_error", retry_quickly({"retry-after": "3"}))] * 3,
        errors.RateLimitedError, 3, ("wait 3 seconds",)),
    "500 internal error": Fault([echoing(500, "api_error", retry_quickly())] * 3,
                                errors.OverloadedError, 3, ("HTTP 500", "try again")),
    "503 unavailable": Fault([echoing(503, "api_error", retry_quickly())] * 3,
                             errors.OverloadedError, 3, ("HTTP 503",)),
    "529 overloaded": Fault([echoing(529, "overloaded_error", retry_quickly())] * 3,
                            errors.OverloadedError, 3, ("overloaded",)),
    "502 with an HTML body": Fault([not_json_error(502)] * 3, errors.OverloadedError, 3,
                                   ("HTTP 502",)),
    "never answers": Fault([Reply(hang=True)] * 3, errors.UpstreamUnavailableError, 3,
                           ("BOT_TIMEOUT", "0.5 seconds"), {"BOT_TIMEOUT": "0.5"}),
    "cut before any text": Fault([cut_before_text()], errors.UpstreamUnavailableError, 1,
                                 ("try again",)),
    "malformed JSON event": Fault(
        [Reply(events=[*answer_events([("x", [])])[:2], ("content_block_start", "{oops")])],
        errors.UpstreamError, 1, ("could not be read",)),
    "a 200 that is not a stream": Fault(
        [Reply(json="{not json", headers={"content-type": "application/json"})],
        errors.UpstreamError, 1, ("try again",)),
    "error event before text": Fault(
        [Reply(events=[*answer_events([("x", [])])[:2], error_event("overloaded_error", KEY)])],
        errors.OverloadedError, 1, ("overloaded",)),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_each_upstream_fault_ends_in_a_clear_error_and_the_next_question_is_answered(
    fault: Fault, claude_api: Upstream, monkeypatch: pytest.MonkeyPatch,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    if fault.env:
        point_at(monkeypatch, claude_api.base_url, **fault.env)
    claude_api.enqueue(*fault.replies)
    started = time.monotonic()
    with pytest.raises(fault.error) as caught:
        bot.answer(QUESTION, backend="claude")
    elapsed = time.monotonic() - started

    message = caught.value.message
    assert all(words in message for words in fault.says), message
    assert len(claude_api.requests) == fault.requests
    # Generous: proves the fault is bounded by the timeout and retries, not that it is fast.
    assert elapsed < 30
    assert_no_key(message, repr(caught.value), full_traceback(caught.value), logs=all_logs)

    after = bot.answer(QUESTION, backend="claude")
    assert after.complete and after.citations and after.backend == "claude"


def test_an_overloaded_api_that_recovers_is_retried_by_the_sdk_and_answers(
    claude_api: Upstream, all_logs: pytest.LogCaptureFixture
) -> None:
    claude_api.enqueue(echoing(529, "overloaded_error", retry_quickly()))
    final = bot.answer(QUESTION, backend="claude")

    assert final.complete and final.citations
    assert [r.headers["x-stainless-retry-count"] for r in claude_api.requests] == ["0", "1"]
    assert_no_key(logs=all_logs)


def test_a_stream_cut_mid_answer_yields_what_arrived_marked_incomplete(
    claude_api: Upstream, all_logs: pytest.LogCaptureFixture
) -> None:
    events = answer_events([("Amazon is investing five billion dollars now.", [])], chunk=6)
    claude_api.enqueue(Reply(events=events, cut_after=5))
    snapshots = list(bot.stream_answer(QUESTION, backend="claude"))

    final = snapshots[-1]
    assert final.text == "Amazon is in"
    assert not final.complete and not any(s.complete for s in snapshots)
    assert any("cut short" in warning and "incomplete" in warning for warning in final.warnings)
    assert any("complete=False" in r.getMessage() for r in all_logs.records)
    assert_no_key(logs=all_logs)


def test_a_refused_connection_is_retried_then_says_how_to_run_offline(
    monkeypatch: pytest.MonkeyPatch, all_logs: pytest.LogCaptureFixture
) -> None:
    point_at(monkeypatch, unused_port_url(), BOT_MAX_RETRIES="1")
    try:
        with pytest.raises(errors.UpstreamUnavailableError) as caught:
            bot.answer(QUESTION, backend="claude")
    finally:
        forget_configuration()

    assert "BOT_BACKEND=offline" in caught.value.message
    assert any("Retrying request" in r.getMessage() for r in all_logs.records)
    assert_no_key(caught.value.message, full_traceback(caught.value), logs=all_logs)


def test_a_long_retry_after_is_reported_instead_of_waited_for(
    claude_api: Upstream, all_logs: pytest.LogCaptureFixture
) -> None:
    claude_api.enqueue(*[echoing(429, "rate_limit_error", {"retry-after": "3600"})] * 3)
    started = time.monotonic()
    with pytest.raises(errors.RateLimitedError) as caught:
        bot.answer(QUESTION, backend="claude")

    assert time.monotonic() - started < 30  # not an hour
    assert caught.value.retry_after == 3600 and "wait 3600 seconds" in caught.value.message
    assert_no_key(caught.value.message, logs=all_logs)


def test_a_stream_that_stalls_mid_answer_is_cut_by_the_timeout_and_marked_incomplete(
    claude_api: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(monkeypatch, claude_api.base_url, BOT_TIMEOUT="0.5")
    events = answer_events([("Amazon is investing five billion dollars now.", [])], chunk=6)
    claude_api.enqueue(Reply(events=events, stall_after=5))
    started = time.monotonic()
    final = bot.answer(QUESTION, backend="claude")

    assert time.monotonic() - started < 30
    assert final.text == "Amazon is in" and not final.complete
    assert any("cut short" in warning for warning in final.warnings)


# The same faults through the running chat app: a friendly message, and the next question.

CHAT_FAULTS = {
    "401 unauthorised": ([echoing(401, "authentication_error")], "check ANTHROPIC_API_KEY"),
    "429 after retries": ([echoing(429, "rate_limit_error", retry_quickly({"retry-after": "3"}))]
                          * 2, "wait 3 seconds"),
    "529 after retries": ([echoing(529, "overloaded_error", retry_quickly())] * 2,
                          "try again in a minute"),
    "400 bad request": ([echoing(400, "invalid_request_error")], "Claude rejected the request"),
    "never answers": ([Reply(hang=True)] * 2, "BOT_TIMEOUT"),
    "malformed JSON": ([Reply(events=[*answer_events([("x", [])])[:2],
                                      ("content_block_start", "{oops")])], "could not be read"),
    "cut mid-answer": ([Reply(events=answer_events([("Amazon is investing five billion.", [])],
                                                   chunk=6), cut_after=5)], "cut short"),
}


@pytest.fixture(scope="module")
def chat_app() -> Iterator[tuple[AppProcess, Upstream]]:
    with Upstream() as api:
        env = {"BOT_BACKEND": "claude", "ANTHROPIC_API_KEY": KEY,
               "ANTHROPIC_BASE_URL": api.base_url, "BOT_MAX_RETRIES": "1", "BOT_TIMEOUT": "1.5"}
        with AppProcess(env=env) as app:
            yield app, api


@pytest.mark.slow
@pytest.mark.parametrize("replies,says", CHAT_FAULTS.values(), ids=CHAT_FAULTS.keys())
def test_the_chat_app_shows_each_fault_as_a_friendly_message_and_answers_the_next_question(
    replies: list[Reply], says: str, chat_app: tuple[AppProcess, Upstream]
) -> None:
    app, api = chat_app
    api.enqueue(*replies)
    shown = ask(app.url, "How much is Amazon investing?", timeout=60)

    assert says in shown and APOLOGY not in shown
    assert shown.startswith(NOTICE) or "cut short" in shown
    after = ask(app.url, "How much is Amazon investing?", timeout=60)
    assert "Sources (1)" in after and APOLOGY not in after
    assert app.process.poll() is None


@pytest.mark.slow
def test_the_chat_app_shows_the_key_on_no_page_and_in_no_log_line(
    chat_app: tuple[AppProcess, Upstream],
) -> None:
    app, _ = chat_app
    pages = [httpx.get(app.url + path, timeout=10).text for path in ("", "config")]
    assert_no_key(*pages, "".join(app.output))


@pytest.mark.slow
def test_the_chat_app_redacts_a_key_the_upstream_echoes_from_the_answer_and_the_log(
    chat_app: tuple[AppProcess, Upstream],
) -> None:
    app, api = chat_app
    events = answer_events([(f"Amazon is investing $5 billion. Key: {KEY}.", [])], chunk=5)
    # A citation whose type is the key: the app logs that it dropped it, quoting the type.
    events.insert(4, citations_delta(0, {"type": KEY, "cited_text": "x"}))
    api.enqueue(Reply(events=events))
    shown = ask(app.url, "How much is Amazon investing?", timeout=60)

    assert "redacted" in shown and "Dropped a citation" in "".join(app.output)
    assert_no_key(shown, "".join(app.output))
