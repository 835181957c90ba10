"""The one abstract class every answerer subclasses.

A backend turns an `AnswerRequest` (the question, the conversation, the passages
retrieval found) into a stream of `Answer` snapshots; the last one is final.
Class-level flags say what it needs, in the style of simonw/llm.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from ..types import Answer, Passage, Turn

REFUSAL_PREFIX = "The article doesn't say"


@dataclass(frozen=True)
class AnswerRequest:
    question: str
    history: tuple[Turn, ...]
    passages: tuple[Passage, ...]
    warnings: tuple[str, ...] = ()  # carried into every Answer (e.g. degraded retrieval)
    knowledge_version: str | None = None


class Backend(ABC):
    name: ClassVar[str]
    needs_key: ClassVar[bool] = False
    can_stream: ClassVar[bool] = True

    @abstractmethod
    def stream(self, request: AnswerRequest) -> Iterator[Answer]:
        """Yield growing snapshots; the last one is the complete answer."""

    def answer(self, request: AnswerRequest) -> Answer:
        last: Answer | None = None
        for last in self.stream(request):
            pass
        assert last is not None, f"{type(self).__name__}.stream yielded nothing"
        return last
