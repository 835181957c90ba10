"""The Claude backend when the API fails, through the real SDK and its own retries:
each fault ends in the mapped `BotError`, or in an answer marked incomplete."""

from __future__ import annotations

import pytest
from claude_case import (
    FIVE,
    HAPPENED,
    KEY,
    ask,
    backend,
    cited_answer,
    collect,
)
from upstream import (
    Reply,
    Upstream,
    answer_events,
    error_event,
    error_reply,
    search_result_citation,
    text_block_start,
    text_delta,
    unused_port_url,
)

from bot import errors
from bot.types import Passage


def test_an_overloaded_api_is_retried_by_the_sdk_and_the_second_answer_is_used(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    api.enqueue(error_reply(529, "overloaded_error", "Overloaded", {"retry-after-ms": "10"}),
                Reply(events=cited_answer()))
    final = backend(max_retries=2).answer(ask(passages))

    assert final.complete and len(final.citations) == 2
    assert [r.headers["x-stainless-retry-count"] for r in api.requests] == ["0", "1"]


def test_an_overloaded_api_after_every_retry_raises_overloaded_error(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    api.enqueue(*[error_reply(503, "api_error", "Unavailable", {"retry-after-ms": "5"})] * 2)
    with pytest.raises(errors.OverloadedError) as caught:
        backend(max_retries=1).answer(ask(passages))

    assert caught.value.status == 503 and "req_test_error" in caught.value.message
    assert len(api.requests) == 2


def test_a_refused_key_names_anthropic_api_key_and_never_shows_the_key(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    api.enqueue(error_reply(401, "authentication_error", f"invalid x-api-key {KEY}"))
    with pytest.raises(errors.AuthenticationError) as caught:
        backend(max_retries=2).answer(ask(passages))

    assert "ANTHROPIC_API_KEY" in caught.value.message
    assert KEY not in caught.value.message and KEY not in repr(caught.value.args)
    assert caught.value.status == 401 and caught.value.request_id == "req_test_error"
    assert len(api.requests) == 1  # a refused key is not retried


def test_rate_limiting_after_the_sdk_retries_raises_with_the_wait_the_api_asked_for(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    limited = error_reply(429, "rate_limit_error", "Slow down",
                          {"retry-after": "7", "retry-after-ms": "10"})
    api.enqueue(limited, limited, limited)
    with pytest.raises(errors.RateLimitedError) as caught:
        backend(max_retries=2).answer(ask(passages))

    assert caught.value.retry_after == 7.0 and "wait 7 seconds and retry" in caught.value.message
    assert len(api.requests) == 3


def test_a_rejected_request_raises_bad_request_with_the_api_reason_and_no_key(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    api.enqueue(error_reply(400, "invalid_request_error", f"messages: bad block (key {KEY})"))
    with pytest.raises(errors.BadRequestError) as caught:
        backend().answer(ask(passages))

    assert "messages: bad block" in caught.value.message and KEY not in caught.value.message
    assert caught.value.status == 400


def test_a_refused_connection_raises_upstream_unavailable(
    passages: tuple[Passage, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", unused_port_url())
    with pytest.raises(errors.UpstreamUnavailableError) as caught:
        backend().answer(ask(passages))

    assert "BOT_BACKEND=offline" in caught.value.message


def test_an_api_that_never_answers_times_out_and_points_at_bot_timeout(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    api.enqueue(Reply(hang=True))
    with pytest.raises(errors.UpstreamUnavailableError) as caught:
        backend(timeout=0.3).answer(ask(passages))

    assert "BOT_TIMEOUT" in caught.value.message


def test_a_stream_dropped_mid_answer_ends_with_the_text_so_far_marked_incomplete(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    # message_start, ping, block start, citation, then "Amazon i", "s invest", "ing $5 b".
    api.enqueue(Reply(events=cited_answer(), cut_after=7))
    snapshots = collect(backend().stream(ask(passages)))

    final = snapshots[-1]
    assert not final.complete
    assert final.text == "Amazon is investing $5 b[1]"
    assert any(w.startswith("The answer was cut short") for w in final.warnings)


def test_an_error_event_mid_answer_ends_the_answer_incomplete_not_complete(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    events = [*cited_answer()[:6], error_event("overloaded_error", "Overloaded")]
    api.enqueue(Reply(events=events))
    final = backend().answer(ask(passages))

    assert not final.complete and final.text.startswith("Amazon is")
    assert any("overloaded" in w for w in final.warnings)


def test_an_error_event_before_any_text_raises_the_mapped_error(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    api.enqueue(Reply(events=[*cited_answer()[:2], error_event("overloaded_error", "Busy")]))
    with pytest.raises(errors.OverloadedError):
        backend().answer(ask(passages))


def test_a_malformed_event_mid_answer_ends_the_answer_incomplete(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    events = [*cited_answer()[:6], ("content_block_delta", "{not json")]
    api.enqueue(Reply(events=events))
    final = backend().answer(ask(passages))

    assert not final.complete and final.text.startswith("Amazon is")


def test_a_stream_that_ends_without_message_stop_is_incomplete(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    api.enqueue(Reply(events=cited_answer()[:-1]))
    final = backend().answer(ask(passages))

    assert not final.complete and len(final.citations) == 2


def test_an_answer_stopped_by_the_token_limit_is_incomplete_and_says_bot_max_tokens(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    api.enqueue(Reply(events=answer_events(
        [("Amazon is investing", [search_result_citation(HAPPENED, FIVE)])],
        stop_reason="max_tokens")))
    final = backend().answer(ask(passages))

    assert not final.complete and any("BOT_MAX_TOKENS" in w for w in final.warnings)


def test_a_connection_dropped_before_any_text_raises_upstream_unavailable(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    events = [*cited_answer()[:2], text_block_start(0), text_delta(0, "Amazon")]
    api.enqueue(Reply(events=events, cut_after=3))
    with pytest.raises(errors.UpstreamUnavailableError):
        backend().answer(ask(passages))
