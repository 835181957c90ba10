"""Claude's streamed reply, event by event: its text blocks, their citations, usage.

Each citation Claude returns names a search result (a passage) and a range of its
sentence blocks; it is turned back into a verbatim quote with offsets into the
knowledge file, or dropped (with a log line) when it does not map or its cited
text disagrees with the passage. Its text only ever grows as events arrive: a
block's citation markers are placed when the block ends (see `Reply`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ....types import Citation, Passage, Usage
from .prompt import passage_sentences

log = logging.getLogger(__name__)

FINISHED = ("end_turn", "stop_sequence")


@dataclass
class _Block:
    """One text block of the reply; its markers are placed once it has ended."""

    parts: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # its citations' markers, in order
    ended: bool = False


class Reply:
    """The answer as it streams in: text blocks, their checked citations, usage.

    `render` keeps the stream's contract, that each snapshot's text is a prefix of
    the next: a block's markers go after its text when the block ends
    (content_block_stop, or a later block starting), or when the final snapshot
    closes a block the stream cut short; until then the block's trailing space is
    held back, since its markers will go before it ("billion.[1] ").
    """

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages  # a citation's search_result_index indexes this list
        self.blocks: list[_Block] = []  # in the order they arrived; only the last is open
        self.text_blocks: dict[int, _Block] = {}  # by the stream's index
        self.cited: list[Citation] = []  # numbered by first appearance: [1] is cited[0]
        self.numbers: dict[tuple[str, int, int], int] = {}
        self.usage: Usage | None = None
        self.stop_reason: str | None = None
        self.stopped = False

    @property
    def has_text(self) -> bool:
        return any("".join(block.parts).strip() for block in self.blocks)

    def apply(self, event: Any) -> bool:
        """Take in one stream event; True when the visible answer moved."""
        kind = event.type
        if kind == "message_start":
            self._add_usage(event.message.usage)
        elif kind == "content_block_start":
            self._end_last()
            if event.content_block.type == "text":
                self.text_blocks[event.index] = self._open(event.content_block.text)
            return True
        elif kind == "content_block_delta":
            return self._add_delta(event)
        elif kind == "content_block_stop" and event.index in self.text_blocks:
            self.text_blocks[event.index].ended = True
            return True
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason
            self._add_usage(event.usage)
        elif kind == "message_stop":
            self.stopped = True
        return False

    def _open(self, text: str = "") -> _Block:
        self._end_last()
        block = _Block([text])
        self.blocks.append(block)
        return block

    def _end_last(self) -> None:
        if self.blocks:
            self.blocks[-1].ended = True

    def _add_delta(self, event: Any) -> bool:
        block = self.text_blocks.get(event.index)
        if block is None:
            return False  # a block that is not text (or not begun): nothing to show
        if block.ended:
            # The API never writes to a block after it ends (nor to one before the last);
            # if it did, this would land before markers already shown. It goes on at the
            # end instead, in a block of its own.
            block = self.text_blocks[event.index] = self._open()
        if event.delta.type == "text_delta":
            block.parts.append(event.delta.text)
            return True
        if event.delta.type == "citations_delta":
            if (citation := self._map(event.delta.citation)) is not None:
                key = (citation.passage_id, citation.start, citation.end)
                if key not in self.numbers:
                    self.cited.append(citation)
                    self.numbers[key] = len(self.cited)
                if self.numbers[key] not in block.numbers:
                    block.numbers.append(self.numbers[key])
            return True
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

    def render(self, *, final: bool = False) -> tuple[str, tuple[Citation, ...]]:
        """The text so far with a marker after each ended cited block, and the citations.

        `final`: the stream is over, so a block it cut short ends here too.
        """
        out: list[str] = []
        for block in self.blocks:
            body = "".join(block.parts)
            core = body.rstrip()  # the marker goes before trailing space: "billion.[1] "
            if block.ended or final:
                out.append(core + "".join(f"[{n}]" for n in block.numbers) + body[len(core):])
            else:
                out.append(core)
        return "".join(out), tuple(self.cited)

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
