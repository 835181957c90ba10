"""Misspelt words: the known word a question most likely meant.

A word of at least five letters that the knowledge base never uses is matched to one
it does use within one edit (two for words of eight letters or more), the first
letter kept: "chipz" is "chip", "libary" is "library". Edits are those of the
optimal string alignment distance (insert, delete, substitute, swap two neighbours).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

MIN_LENGTH = 5


class Speller:
    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._by_start: dict[str, list[str]] = defaultdict(list)
        for word in sorted(set(vocabulary)):
            if word.isalpha():
                self._by_start[word[0]].append(word)
        self._seen: dict[str, str | None] = {}

    def closest(self, word: str) -> str | None:
        if len(word) < MIN_LENGTH or not word.isalpha():
            return None
        if word in self._seen:
            return self._seen[word]
        limit = 2 if len(word) >= 8 else 1
        best: tuple[int, str] | None = None
        for known in self._by_start.get(word[0], ()):
            if abs(len(known) - len(word)) <= limit:
                distance = osa_distance(word, known, limit)
                if distance <= limit and (best is None or distance < best[0]):
                    best = (distance, known)
        found = best[1] if best else None
        if len(self._seen) < 100_000:
            self._seen[word] = found
        return found


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, giving up past `limit`."""
    previous: list[int] | None = None
    current = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, current = previous, current, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if before and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
    return current[-1]
