"""Test doubles that are real subclasses: a backend with a queue of canned replies."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import ClassVar

from bot.answering import AnswerRequest, Backend
from bot.errors import BotError
from bot.types import Answer


class FakeBackend(Backend):
    """Streams queued replies word by word and records every request it was given.

    A queued reply is a string (streamed as snapshots), an `Answer` (yielded as
    is) or a `BotError` (raised).
    """

    name: ClassVar[str] = "fake"

    def __init__(self, *replies: str | Answer | BotError) -> None:
        super().__init__()
        self.replies: deque[str | Answer | BotError] = deque(replies)
        self.requests: list[AnswerRequest] = []

    def stream(self, request: AnswerRequest) -> Iterator[Answer]:
        self.requests.append(request)
        reply = self.replies.popleft() if self.replies else "No reply queued."
        if isinstance(reply, BotError):
            raise reply
        if isinstance(reply, Answer):
            yield reply
            return
        words = reply.split(" ")
        for n in range(1, len(words) + 1):
            yield Answer(
                text=" ".join(words[:n]),
                passages=request.passages,
                backend=self.name,
                complete=n == len(words),
                warnings=request.warnings,
                knowledge_version=request.knowledge_version,
            )
