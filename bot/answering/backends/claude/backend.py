"""The Claude answerer: streams a cited answer from the Messages API.

The passages go out as `search_result` blocks (see `prompt`); `reply.Reply` turns
the streamed events back into text with verbatim, offset-checked citations. The
SDK does the retrying; this module maps what still fails onto the `BotError`
tree, and marks an answer whose stream broke as incomplete.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

import anthropic
import httpx2

from .... import errors
from ....settings import DEFAULT_MODEL, Settings
from ....types import Answer
from ..base import REFUSAL_PREFIX, AnswerRequest, Backend
from .prompt import build_messages, sent_passages, system_blocks
from .reply import Reply
from .waits import MAX_RETRY_WAIT, refuse_long_waits
from .waits import retry_after as retry_after_seconds

log = logging.getLogger(__name__)

MessagesClient = anthropic.Anthropic | anthropic.AnthropicBedrock

UNCITED_WARNING = "Claude's answer cites nothing from the documents; treat it as unverified."
EMPTY_WARNING = "Claude returned an empty answer."


class ClaudeBackend(Backend):
    name: ClassVar[str] = "claude"
    needs_key: ClassVar[bool] = True
    can_stream: ClassVar[bool] = True
    default_model: ClassVar[str | None] = DEFAULT_MODEL
    # What to tell the user when the credentials are refused; a Bedrock subclass says AWS.
    key_hint: ClassVar[str] = "check ANTHROPIC_API_KEY, or run offline with BOT_BACKEND=offline"
    request_id_header: ClassVar[str] = "request-id"  # Bedrock names it x-amzn-RequestId

    def __init__(
        self,
        settings: Settings,
        *,
        client: MessagesClient | None = None,
        http_client: httpx2.Client | None = None,
    ) -> None:
        super().__init__(settings)
        self.client = client if client is not None else self._make_client(http_client)

    def _make_client(self, http_client: httpx2.Client | None) -> MessagesClient:
        """The SDK client, sent to ANTHROPIC_BASE_URL as Settings read it."""
        return anthropic.Anthropic(
            api_key=self.settings.api_key,
            base_url=self.settings.anthropic_base_url,
            timeout=self.settings.timeout,
            max_retries=self.settings.max_retries,
            http_client=self._http_client(http_client),
        )

    def _http_client(self, http_client: httpx2.Client | None) -> httpx2.Client:
        """The HTTP client the SDK sends through, told to give up on waits nobody sits out."""
        if http_client is None:
            http_client = anthropic.DefaultHttpxClient(timeout=self.settings.timeout)
        limit = min(self.settings.timeout, MAX_RETRY_WAIT)
        http_client.event_hooks["response"].append(refuse_long_waits(limit))
        return http_client

    def stream(self, request: AnswerRequest) -> Iterator[Answer]:
        reply = Reply(sent_passages(request.passages))
        request_id: str | None = None
        try:
            with self.client.messages.stream(
                model=self.model,
                max_tokens=self.settings.max_tokens,
                system=system_blocks(request.overview),
                messages=build_messages(request),
            ) as events:
                request_id = events.response.headers.get(self.request_id_header)
                for event in events:
                    if reply.apply(event):
                        yield self._snapshot(request, reply, complete=False)
        except Exception as exc:  # anything that breaks the stream, SDK or transport or parse
            errors.scrub(exc, self.settings.api_key)
            failure = self._map_error(exc, request_id)
            if not reply.has_text:
                raise failure from exc
            log.warning("Claude's stream broke after part of the answer: %s", failure)
            yield self._snapshot(request, reply, complete=False, final=True,
                                 cut=_cut_reason(failure))
            return
        if not reply.stopped and not reply.has_text:
            raise errors.UpstreamUnavailableError(
                "Claude's reply ended before any answer arrived: try again.",
                request_id=request_id,
            )
        cut = reply.unfinished()
        yield self._snapshot(request, reply, complete=cut is None, final=True, cut=cut)

    def _snapshot(
        self, request: AnswerRequest, reply: Reply, *, complete: bool,
        final: bool = False, cut: str | None = None,
    ) -> Answer:
        text, citations = reply.render(final=final)
        # Whatever the upstream wrote (an echoed key included) is redacted here, where
        # the chat, the command line and the API all take it from; a snapshot holds back
        # a tail that could still grow into a secret. Quotes come from the passages.
        text = errors.redact(text, self.settings.api_key, partial=not final)
        refused = text.strip().startswith(REFUSAL_PREFIX)
        warnings = list(request.warnings)
        if cut is not None:
            warnings.append(f"The answer was cut short ({cut}); what is shown is incomplete.")
        if final and not text.strip():
            warnings.append(EMPTY_WARNING)
        elif final and not citations and not refused:
            warnings.append(UNCITED_WARNING)
        return Answer(
            text=text, citations=citations, passages=request.passages, refused=refused,
            backend=self.name, model=self.model, usage=reply.usage, complete=complete,
            warnings=tuple(errors.redact(w, self.settings.api_key) for w in warnings),
            knowledge_version=request.knowledge_version,
        )

    def _map_error(self, exc: Exception, request_id: str | None) -> errors.UpstreamError:
        """The `BotError` that explains `exc` to the user; never contains the key."""
        if isinstance(exc, anthropic.APIStatusError):
            request_id = exc.response.headers.get(self.request_id_header) or request_id
        tail = f" (request id {request_id})" if request_id else ""
        if isinstance(exc, anthropic.APIStatusError):
            return self._map_status(exc, tail, request_id)
        if isinstance(exc, (anthropic.APITimeoutError, httpx2.TimeoutException)):
            return errors.UpstreamUnavailableError(
                f"Claude did not answer within {self.settings.timeout:g} seconds: try again, "
                f"or allow longer with BOT_TIMEOUT.{tail}", request_id=request_id)
        if isinstance(exc, (anthropic.APIConnectionError, httpx2.TransportError)):
            if request_id is not None:  # the reply had begun: Claude was reached
                return errors.UpstreamUnavailableError(
                    f"The connection to Claude broke before the answer arrived: try again.{tail}",
                    request_id=request_id)
            return errors.UpstreamUnavailableError(
                "Could not reach Claude (connection refused or dropped): check the network "
                f"connection, or run offline with BOT_BACKEND=offline.{tail}",
                request_id=request_id)
        log.warning("Unreadable reply from Claude", exc_info=exc)
        return errors.UpstreamError(
            f"Claude's reply could not be read ({type(exc).__name__}): try again.{tail}",
            request_id=request_id)

    def _map_status(
        self, exc: anthropic.APIStatusError, tail: str, request_id: str | None
    ) -> errors.UpstreamError:
        # An `error` event inside a 200 stream carries its kind only in the body.
        status = exc.status_code if exc.status_code >= 400 else None
        kind = self._error_kind(exc)
        if status in (401, 403) or kind in ("authentication_error", "permission_error"):
            return errors.AuthenticationError(
                f"Claude refused the API key: {self.key_hint}.{tail}",
                status=status, request_id=request_id)
        if status == 429 or kind == "rate_limit_error":
            retry_after = retry_after_seconds(exc.response.headers)
            wait = f"wait {retry_after:g} seconds" if retry_after else "wait a minute"
            return errors.RateLimitedError(
                f"Claude is rate-limiting these requests: {wait} and retry.{tail}",
                status=status, request_id=request_id, retry_after=retry_after)
        if (status or 0) >= 500 or kind in ("overloaded_error", "api_error"):
            code = f" (HTTP {status})" if status else ""
            return errors.OverloadedError(
                f"Claude is overloaded or unavailable{code}: try again in a minute.{tail}",
                status=status, request_id=request_id)
        # errors.redact only knows the key from the environment, not one passed in code.
        detail = errors.redact(self._error_detail(exc), self.settings.api_key)
        detail = detail[:300].rstrip(".")
        hint = " The question or conversation is too long." if status == 413 else ""
        return errors.BadRequestError(
            f"Claude rejected the request ({f'HTTP {status}' if status else kind}): "
            f"{detail}.{hint}{tail}", status=status, request_id=request_id)

    def _error_kind(self, exc: anthropic.APIStatusError) -> str:
        """The Messages API's error type, e.g. "overloaded_error"."""
        return exc.type or ""

    def _error_detail(self, exc: anthropic.APIStatusError) -> str:
        return str(exc.api_message or exc.message)


def _cut_reason(failure: errors.UpstreamError) -> str:
    if isinstance(failure, errors.OverloadedError):
        reason = "Claude reported it was overloaded"
    elif isinstance(failure, errors.UpstreamUnavailableError):
        reason = "the connection to Claude broke"
    else:
        reason = "Claude's reply could not be read"
    return f"{reason}, request id {failure.request_id}" if failure.request_id else reason


