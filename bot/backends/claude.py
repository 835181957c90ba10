"""The Claude answerer: streams a cited answer from the Messages API.

The passages go out as `search_result` blocks (see `bot.prompt`); each citation
Claude returns names a passage and a range of its sentences, and is turned back
into a verbatim quote with offsets into the knowledge file. A citation that does
not map, or whose cited text disagrees with the passage, is dropped rather than
shown. The SDK does the retrying; this module maps what still fails onto the
`BotError` tree, and marks an answer whose stream broke as incomplete.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar

import anthropic
import httpx2

from .. import errors
from ..prompt import build_messages, passage_sentences, sent_passages, system_blocks
from ..settings import DEFAULT_MODEL, Settings
from ..types import Answer, Citation, Passage, Usage
from . import waits
from .base import REFUSAL_PREFIX, AnswerRequest, Backend

log = logging.getLogger(__name__)

MessagesClient = anthropic.Anthropic | anthropic.AnthropicBedrock

UNCITED_WARNING = "Claude's answer cites nothing from the article; treat it as unverified."
EMPTY_WARNING = "Claude returned an empty answer."
FINISHED = ("end_turn", "stop_sequence")


class ClaudeBackend(Backend):
    name: ClassVar[str] = "claude"
    needs_key: ClassVar[bool] = True
    can_stream: ClassVar[bool] = True
    default_model: ClassVar[str] = DEFAULT_MODEL
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
        # Set directly rather than through Backend.__init__, whose signature is still settling.
        self.settings = settings
        self.model = settings.model or self.default_model
        self.client = client if client is not None else self._make_client(http_client)

    def _make_client(self, http_client: httpx2.Client | None) -> MessagesClient:
        """The SDK client; the base URL is left to the SDK, which honours ANTHROPIC_BASE_URL."""
        if not self.settings.api_key:
            raise errors.MissingAPIKeyError(self.name)
        return anthropic.Anthropic(
            api_key=self.settings.api_key,
            timeout=self.settings.timeout,
            max_retries=self.settings.max_retries,
            http_client=self._http_client(http_client),
        )

    def _http_client(self, http_client: httpx2.Client | None) -> httpx2.Client:
        """The HTTP client the SDK sends through, told to give up on waits nobody sits out."""
        if http_client is None:
            http_client = anthropic.DefaultHttpxClient(timeout=self.settings.timeout)
        limit = min(self.settings.timeout, waits.MAX_RETRY_WAIT)
        http_client.event_hooks["response"].append(waits.refuse_long_waits(limit))
        return http_client

    def stream(self, request: AnswerRequest) -> Iterator[Answer]:
        reply = _Reply(sent_passages(request.passages))
        request_id: str | None = None
        try:
            with self.client.messages.stream(
                model=self.model,
                max_tokens=self.settings.max_tokens,
                system=system_blocks(),
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
        self, request: AnswerRequest, reply: _Reply, *, complete: bool,
        final: bool = False, cut: str | None = None,
    ) -> Answer:
        text, citations = reply.render()
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
            warnings=tuple(warnings), knowledge_version=request.knowledge_version,
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
            retry_after = waits.retry_after(exc.response.headers)
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


class _Reply:
    """The answer as it streams in: text blocks, their checked citations, usage."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages  # a citation's search_result_index indexes this list
        self.blocks: dict[int, tuple[list[str], list[Citation]]] = {}
        self.usage: Usage | None = None
        self.stop_reason: str | None = None
        self.stopped = False

    @property
    def has_text(self) -> bool:
        return any("".join(parts).strip() for parts, _ in self.blocks.values())

    def apply(self, event: Any) -> bool:
        """Take in one stream event; True when the visible answer moved."""
        kind = event.type
        if kind == "message_start":
            self._add_usage(event.message.usage)
        elif kind == "content_block_start" and event.content_block.type == "text":
            self.blocks[event.index] = ([event.content_block.text], [])
        elif kind == "content_block_delta" and event.index in self.blocks:
            parts, citations = self.blocks[event.index]
            if event.delta.type == "text_delta":
                parts.append(event.delta.text)
                return True
            if event.delta.type == "citations_delta":
                if (citation := self._map(event.delta.citation)) is not None:
                    citations.append(citation)
                return True
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason
            self._add_usage(event.usage)
        elif kind == "message_stop":
            self.stopped = True
        return False

    def unfinished(self) -> str | None:
        """Why the answer is incomplete, or None when Claude finished it."""
        if not self.stopped:
            return "Claude's reply ended early"
        if self.stop_reason == "max_tokens":
            return "it reached the length limit; raise BOT_MAX_TOKENS"
        return None if self.stop_reason in FINISHED else f"Claude stopped: {self.stop_reason}"

    def _add_usage(self, usage: Any) -> None:
        # message_delta counts are cumulative, and may leave out the input side.
        old = self.usage or Usage()
        self.usage = Usage(**{
            name: getattr(old, name) if getattr(usage, name, None) is None else getattr(usage, name)
            for name in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                         "cache_read_input_tokens")})

    def render(self) -> tuple[str, tuple[Citation, ...]]:
        """Text with a marker after each cited block; markers numbered by first appearance."""
        numbers: dict[tuple[str, int, int], int] = {}
        cited: list[Citation] = []
        out: list[str] = []
        for index in sorted(self.blocks):
            parts, citations = self.blocks[index]
            body = "".join(parts)
            markers: list[int] = []
            for citation in citations:
                key = (citation.passage_id, citation.start, citation.end)
                if key not in numbers:
                    cited.append(citation)
                    numbers[key] = len(cited)
                if numbers[key] not in markers:
                    markers.append(numbers[key])
            core = body.rstrip()  # the marker goes before trailing space: "billion.[1] "
            out.append(core + "".join(f"[{n}]" for n in markers) + body[len(core):])
        return "".join(out), tuple(cited)

    def _map(self, raw: Any) -> Citation | None:
        kind = getattr(raw, "type", None)
        if kind == "search_result_location":
            index = getattr(raw, "search_result_index", None)
            passage = self._passage(index)
            if passage is None or getattr(raw, "source", None) != passage.id:
                return _drop(f"search result {index} is not a passage that was sent")
            spans = passage_sentences(passage)
            blocks = _range(raw, "start_block_index", "end_block_index", len(spans))
            if blocks is None:
                return _drop(f"the cited blocks are outside passage {passage.id}")
            local = (spans[blocks[0]][0], spans[blocks[1] - 1][1])
        elif kind == "char_location":
            index = getattr(raw, "document_index", None)
            passage = self._passage(index)
            if passage is None:
                return _drop(f"document {index} is not a passage that was sent")
            local = _range(raw, "start_char_index", "end_char_index", len(passage.text))
            if local is None:
                return _drop(f"the cited characters are outside passage {passage.id}")
        else:
            return _drop(f"citation type {kind!r} is not supported")
        quote = passage.text[local[0]:local[1]]
        if _squash(quote) != _squash(getattr(raw, "cited_text", "")):
            return _drop(f"cited text does not match passage {passage.id}")
        return Citation(
            document=passage.document, section=passage.section, quote=quote,
            start=passage.start + local[0], end=passage.start + local[1],
            source=passage.source, passage_id=passage.id,
        )

    def _passage(self, index: Any) -> Passage | None:
        ok = isinstance(index, int) and 0 <= index < len(self.passages)
        return self.passages[index] if ok else None


def _range(raw: Any, first_name: str, stop_name: str, limit: int) -> tuple[int, int] | None:
    """The [first, stop) range `raw` names, if it is a non-empty range within `limit`."""
    first, stop = getattr(raw, first_name, None), getattr(raw, stop_name, None)
    if isinstance(first, int) and isinstance(stop, int) and 0 <= first < stop <= limit:
        return first, stop
    return None


def _squash(text: Any) -> str:
    """Text with all whitespace removed: the API may join sentence blocks differently."""
    return "".join(str(text).split())


def _drop(reason: str) -> None:
    log.warning("Dropped a citation from Claude: %s", reason)
    return None
