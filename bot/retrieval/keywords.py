"""Keyword search: BM25 over the sections' words, built once per knowledge folder.

Words are those of `terms` (stopwords dropped, Snowball stems, numbers whole). A
year in a text, or a question asking "when" or "which year", adds a shared marker,
which neither BM25 nor the small embedding model links. The index also knows how
rare each stem is in the knowledge base, which the offline answerer weighs words by.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence

import bm25s

from ..knowledge import Section, words
from ..store import top_indices
from .spelling import Speller
from .terms import terms

# bm25s sets its own logger to DEBUG, which would print on every start.
logging.getLogger("bm25s").setLevel(logging.WARNING)

YEAR_MARKER = "<year>"
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
_ASKS_FOR_YEAR = frozenset({"when", "year", "years", "date", "dates"})


def keyword_tokens(text: str, *, query: bool = False) -> list[str]:
    """The stems of `text`, plus a year marker for each year in a text, or once for a
    question asking for one."""
    tokens = terms(text)
    found = words(text)
    if query:
        tokens += [YEAR_MARKER] if _ASKS_FOR_YEAR.intersection(found) else []
    else:
        tokens += [YEAR_MARKER for word in found if _YEAR.match(word)]
    return tokens


class KeywordIndex:
    """BM25 over section title, heading path and text, built once."""

    def __init__(self, sections: Sequence[Section]) -> None:
        self._ids = [section.id for section in sections]
        corpus = [
            keyword_tokens(" ".join((section.title, *section.heading_path, section.text)))
            for section in sections
        ]
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)
        self._sections = max(len(corpus), 1)
        self._frequency = Counter(token for tokens in corpus for token in set(tokens))
        self._speller: Speller | None = None  # built on the first misspelt word

    def closest(self, stem: str) -> str | None:
        """A stem the sections use that `stem` is likely a misspelling of."""
        if self._speller is None:
            self._speller = Speller(self._frequency)
        return self._speller.closest(stem)

    def knows(self, stem: str) -> bool:
        """Whether any section uses the stem."""
        return stem in self._frequency

    def idf(self, stem: str) -> float:
        """How rare a stem is among the sections: high for a word few sections use, highest
        for one none uses (a question asking about something the documents never name)."""
        return math.log((self._sections + 1) / (self._frequency.get(stem, 0) + 0.5))

    def rank(self, query: str, depth: int) -> list[str]:
        """Ids of the sections sharing words with `query`, best first."""
        token_ids = self._bm25.get_tokens_ids(keyword_tokens(query, query=True))
        if not token_ids:
            return []
        scores = self._bm25.get_scores_from_ids(token_ids)
        # Equal scores keep document order; the top only, since sorting 100k scores is slow.
        return [self._ids[i] for i in top_indices(scores, depth) if scores[i] > 0]


