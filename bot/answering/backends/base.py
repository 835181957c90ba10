"""The one abstract class every answerer subclasses.

A backend turns an `AnswerRequest` (the question, the conversation, the passages
retrieval found) into a stream of `Answer` snapshots; the last one is final.
Class-level flags say what it needs and does, in the style of simonw/llm:
`needs_key` is checked when the backend is made, `can_stream` tells callers
whether snapshots grow (the command line prints them as they come) or whether
the one snapshot is the whole answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from ...errors import MissingAPIKeyError
from ...knowledge import Overview
from ...settings import Settings, get_settings
from ...types import Answer, Evidence, Passage, Turn

REFUSAL_PREFIX = "I couldn't find that in"


@dataclass(frozen=True)
class AnswerRequest:
    question: str
    history: tuple[Turn, ...]
    passages: tuple[Passage, ...]
    warnings: tuple[str, ...] = ()  # carried into every Answer (e.g. degraded retrieval)
    knowledge_version: str | None = None
    evidence: Evidence | None = None  # what retrieval measured, sentence by sentence
    overview: Overview | None = None  # what the knowledge folder holds, in its own words


class Backend(ABC):
    name: ClassVar[str]
    needs_key: ClassVar[bool] = False  # ANTHROPIC_API_KEY must be set
    can_stream: ClassVar[bool] = True  # snapshots grow as the answer is written
    default_model: ClassVar[str | None] = None  # None: the backend takes no BOT_MODEL

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        if self.needs_key and not self.settings.api_key:
            raise MissingAPIKeyError(self.name)
        self.model: str | None = (
            (self.settings.model or self.default_model) if self.default_model else None
        )

    @abstractmethod
    def stream(self, request: AnswerRequest) -> Iterator[Answer]:
        """Yield growing snapshots; the last one is the complete answer."""

    def answer(self, request: AnswerRequest) -> Answer:
        """The final snapshot of `stream`."""
        return last_snapshot(self.stream(request))


def last_snapshot(snapshots: Iterable[Answer]) -> Answer:
    """Run a stream of snapshots to its end and return the last one."""
    last = deque(snapshots, maxlen=1)
    if not last:
        raise RuntimeError("the backend produced no answer")
    return last[0]
