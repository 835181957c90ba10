"""Claude on Amazon Bedrock, driven through the real SDK against a loopback stand-in of
Bedrock's runtime API, reached through ANTHROPIC_BEDROCK_BASE_URL."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import anthropic
import pytest
from bedrock_upstream import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    BedrockUpstream,
    bedrock_error,
    chunk_frame,
    encode_frame,
    exception_frame,
)
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from claude_case import ARTICLE, FIVE, HAPPENED, NUMBERS, TWENTY, cited_answer
from upstream import Reply, Upstream, answer_events, search_result_citation

from bot import errors
from bot.answering import AnswerRequest, answer, reset_backends
from bot.answering.backends.claude import BedrockBackend, ClaudeBackend
from bot.settings import DEFAULT_BEDROCK_MODEL, Settings, reset_settings
from bot.types import Answer, Passage

MODEL = "eu.anthropic.claude-sonnet-5-5"
TOKEN = "bedrock-api-key-test-5d1e9a"


def backend(max_retries: int = 0, **changes: object) -> BedrockBackend:
    settings = Settings.from_env(backend="bedrock", model=MODEL, timeout=5.0,
                                 max_retries=max_retries, max_tokens=300)
    return BedrockBackend(settings.with_changes(**changes))


def ask(passages: tuple[Passage, ...], question: str = "How much is Amazon investing?"
        ) -> AnswerRequest:
    return AnswerRequest(question, (), passages, knowledge_version="kv-1")


def test_a_bedrock_answer_streams_snapshot_for_snapshot_as_the_anthropic_api_does(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    bedrock.enqueue(Reply(events=cited_answer()))
    on_bedrock = list(backend().stream(ask(passages)))
    with Upstream() as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        api.enqueue(Reply(events=cited_answer()))
        direct = ClaudeBackend(Settings.from_env(backend="claude", api_key="k" * 12,
                                                 model=MODEL, max_retries=0)).stream(ask(passages))
        on_api = list(direct)

    def seen(snapshots: list[Answer]) -> list[tuple]:
        return [(s.text, s.citations, s.complete, s.warnings, s.usage) for s in snapshots]

    assert len(on_bedrock) > 5 and seen(on_bedrock) == seen(on_api)
    final = on_bedrock[-1]
    assert [c.quote for c in final.citations] == [FIVE, TWENTY]
    assert all(ARTICLE[c.start:c.end] == c.quote for c in final.citations)
    assert (final.backend, final.model, final.knowledge_version) == ("bedrock", MODEL, "kv-1")


def test_the_request_is_a_sigv4_signed_invoke_with_response_stream_for_the_region(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...]
) -> None:
    backend().answer(ask(passages))

    (request,) = bedrock.requests
    assert request.path == f"/model/{MODEL}/invoke-with-response-stream"
    signature = request.headers["authorization"]
    assert signature.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    assert f"/{REGION}/bedrock/aws4_request" in signature
    assert SECRET_KEY not in json.dumps(request.headers)
    body = request.body
    assert "model" not in body and "stream" not in body and body["anthropic_version"]
    results = body["messages"][-1]["content"][:-1]
    assert [r["source"] for r in results] == [HAPPENED, NUMBERS]
    assert all(r["citations"] == {"enabled": True} for r in results)


def test_without_bot_model_the_current_default_inference_profile_is_invoked(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...]
) -> None:
    final = backend(model=None).answer(ask(passages))

    assert bedrock.requests[0].path == f"/model/{DEFAULT_BEDROCK_MODEL}/invoke-with-response-stream"
    assert final.model == DEFAULT_BEDROCK_MODEL
    assert re.fullmatch(r"(global|us|eu|apac|jp|au)\.anthropic\.claude-[a-z0-9-]+",
                        DEFAULT_BEDROCK_MODEL)


def test_a_bedrock_api_key_is_sent_as_a_bearer_token_instead_of_a_signature(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...]
) -> None:
    backend(aws_bearer_token=TOKEN).answer(ask(passages))

    assert bedrock.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_without_aws_credentials_the_error_names_what_to_set_and_the_offline_fallback(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(errors.MissingAPIKeyError) as caught:
        backend()

    message = caught.value.message
    for needed in ("AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_BEARER_TOKEN_BEDROCK",
                   "BOT_BACKEND=offline"):
        assert needed in message


def test_without_a_region_the_error_says_so_even_with_credentials(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(errors.MissingAWSCredentialsError, match=r"no AWS region.*AWS_REGION"):
        backend(aws_region=None)


def test_throttling_after_the_sdk_retries_is_rate_limited_with_bedrocks_request_id(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...]
) -> None:
    bedrock.enqueue(*[bedrock_error(429, "ThrottlingException", "Too many requests",
                                    request_id="amzn-req-7")] * 2)
    with pytest.raises(errors.RateLimitedError) as caught:
        backend(max_retries=1).answer(ask(passages))

    assert caught.value.request_id == "amzn-req-7" and "amzn-req-7" in caught.value.message
    assert len(bedrock.requests) == 2


def test_throttling_that_asks_for_an_hours_wait_is_reported_at_once_not_slept_on(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...]
) -> None:
    throttled = bedrock_error(429, "ThrottlingException", "Slow down")
    throttled.headers["retry-after"] = "3600"
    bedrock.enqueue(throttled, throttled)
    with pytest.raises(errors.RateLimitedError) as caught:
        backend(max_retries=2).answer(ask(passages))

    assert len(bedrock.requests) == 1  # the SDK was told not to retry into an hour's wait
    assert caught.value.retry_after == 3600


def test_refused_aws_credentials_point_at_aws_settings_not_the_anthropic_key(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...]
) -> None:
    denied = "You don't have access to the model with the specified model ID."
    bedrock.enqueue(bedrock_error(403, "AccessDeniedException", denied))
    with pytest.raises(errors.AuthenticationError) as caught:
        backend(max_retries=2).answer(ask(passages))

    assert "AWS_ACCESS_KEY_ID" in caught.value.message and "BOT_MODEL" in caught.value.message
    assert "ANTHROPIC_API_KEY" not in caught.value.message
    assert len(bedrock.requests) == 1


def test_an_unknown_model_id_is_a_bad_request_that_points_at_bot_model(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...]
) -> None:
    bedrock.enqueue(bedrock_error(400, "ValidationException",
                                  "The provided model identifier is invalid."))
    with pytest.raises(errors.BadRequestError) as caught:
        backend().answer(ask(passages))

    assert "The provided model identifier is invalid" in caught.value.message
    assert "Check BOT_MODEL" in caught.value.message and caught.value.status == 400


def test_an_unavailable_service_after_every_retry_is_overloaded(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...]
) -> None:
    bedrock.enqueue(*[bedrock_error(503, "ServiceUnavailableException", "Try later")] * 2)
    with pytest.raises(errors.OverloadedError):
        backend(max_retries=1).answer(ask(passages))


def test_an_exception_frame_mid_answer_ends_it_incomplete_with_the_text_so_far(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...]
) -> None:
    events = [*cited_answer()[:6], exception_frame("modelStreamErrorException", "Stream broke")]
    bedrock.enqueue(Reply(events=events))
    final = backend().answer(ask(passages))

    assert not final.complete and final.text.startswith("Amazon is")
    assert any(w.startswith("The answer was cut short") for w in final.warnings)


def test_a_throttling_frame_before_any_text_raises_rate_limited(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...]
) -> None:
    bedrock.enqueue(Reply(events=[*cited_answer()[:2], exception_frame("throttlingException")]))
    with pytest.raises(errors.RateLimitedError):
        backend().answer(ask(passages))


def test_a_stream_dropped_mid_frame_ends_the_answer_incomplete(
    bedrock: BedrockUpstream, passages: tuple[Passage, ...]
) -> None:
    bedrock.enqueue(Reply(events=cited_answer(), cut_after=7))
    final = backend().answer(ask(passages))

    assert not final.complete and final.text == "Amazon is investing $5 b[1]"


def test_the_invoke_path_returns_the_whole_message_the_stream_adds_up_to(
    bedrock: BedrockUpstream,
) -> None:
    cite = search_result_citation(HAPPENED, FIVE)
    events = answer_events([("Amazon is investing $5 billion.", [cite])])
    bedrock.enqueue(Reply(events=events))
    client = anthropic.AnthropicBedrock(aws_region=REGION, max_retries=0)
    message = client.messages.create(model=MODEL, max_tokens=50,
                                     messages=[{"role": "user", "content": "How much?"}])

    assert bedrock.requests[0].path == f"/model/{MODEL}/invoke"
    (block,) = message.content
    assert block.text == "Amazon is investing $5 billion."
    assert block.citations[0].cited_text == FIVE and message.stop_reason == "end_turn"


def test_the_stand_ins_frames_are_what_botocores_event_stream_parser_reads() -> None:
    event = {"type": "content_block_delta", "index": 0,
             "delta": {"type": "text_delta", "text": "Grüße, $5 billion"}}
    exception = {":message-type": "exception", ":exception-type": "throttlingException"}
    frames = chunk_frame(event) + encode_frame(exception, b'{"message": "x"}')
    buffer = EventStreamBuffer()
    for byte in range(0, len(frames), 7):  # arriving in small pieces
        buffer.add_data(frames[byte:byte + 7])
    chunk, thrown = list(buffer)

    assert chunk.headers[":event-type"] == "chunk"
    assert json.loads(base64.b64decode(json.loads(chunk.payload)["bytes"])) == event
    assert thrown.to_response_dict()["status_code"] == 400
    corrupted = bytearray(chunk_frame(event))
    corrupted[-1] ^= 0xFF
    broken = EventStreamBuffer()
    broken.add_data(bytes(corrupted))
    with pytest.raises(ChecksumMismatch):
        list(broken)


@pytest.mark.slow
def test_bot_backend_bedrock_answers_from_the_knowledge_folder_with_verbatim_citations(
    bedrock: BedrockUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_BACKEND", "bedrock")
    monkeypatch.setenv("BOT_MODEL", MODEL)
    reset_settings()
    reset_backends()
    try:
        final = answer("How much is Amazon investing in Anthropic?")
    finally:
        reset_settings()
        reset_backends()

    assert final.backend == "bedrock" and final.complete and final.knowledge_version
    (citation,) = final.citations
    folder = Path(__file__).resolve().parent.parent / "knowledge"
    assert (folder / citation.source).read_text(encoding="utf-8")[
        citation.start:citation.end] == citation.quote
    assert bedrock.requests[0].path == f"/model/{MODEL}/invoke-with-response-stream"
