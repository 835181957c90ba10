"""Follow-up questions: what earlier turn of the conversation a question builds on."""

from __future__ import annotations

from collections.abc import Sequence

from ..types import Turn


def previous_question(history: Sequence[Turn], question: str) -> str | None:
    """The latest earlier user question, skipping a copy of the current one."""
    for turn in reversed(history):
        earlier = turn.content.strip()
        if turn.role == "user" and earlier and earlier != question.strip():
            return earlier
    return None


