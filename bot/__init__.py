"""A grounded FAQ bot: answers questions from the documents of a knowledge folder,
citing the exact sentences it quotes.

    from bot import answer
    print(answer("What does the document say about pricing?").text)

The pipeline runs in stages, one subpackage each: `knowledge` (documents into
sections) → `store` (their vectors in Chroma) → `retrieval` (hybrid search) →
`answering` (guard, pipeline, backends) → `presentation` (chat turn, web page);
`measurement` (eval, bench) sits off the serving path.

Importing `bot` is cheap: the embedding model, Chroma and the Anthropic SDK are
loaded on the first call that needs them, and gradio never.
"""

from .answering import AnswerRequest, Backend, answer, get_backend, retrieve, stream_answer
from .errors import (
    AuthenticationError,
    BadRequestError,
    BotError,
    ConfigurationError,
    EmbeddingModelError,
    InvalidArgumentError,
    InvalidHistoryError,
    InvalidQuestionError,
    KnowledgeError,
    MissingAPIKeyError,
    MissingAWSCredentialsError,
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
    "InvalidArgumentError",
    "InvalidHistoryError",
    "InvalidQuestionError",
    "KnowledgeError",
    "MissingAPIKeyError",
    "MissingAWSCredentialsError",
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
