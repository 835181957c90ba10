"""Answerers: the abstract `Backend` and its Claude and offline subclasses."""

from .base import REFUSAL_PREFIX, AnswerRequest, Backend

__all__ = ["REFUSAL_PREFIX", "AnswerRequest", "Backend"]
