"""The one pipeline every caller runs: guard → retrieval → backend.

`retrieve`, `stream_answer` and `answer` check their input (guard), find passages
(retrieval) and hand them to a backend. Each takes what it runs on as arguments,
the way httpx's `Client` takes a transport: `settings` (default: read from the
environment), `retriever` (default: the shared one for the settings' knowledge
folder) and `backend` (a name, or a `Backend` instance; default: BOT_BACKEND). The
app, `python -m bot eval` and the tests all come through here. Backends are made
once per settings and shared between threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import BotError, InvalidArgumentError
from ..settings import Settings, get_settings
from ..types import Answer, Passage, Turn
from .backends import AnswerRequest, Backend, backend_class, last_snapshot, resolve_name
from .guard import validate_history, validate_question

if TYPE_CHECKING:
    from ..retrieval import Retrieval

log = logging.getLogger("bot")

MODES = ("hybrid", "dense", "bm25")


class Searcher(Protocol):
    """What the pipeline needs of a retriever (`bot.retrieval.Retriever` is one)."""

    def retrieve(
        self, question: str, k: int = 4, history: Sequence[Turn] = (), mode: str = "hybrid"
    ) -> Retrieval: ...


_backends: dict[tuple[str, Settings], Backend] = {}
_backends_lock = threading.Lock()


def get_backend(name: str | None = None, settings: Settings | None = None) -> Backend:
    """The shared backend for `name` (default: the configured one) and these settings."""
    settings = settings or get_settings()
    resolved = resolve_name(settings, name)
    key = (resolved, settings)
    with _backends_lock:
        if key not in _backends:
            _backends[key] = backend_class(resolved)(settings)
        return _backends[key]


def reset_backends() -> None:
    with _backends_lock:
        _backends.clear()


def shared_retriever(settings: Settings) -> Searcher:
    """The process-wide retriever for the settings' knowledge folder."""
    from ..retrieval import get_retriever  # loads numpy, bm25s and Chroma: only when asked

    return get_retriever(settings)


def _count(k: Any, default: int) -> int:
    if k is None:
        return default
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidArgumentError(
            f"k must be a whole number of passages, 1 or more, not {k!r}.", argument="k"
        )
    return k


def _mode(mode: Any) -> str:
    if mode not in MODES:
        raise InvalidArgumentError(
            f"mode must be one of {', '.join(MODES)}, not {mode!r}.", argument="mode"
        )
    return str(mode)


def retrieve(
    question: str,
    k: int | None = None,
    *,
    history: list[dict] | None = None,
    settings: Settings | None = None,
    retriever: Searcher | None = None,
    mode: str = "hybrid",
) -> list[Passage]:
    """The `k` passages (default BOT_TOP_K) that best match `question`, best first."""
    settings = settings or get_settings()
    count, chosen = _count(k, settings.top_k), _mode(mode)
    cleaned = validate_question(question, settings)
    turns = validate_history(history, settings)
    searcher = retriever or shared_retriever(settings)
    return list(searcher.retrieve(cleaned, k=count, history=turns, mode=chosen).passages)


def stream_answer(
    question: str,
    history: list[dict] | None = None,
    *,
    backend: str | Backend | None = None,
    settings: Settings | None = None,
    retriever: Searcher | None = None,
    mode: str = "hybrid",
) -> Iterator[Answer]:
    """Yield `Answer` snapshots as the answer grows; the last one is complete.

    Bad input raises `InvalidQuestionError` / `InvalidHistoryError` here, at the
    call, before any work; upstream faults raise `UpstreamError` subclasses
    while iterating.
    """
    settings = settings or get_settings()
    chosen = _mode(mode)
    cleaned = validate_question(question, settings)
    turns = validate_history(history, settings)
    answerer = backend if isinstance(backend, Backend) else get_backend(backend, settings)
    return _run(answerer, cleaned, turns, settings, retriever, chosen)


def answer(
    question: str,
    history: list[dict] | None = None,
    *,
    backend: str | Backend | None = None,
    settings: Settings | None = None,
    retriever: Searcher | None = None,
    mode: str = "hybrid",
) -> Answer:
    """The complete answer to `question`, with its citations."""
    return last_snapshot(
        stream_answer(
            question, history, backend=backend, settings=settings, retriever=retriever,
            mode=mode,
        )
    )


def _run(
    backend: Backend,
    question: str,
    turns: tuple[Turn, ...],
    settings: Settings,
    retriever: Searcher | None,
    mode: str,
) -> Iterator[Answer]:
    started = time.perf_counter()
    searcher = retriever or shared_retriever(settings)
    retrieval = searcher.retrieve(question, k=settings.top_k, history=turns, mode=mode)
    request = AnswerRequest(
        question=question,
        history=turns,
        passages=retrieval.passages,
        warnings=retrieval.warnings,
        knowledge_version=retrieval.knowledge_version,
        evidence=retrieval.evidence,
        overview=retrieval.overview,
    )
    retrieved = time.perf_counter()
    last: Answer | None = None
    try:
        for last in backend.stream(request):
            yield last
    except BotError as error:
        # The error's class says what failed; its message may quote the question.
        log.info(
            "failed backend=%s question_chars=%d history_turns=%d total_ms=%.1f error=%s",
            backend.name,
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
            backend.name,
            len(question),
            len(turns),
            (retrieved - started) * 1000,
            (time.perf_counter() - started) * 1000,
            len(last.citations),
            last.refused,
            last.complete,
        )
