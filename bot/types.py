"""The values that cross stage boundaries: passages, citations, usage, answers, and the
evidence retrieval hands an answerer.

All are frozen dataclasses, safe to share between threads and to keep.
Offsets (`start`, `end`) are character offsets into the knowledge file named by
`source`, so `Path(source).read_text()[start:end]` is the quoted text itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

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
    """A verbatim quote of a document that supports part of an answer."""

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
    `refused` is True when the documents say nothing about the question (or it cannot
    be answered here at all); `unsure` is True when the answer shows the closest
    sentences but says the documents don't answer the question directly.
    `complete` is False while streaming and when the upstream stopped mid-answer;
    `warnings` says anything the reader should know (degraded retrieval, an
    ungrounded claim, an answer cut short).
    """

    text: str
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    refused: bool = False
    unsure: bool = False
    backend: str = "offline"
    model: str | None = None
    usage: Usage | None = None
    complete: bool = True
    warnings: tuple[str, ...] = field(default=())
    knowledge_version: str | None = None

    @property
    def grounded(self) -> bool:
        """True when the answer makes claims and every claim block is cited."""
        return bool(self.citations) and not self.refused and not self.unsure


class Vocabulary(Protocol):
    """The knowledge base's words (`bot.retrieval.KnowledgeVocabulary`): which it uses, how
    rare each is there, which one a misspelling means, how close in meaning two are."""

    def idf(self, stem: str) -> float: ...

    def knows(self, stem: str) -> bool: ...

    def closest(self, stem: str) -> str | None: ...

    def related(self, word: str, others: Sequence[str]) -> float: ...

    def align(self, question: str, texts: Sequence[str]) -> list[tuple[float, float]]: ...

    def is_name(self, word: str) -> bool: ...


@dataclass(frozen=True)
class Evidence:
    """What retrieval measured about a question, for an answerer that reads sentences.

    `sentences[passage id][i]` is the embedding model's cosine similarity between the
    question and sentence i of that passage (its `sentence_spans`); `context` is the
    same for a follow-up read together with the question it builds on (`follows`);
    `headings` holds the similarity to a passage's own heading where that heading is a
    question (an FAQ entry); `alignment[passage id][i]` is how well the question's own
    words are matched in sentence i, in context (mean and weakest, 0 to 1). Empty
    mappings when only keywords could be searched.
    """

    vocabulary: Vocabulary
    sentences: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    context: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    headings: Mapping[str, float] = field(default_factory=dict)
    follows: str | None = None
    alignment: Mapping[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)
