"""Keyword search: BM25 over the sections' words, built once per knowledge folder.

Words are lower-cased and lightly stemmed; numbers are kept whole; words of one
synonym group share a token, and a year in a text (or a question asking "when")
adds a shared marker, which neither BM25 nor the small embedding model links.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import bm25s

from ..knowledge import Section, words
from ..knowledge.text import stem
from ..store import top_indices
from .lexicon import fold_phrases, synonym_key

# bm25s sets its own logger to DEBUG, which would print on every start.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Function words and question words; "before" and "after" are kept, since "invested
# before" should find "Before this news".
STOPWORDS = frozenset(
    {
        "a", "about", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been",
        "being", "but", "by", "can", "could", "did", "do", "does", "doing", "for", "from", "had",
        "has", "have", "having", "he", "her", "him", "his", "how", "i", "if", "in", "into", "is",
        "it", "its", "just", "many", "may", "me", "might", "more", "most", "much", "my", "no",
        "not", "of", "on", "or", "our", "over", "please", "she", "should", "so", "some", "such",
        "tell", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this",
        "those", "to", "too", "very", "was", "we", "were", "what", "when", "where", "which",
        "while", "who", "whom", "whose", "why", "will", "with", "would", "you", "your"
    }
)


# A question asking "when" or "which year" wants a section that names a year; the
# marker links the two, which neither BM25 nor the small embedding model can.
YEAR_MARKER = "<year>"
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
_ASKS_FOR_YEAR = frozenset({"when", "year", "years", "date", "dates"})


def keyword_tokens(text: str, *, query: bool = False) -> list[str]:
    """Lower-cased, lightly stemmed content words; numbers kept whole; a shared token
    per synonym group; a year marker for each year in a text, or once for a question
    asking for one."""
    content = [word for word in words(fold_phrases(text)) if word not in STOPWORDS]
    tokens = [stem(word) for word in content]
    # "electricity" finds "power", "rivals" finds "competitors": words the small
    # embedding model may miss, and BM25 alone never links.
    tokens += [f"~{key}" for word in content if (key := synonym_key(word))]
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

    def rank(self, query: str, depth: int) -> list[str]:
        """Ids of the sections sharing words with `query`, best first."""
        token_ids = self._bm25.get_tokens_ids(keyword_tokens(query, query=True))
        if not token_ids:
            return []
        scores = self._bm25.get_scores_from_ids(token_ids)
        # Equal scores keep document order; the top only, since sorting 100k scores is slow.
        return [self._ids[i] for i in top_indices(scores, depth) if scores[i] > 0]


