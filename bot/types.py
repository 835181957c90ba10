"""The values that cross stage boundaries: passages, citations, usage and answers.

All are frozen dataclasses, safe to share between threads and to keep.
Offsets (`start`, `end`) are character offsets into the knowledge file named by
`source`, so `Path(source).read_text()[start:end]` is the quoted text itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    """One validated message of the conversation so far."""

    role: Role
    content: str


@dataclass(frozen=True)
class Passage:
    """A retrieved section of the knowledge base, best first in a result list."""

    id: str  # stable: document slug + heading path
    document: str  # document title
    section: str  # section title (for a Q&A pair, the question)
    text: str  # verbatim section body, == source text[start:end]
    score: float  # higher is better; comparable only within one result list
    source: str = ""  # knowledge file name, relative to the knowledge folder
    start: int = 0
    end: int = 0
    heading_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class Citation:
    """A verbatim quote of the article that supports part of an answer."""

    document: str
    section: str
    quote: str  # == source text[start:end], checked before it is handed out
    start: int
    end: int
    source: str = ""
    passage_id: str = ""


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@dataclass(frozen=True)
class Answer:
    """An answer, or a snapshot of one while it streams.

    `text` carries numbered markers ``[1]`` that refer to `citations[0]`, and so on.
    `complete` is False while streaming and when the upstream stopped mid-answer;
    `warnings` says anything the reader should know (degraded retrieval, an
    ungrounded claim, an answer cut short).
    """

    text: str
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    refused: bool = False
    backend: str = "offline"
    model: str | None = None
    usage: Usage | None = None
    complete: bool = True
    warnings: tuple[str, ...] = field(default=())
    knowledge_version: str | None = None

    @property
    def grounded(self) -> bool:
        """True when the answer makes claims and every claim block is cited."""
        return bool(self.citations) and not self.refused
