"""Reciprocal rank fusion: several rankings of section ids made into one."""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60  # the constant of Cormack et al.; damps the weight of the very top ranks


def fuse(rankings: Sequence[tuple[Sequence[str], float]], k: int = RRF_K) -> dict[str, float]:
    """Weighted reciprocal rank fusion: each list adds weight / (k + rank) to its ids."""
    fused: dict[str, float] = {}
    for ranking, weight in rankings:
        for rank, id_ in enumerate(ranking, start=1):
            fused[id_] = fused.get(id_, 0.0) + weight / (k + rank)
    return fused


