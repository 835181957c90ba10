"""Exact nearest-section search over a copy of the store's vectors held in memory.

A Chroma query costs a few milliseconds however small the collection, most of it
handing the query between Chroma's threads; the model's forward pass for a question
costs about as much. For a knowledge base of a few thousand vectors one matrix
product in numpy takes well under a millisecond, so `SectionStore` keeps this copy of
a small local collection (read back from Chroma after each sync, and again whenever
the database file changes, so Chroma stays the store of record). A collection too big
to hold, or one on a Chroma server, is searched by Chroma on every question.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Right after a forward pass (caches cold) the product costs ~0.2 ms per 1000 vectors;
# about 8000 vectors cost what a Chroma query does, and the copy 1.5 KB per vector.
IN_MEMORY_LIMIT = 8_000
# OpenBLAS multiplies a question by at most this many vectors on one thread (m*n*k under
# 262144), where it is three times as fast as einsum.
SINGLE_THREAD_BLAS = 512


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest scores, best first, ties in index order: what a stable
    sort of all scores gives, without sorting them all."""
    n = len(scores)
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.intp)
    if k >= n:
        return np.argsort(-scores, kind="stable")
    threshold = np.partition(scores, n - k)[n - k]
    candidates = np.flatnonzero(scores >= threshold)
    return candidates[np.argsort(-scores[candidates], kind="stable")[:k]]


def section_of(record_id: str) -> str:
    """The section a record belongs to: record ids are "<section id>#<n>"."""
    return record_id.rsplit("#", 1)[0]


class DenseIndex:
    """Unit vectors of sections (several per section); a section scores as its best one."""

    def __init__(self, record_ids: Sequence[str], vectors: np.ndarray) -> None:
        if len(record_ids) != len(vectors):
            raise ValueError("one vector per record id")
        groups: dict[str, list[int]] = {}
        for row, record_id in enumerate(record_ids):
            groups.setdefault(section_of(record_id), []).append(row)
        rows = [row for members in groups.values() for row in members]
        # Rows grouped by section, so a section's best is one reduceat over its run.
        self._vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32)[rows])
        self._row_of = {record_ids[row]: n for n, row in enumerate(rows)}
        self._section_ids = list(groups)
        sizes = [len(members) for members in groups.values()]
        self._starts = np.cumsum([0, *sizes[:-1]], dtype=np.intp)

    def __len__(self) -> int:
        return len(self._vectors)

    def vectors(self, record_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those records that are held here."""
        return {r: self._vectors[self._row_of[r]] for r in record_ids if r in self._row_of}

    def search_many(self, queries: Sequence[np.ndarray], k: int) -> list[list[tuple[str, float]]]:
        """For each query, the `k` best sections as (section id, cosine similarity)."""
        if not len(queries):
            return []
        if not self._section_ids or k <= 0:
            return [[] for _ in queries]
        matrix = np.asarray(queries, dtype=np.float32).reshape(len(queries), -1)
        if len(self._vectors) <= SINGLE_THREAD_BLAS:
            similarities = matrix @ self._vectors.T
        else:
            # einsum, not BLAS: OpenBLAS spreads a bigger product over threads that then
            # spin for a while, and the next forward pass of the model shares the cores
            # with them (it ran 2x slower after a search of 5k vectors).
            similarities = np.einsum("qd,nd->qn", matrix, self._vectors)
        best = np.maximum.reduceat(similarities, self._starts, axis=1)
        return [
            [(self._section_ids[i], float(row[i])) for i in top_indices(row, k)] for row in best
        ]
