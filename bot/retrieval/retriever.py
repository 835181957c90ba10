"""Finds the sections of the knowledge base that answer a question.

Hybrid search: a dense ranking from Chroma (all-MiniLM-L6-v2 vectors) and a BM25
keyword ranking, fused by reciprocal rank fusion. A follow-up question is also
searched together with the previous user question, at a lower weight, so "And in
which years?" finds what the conversation was about. Without the embedding model
the retriever falls back to BM25 alone and says so in every result.

Everything that does not depend on the question (sections, BM25 index, model,
Chroma collection) is built once in `Retriever.open`; `retrieve` only reads, so
one retriever serves many threads. The one exception: a collection that vanished
from a shared Chroma server is rebuilt (under the sync lock) and the search retried.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import EmbeddingModelError, StoreError
from ..knowledge import (
    Knowledge,
    Overview,
    Section,
    folder_state,
    knowledge_version,
    load_knowledge,
    overview,
)
from ..settings import Settings
from ..store import (
    Embedder,
    MissingCollectionError,
    Progress,
    Rebuilder,
    SectionStore,
    SyncReport,
    open_index,
)
from ..types import Evidence, Passage, Turn
from .evidence import Reader
from .followups import follows_from
from .fusion import fuse
from .keywords import KeywordIndex
from .vocabulary import KnowledgeVocabulary

log = logging.getLogger(__name__)

CANDIDATE_DEPTH = 20  # ranks taken from each list before fusion
FOLLOW_UP_WEIGHT = 0.5  # a follow-up alone counts half as much as read with the earlier one
RERANK_DEPTH = 6  # candidates measured sentence by sentence and ranked by their best one

@dataclass(frozen=True)
class Retrieval:
    passages: tuple[Passage, ...]  # best first
    warnings: tuple[str, ...]
    knowledge_version: str
    dense: dict[str, float] = field(default_factory=dict)  # cosine similarity per candidate
    evidence: Evidence | None = None  # sentence by sentence, for the offline answerer
    overview: Overview | None = None  # what the knowledge folder holds


class Retriever:
    """Hybrid dense + keyword search over one knowledge folder."""

    def __init__(
        self,
        sections: Sequence[Section],
        *,
        store: SectionStore | None = None,
        embedder: Embedder | None = None,
        warnings: Sequence[str] = (),
        sync_report: SyncReport | None = None,
        folder: tuple[tuple[str, str], ...] = (),
        settings: Settings | None = None,
        summary: Overview | None = None,
    ) -> None:
        """`settings`, when given, let the retriever rebuild its index should it break."""
        if (store is None) != (embedder is None):
            raise ValueError("dense search needs both a store and an embedder")
        self.sections = tuple(sections)
        # What the folder is about, for the page, the refusal and Claude's prompt.
        self.overview = summary or overview(Knowledge.of(self.sections))
        self.sections_by_id = {section.id: section for section in self.sections}
        self._order = {section.id: i for i, section in enumerate(self.sections)}
        self.knowledge_version = knowledge_version(list(self.sections))
        self.warnings = tuple(warnings)
        self.sync_report = sync_report or SyncReport(embedded=0, unchanged=0, deleted=0)
        self.folder = folder  # the knowledge files as they were when loaded
        self._store = store
        self._embedder = embedder
        self._keywords = KeywordIndex(self.sections)
        self.vocabulary = KnowledgeVocabulary(self._keywords, embedder, self.sections)
        self._reader = Reader(self.sections_by_id, store, embedder, self.vocabulary)
        self._rebuild_lock = threading.Lock()
        self._rebuilder = None
        if settings is not None and embedder is not None:
            self._rebuilder = Rebuilder(settings, self.sections, lambda: embedder)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        embedder: Embedder | None = None,
    ) -> Retriever:
        """Load the knowledge folder, bring its index up to date, build the BM25 index.
        `embedder` saves loading the model again when a retriever is reopened."""
        folder = folder_state(Path(settings.knowledge_dir))
        knowledge = load_knowledge(Path(settings.knowledge_dir))
        sections, summary = knowledge.sections, overview(knowledge)
        try:
            model = embedder or Embedder.from_settings(settings)
        except EmbeddingModelError as error:
            # The error's own message names BOT_EMBEDDING_MODEL_DIR and the fix.
            warning = f"Answers use keyword search only; semantic search is unavailable: {error}"
            log.warning("%s", warning)
            return cls(sections, warnings=(*knowledge.skipped, warning), folder=folder,
                       summary=summary)
        store, report = open_index(
            settings, sections, lambda: model, force=rebuild, progress=progress
        )
        return cls(sections, store=store, embedder=model, sync_report=report, folder=folder,
                   settings=settings, summary=summary, warnings=knowledge.skipped)

    @property
    def dense_available(self) -> bool:
        return self._store is not None

    @property
    def embedder(self) -> Embedder | None:
        """The model questions are embedded with; None when only keywords are searched."""
        return self._embedder

    def retrieve(
        self, question: str, k: int = 4, history: Sequence[Turn] = (), mode: str = "hybrid"
    ) -> Retrieval:
        """The `k` sections that best answer `question`, best first. `mode` "dense" or
        "bm25" ranks by that search alone, so `faq-bot eval` can compare them."""
        follows = follows_from(question, history, self._keywords.knows)
        # A follow-up is searched mostly as read with the question it builds on.
        queries = [(question, 1.0 if follows is None else FOLLOW_UP_WEIGHT)]
        if follows is not None:
            queries.append((f"{follows} {question}", 1.0))
        rankings: list[tuple[Sequence[str], float]] = []
        warnings = list(self.warnings)
        dense: dict[str, float] = {}
        vectors: list[np.ndarray] = []
        if mode != "bm25" and self._store is not None and self._embedder is not None:
            try:
                vectors, found = self._dense_search([text for text, _ in queries])
                for (_, weight), ranking in zip(queries, found, strict=True):
                    # Ids of another knowledge version (a shared server) are skipped.
                    hits = [(id_, sim) for id_, sim in ranking if id_ in self.sections_by_id]
                    rankings.append(([id_ for id_, _ in hits], weight))
                    if not dense:
                        dense = dict(hits)
            except StoreError as error:
                log.warning("Dense search failed, using keyword search only: %s", error)
                warnings.append(
                    f"Semantic search failed ({error}); this answer uses keyword search only."
                )
                rankings.clear()
                dense, vectors = {}, []
        for text, weight in queries if mode != "dense" else ():
            rankings.append((self._keywords.rank(text, CANDIDATE_DEPTH), weight))
        fused = fuse(rankings)
        depth = max(k, RERANK_DEPTH) if mode == "hybrid" else k
        best = sorted(fused, key=lambda id_: (-fused[id_], self._order[id_]))[: max(depth, 0)]
        candidates = [self._passage(id_, fused[id_]) for id_ in best]
        evidence = self._reader.evidence(question, candidates, vectors, follows)
        if mode == "hybrid":
            candidates = self._reader.rerank(question, candidates, evidence)
        return Retrieval(
            passages=tuple(candidates[: max(k, 0)]),
            warnings=tuple(warnings),
            knowledge_version=self.knowledge_version,
            dense=dense,
            evidence=evidence,
            overview=self.overview,
        )

    def _dense_search(
        self, texts: list[str]
    ) -> tuple[list[np.ndarray], list[list[tuple[str, float]]]]:
        """The texts' vectors and Chroma's ranking for each; an index that broke is
        rebuilt first."""
        assert self._store is not None and self._embedder is not None
        # One forward pass gives the search vectors and the word states `Reader` aligns.
        embedded, states = self._embedder.embed_with_states(texts)
        self.vocabulary.remember(texts, states)
        vectors = list(embedded)
        store, embedder = self._store, self._embedder
        if not store.present():
            store = self._rebuild(store, "its files are gone")
        try:
            return vectors, store.query_many(vectors, CANDIDATE_DEPTH)
        except MissingCollectionError as error:
            # Deleted on a shared server, or the server lost its data: rebuild, retry.
            log.warning("%s Rebuilding it.", error)
            self.sync_report = store.sync(self.sections, lambda: embedder)
            return vectors, store.query_many(vectors, CANDIDATE_DEPTH)
        except StoreError as error:
            return vectors, self._rebuild(store, str(error)).query_many(vectors,
                                                                         CANDIDATE_DEPTH)

    def _rebuild(self, broken: SectionStore, reason: str) -> SectionStore:
        """A working index in place of `broken`, or StoreError when none can be had now."""
        with self._rebuild_lock:
            if self._store is not broken:  # another thread has rebuilt it meanwhile
                assert self._store is not None
                return self._store
            if self._rebuilder is None:
                raise StoreError(reason)
            self._store, self.sync_report = self._rebuilder.rebuild(reason)
            return self._store

    def _passage(self, id_: str, score: float) -> Passage:
        section = self.sections_by_id[id_]
        return Passage(
            id=section.id,
            document=section.document,
            section=section.title,
            text=section.text,
            score=score,
            source=section.source,
            start=section.start,
            end=section.end,
            heading_path=section.heading_path,
        )


_retrievers: dict[tuple[object, ...], Retriever] = {}
_retrievers_lock = threading.Lock()


@functools.lru_cache(maxsize=64)  # resolving paths costs system calls on every question
def _key(settings: Settings) -> tuple[object, ...]:
    return (
        Path(settings.knowledge_dir).expanduser().resolve(),
        Path(settings.data_dir).expanduser().resolve(),
        settings.embedding_model_dir,
        settings.chroma_host,
        settings.chroma_port,
        settings.chroma_ssl,
        settings.chroma_auth_token,
    )


def get_retriever(settings: Settings) -> Retriever:
    """The process-wide retriever for these settings, opened on first use and opened
    again (embedding only what is new or changed) when the knowledge files change."""
    key = _key(settings)
    with _retrievers_lock:
        current = _retrievers.get(key)
        if current is None:
            _retrievers[key] = Retriever.open(settings)
        elif folder_state(Path(settings.knowledge_dir)) != current.folder:
            log.info("The knowledge folder changed; bringing the index up to date.")
            _retrievers[key] = Retriever.open(settings, embedder=current.embedder)
        return _retrievers[key]


def reset_retrievers() -> None:
    """Forget every retriever (tests; a process whose knowledge folder changed)."""
    with _retrievers_lock:
        _retrievers.clear()
