"""Retrieved passages measured sentence by sentence, and ranked again by their best one.

Search ranks whole sections; a question usually asks for one sentence of one of
them. `Reader` takes the best candidates of the fused ranking and measures each
sentence against the question: the embedding model's similarity (from the vectors
the store already holds), how well each of the question's own words is matched in
context (`KnowledgeVocabulary.align`), and how much of the question's word weight the
sentence's words hold. A section then ranks, and is scored, by its best sentence. What was measured
travels on as `Evidence`, for the offline answerer to choose sentences from.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from ..errors import StoreError
from ..knowledge import Section, sentence_spans
from ..store import Embedder, SectionStore, sentence_records
from ..types import Evidence, Passage
from .terms import terms
from .vocabulary import KnowledgeVocabulary

log = logging.getLogger(__name__)

HEADINGS_KEPT = 4096  # question headings' vectors remembered
# A sentence's rank: its word recall weighs most, its similarity next, its word weight
# least (set on the dev split of the eval sets).
RECALL_WEIGHT, SIMILARITY_WEIGHT, COVERAGE_WEIGHT = 0.5, 0.3, 0.2


def aligned_text(sentence: str, heading_path: Sequence[str]) -> str:
    """What a sentence is aligned as: itself, and the headings it sits under."""
    return f"{sentence} {' '.join(heading_path)}"


class Reader:
    def __init__(self, sections: Mapping[str, Section], store: SectionStore | None,
                 embedder: Embedder | None, vocabulary: KnowledgeVocabulary) -> None:
        self.sections = sections
        self.store = store
        self.embedder = embedder
        self.vocabulary = vocabulary
        self._headings: dict[str, np.ndarray] = {}
        self._sentences: dict[str, tuple[list[str], list[frozenset[str]]]] = {}

    def evidence(self, question: str, passages: Sequence[Passage],
                 vectors: Sequence[np.ndarray], follows: str | None) -> Evidence:
        """What the answerer reads: each sentence's similarity to the question (and to the
        follow-up read with its earlier question), each question heading's, and how the
        question's words align with each sentence."""
        if not vectors or self.store is None or self.embedder is None:
            return Evidence(self.vocabulary, follows=follows)
        records = {p.id: sentence_records(self.sections[p.id], self.store.per_sentence)
                   for p in passages}
        try:
            stored = self.store.vectors([r for ids in records.values() for r in ids])
        except StoreError as error:
            log.warning("Sentence vectors could not be read: %s", error)
            return Evidence(self.vocabulary, follows=follows)
        scores: list[dict[str, tuple[float, ...]]] = [{}, {}]
        for passage_id, ids in records.items():
            if ids and all(r in stored for r in ids):
                matrix = np.stack([stored[r] for r in ids])
                for n, vector in enumerate(vectors[:2]):
                    scores[n][passage_id] = tuple(float(x) for x in matrix @ vector)
        headings = {
            p.id: float(self._heading_vector(p.section) @ vectors[0])
            for p in passages if p.section.rstrip().endswith("?")
        }
        asked = question if follows is None else f"{follows} {question}"
        texts = {p.id: self._read(p)[0] for p in passages}
        flat = [t for group in texts.values() for t in group]
        aligned = iter(self.vocabulary.align(asked, flat))
        alignment = {pid: tuple(next(aligned) for _ in group) for pid, group in texts.items()}
        return Evidence(self.vocabulary, scores[0], scores[1], headings, follows, alignment)

    def rerank(self, question: str, passages: Sequence[Passage],
               evidence: Evidence) -> list[Passage]:
        """`passages` ordered by their best sentence, each scored by it; a follow-up is
        read with the question it builds on."""
        if not evidence.alignment:
            return list(passages)
        asked = question if evidence.follows is None else f"{evidence.follows} {question}"
        weights = {t: self.vocabulary.idf(t) for t in terms(asked)}
        total = sum(weights.values()) or 1.0

        def best(passage: Passage) -> float:
            similarity = evidence.sentences.get(passage.id, ())
            context = evidence.context.get(passage.id, ())
            aligned = evidence.alignment.get(passage.id, ())
            found = -1.0
            for i, stems in enumerate(self._read(passage)[1]):
                coverage = sum(w for t, w in weights.items() if t in stems) / total
                recall = aligned[i][0] if i < len(aligned) else 0.0
                close = max(similarity[i] if i < len(similarity) else 0.0,
                            context[i] if i < len(context) else 0.0)
                found = max(found, RECALL_WEIGHT * recall + SIMILARITY_WEIGHT * close
                            + COVERAGE_WEIGHT * coverage)
            return found

        order = {p.id: n for n, p in enumerate(passages)}
        scored = [replace(p, score=best(p)) for p in passages]
        return sorted(scored, key=lambda p: (-p.score, order[p.id]))

    def _read(self, passage: Passage) -> tuple[list[str], list[frozenset[str]]]:
        """A passage's sentences as aligned, and their stems; a section's text never
        changes for a retriever, so this is worked out once per section."""
        found = self._sentences.get(passage.id)
        if found is None:
            spans = sentence_spans(passage.text)
            found = ([aligned_text(passage.text[a:b], passage.heading_path) for a, b in spans],
                     [frozenset(terms(passage.text[a:b])) for a, b in spans])
            self._sentences[passage.id] = found
        return found

    def _heading_vector(self, heading: str) -> np.ndarray:
        """A question heading's vector; the store keeps none of its own, so it is embedded
        once and remembered."""
        vector = self._headings.get(heading)
        if vector is None:
            assert self.embedder is not None
            vector = self.embedder.embed_query(heading)
            if len(self._headings) > HEADINGS_KEPT:
                self._headings.clear()
            self._headings[heading] = vector
        return vector
