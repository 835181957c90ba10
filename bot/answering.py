"""The public entry points: `retrieve`, `answer` and `stream_answer`.

Each call checks its input (guard), finds passages (retrieval), picks a
backend (the argument, else BOT_BACKEND, else Claude when ANTHROPIC_API_KEY is
set and offline otherwise) and hands over. Backends are created once per
settings and shared between threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from .backends.base import AnswerRequest, Backend, last_snapshot
from .errors import BotError, ConfigurationError
from .guard import validate_history, validate_question
from .settings import BACKENDS, Settings, get_settings
from .types import Answer, Passage

log = logging.getLogger("bot")

_backends: dict[tuple[str, Settings], Backend] = {}
_backends_lock = threading.Lock()


def backend_class(name: str) -> type[Backend]:
    """The class behind a resolved backend name; imports only what that backend needs."""
    if name == "offline":
        from .backends.offline import OfflineBackend

        return OfflineBackend
    if name == "claude":
        from .backends.claude import ClaudeBackend

        return ClaudeBackend
    if name == "bedrock":
        from .backends.bedrock import BedrockBackend

        return BedrockBackend
    raise ConfigurationError(
        f"Unknown backend {name!r}: choose one of {', '.join(BACKENDS)}.", setting="BOT_BACKEND"
    )


def get_backend(name: str | None = None, settings: Settings | None = None) -> Backend:
    """The shared backend instance for `name` (default: the configured one)."""
    settings = settings or get_settings()
    if name is not None:
        settings = settings.with_changes(backend=name.lower())
        settings.check()
    resolved = settings.resolved_backend()
    key = (resolved, settings)
    with _backends_lock:
        if key not in _backends:
            cls = backend_class(resolved)
            _backends[key] = cls(settings)
        return _backends[key]


def reset_backends() -> None:
    with _backends_lock:
        _backends.clear()


def get_retriever(settings: Settings):
    from .retrieval import get_retriever as shared_retriever

    return shared_retriever(settings)


def retrieve(question: str, k: int = 4) -> list[Passage]:
    """The `k` passages of the knowledge base that best match `question`, best first."""
    settings = get_settings()
    question = validate_question(question, settings)
    return list(get_retriever(settings).retrieve(question, k=k).passages)


def stream_answer(
    question: str, history: list[dict] | None = None, *, backend: str | None = None
) -> Iterator[Answer]:
    """Yield `Answer` snapshots as the answer grows; the last one is complete.

    Bad input raises `InvalidQuestionError` / `InvalidHistoryError` here, at the
    call, before any work; upstream faults raise `UpstreamError` subclasses
    while iterating.
    """
    settings = get_settings()
    cleaned = validate_question(question, settings)
    turns = validate_history(history, settings)
    chosen = get_backend(backend, settings)
    return _stream(chosen, cleaned, turns, settings)


def _stream(chosen: Backend, question: str, turns: tuple, settings: Settings) -> Iterator[Answer]:
    started = time.perf_counter()
    retrieval = get_retriever(settings).retrieve(question, k=settings.top_k, history=turns)
    request = AnswerRequest(
        question=question,
        history=turns,
        passages=retrieval.passages,
        warnings=retrieval.warnings,
        knowledge_version=retrieval.knowledge_version,
    )
    retrieved = time.perf_counter()
    last: Answer | None = None
    try:
        for last in chosen.stream(request):
            yield last
    except BotError as error:
        # The error's class says what failed; its message may quote the question.
        log.info(
            "failed backend=%s question_chars=%d history_turns=%d total_ms=%.1f error=%s",
            chosen.name,
            len(question),
            len(turns),
            (time.perf_counter() - started) * 1000,
            type(error).__name__,
        )
        raise
    if last is not None:
        # Lengths and timings only: questions and answers may be personal.
        log.info(
            "answered backend=%s question_chars=%d history_turns=%d retrieve_ms=%.1f "
            "total_ms=%.1f citations=%d refused=%s complete=%s",
            chosen.name,
            len(question),
            len(turns),
            (retrieved - started) * 1000,
            (time.perf_counter() - started) * 1000,
            len(last.citations),
            last.refused,
            last.complete,
        )


def answer(
    question: str, history: list[dict] | None = None, *, backend: str | None = None
) -> Answer:
    """The complete answer to `question`, with its citations."""
    return last_snapshot(stream_answer(question, history, backend=backend))
