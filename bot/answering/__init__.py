"""Stage 4, answering: a checked question and its passages become a cited answer.

- `guard`: cleans and checks questions and history, spots instruction overrides;
- `pipeline`: `answer`, `stream_answer`, `retrieve`: guard → retrieval → backend;
- `backends`: the abstract `Backend`; offline, Claude (with its prompt) and Bedrock.
"""

from .backends import NAMES, REFUSAL_PREFIX, AnswerRequest, Backend, backend_class
from .guard import clean_text, looks_like_injection, validate_history, validate_question
from .pipeline import MODES, answer, get_backend, reset_backends, retrieve, stream_answer

__all__ = [
    "MODES",
    "NAMES",
    "REFUSAL_PREFIX",
    "AnswerRequest",
    "Backend",
    "answer",
    "backend_class",
    "clean_text",
    "get_backend",
    "looks_like_injection",
    "reset_backends",
    "retrieve",
    "stream_answer",
    "validate_history",
    "validate_question",
]
