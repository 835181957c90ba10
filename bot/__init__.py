"""A grounded FAQ bot for one news article: Amazon's new investment in Anthropic.

    from bot import answer
    print(answer("How much is Amazon investing in Anthropic?").text)

Importing `bot` is cheap: the embedding model, Chroma and the Anthropic SDK are
loaded on the first call that needs them, and gradio never.
"""

from .answering import answer, get_backend, retrieve, stream_answer
from .backends.base import AnswerRequest, Backend
from .errors import (
    AuthenticationError,
    BadRequestError,
    BotError,
    ConfigurationError,
    EmbeddingModelError,
    InvalidHistoryError,
    InvalidQuestionError,
    KnowledgeError,
    MissingAPIKeyError,
    OverloadedError,
    RateLimitedError,
    StoreError,
    UpstreamError,
    UpstreamUnavailableError,
)
from .settings import Settings, get_settings, reset_settings
from .types import Answer, Citation, Passage, Turn, Usage

__all__ = [
    "Answer",
    "AnswerRequest",
    "AuthenticationError",
    "Backend",
    "BadRequestError",
    "BotError",
    "Citation",
    "ConfigurationError",
    "EmbeddingModelError",
    "InvalidHistoryError",
    "InvalidQuestionError",
    "KnowledgeError",
    "MissingAPIKeyError",
    "OverloadedError",
    "Passage",
    "RateLimitedError",
    "Settings",
    "StoreError",
    "Turn",
    "UpstreamError",
    "UpstreamUnavailableError",
    "Usage",
    "answer",
    "get_backend",
    "get_settings",
    "reset_settings",
    "retrieve",
    "stream_answer",
]
