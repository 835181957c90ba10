"""The knowledge base's words, as the offline answerer weighs them.

`KnowledgeVocabulary` answers four questions about a word: does any section use it,
how rare is it there (idf), which known word is it likely a misspelling of, and how
close in meaning is it to some other words (by the embedding model, word against
word: "cash" is close to "money", "electricity" to "power"). It also aligns a question
with sentences word piece by word piece, in context (`align`): how well each of the
question's own words is matched somewhere in the sentence, by the model's contextual
vectors, as BERTScore does. Vectors are computed once, on first need, and remembered.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..knowledge import Section
from ..store import Embedder
from .keywords import KeywordIndex
from .terms import ASKING, STOPWORDS

WORDS_KEPT = 50_000
SENTENCES_KEPT = 1_000  # token states of ~40 pieces x 384 floats each (~60 MB in all)
# Word pieces that say how a question is asked, not what about.
_ASKING_PIECES = frozenset({"many", "much", "long", "often", "soon", "far", "what", "how"})


class KnowledgeVocabulary:
    def __init__(self, keywords: KeywordIndex, embedder: Embedder | None,
                 sections: Sequence[Section] = ()) -> None:
        self._keywords = keywords
        self._embedder = embedder
        self._texts = [section.text for section in sections]
        self._names: frozenset[str] | None = None
        self._vectors: dict[str, np.ndarray] = {}
        self._sentences: dict[str, tuple[list[str], np.ndarray]] = {}
        self._lock = threading.Lock()

    def knows(self, stem: str) -> bool:
        return self._keywords.knows(stem)

    def idf(self, stem: str) -> float:
        return self._keywords.idf(stem)

    def closest(self, stem: str) -> str | None:
        return self._keywords.closest(stem)

    def is_name(self, word: str) -> bool:
        """Whether the documents write `word` (lower case) as a name: capitalised (or an
        acronym) inside sentences more often than not ("Google", "Montrose", "AWS"; not a
        unit such as "MWh"), or it holds a digit."""
        if any(ch.isdigit() for ch in word):
            return True
        if self._names is None:
            capital: Counter[str] = Counter()
            lower: Counter[str] = Counter()
            for text in self._texts:
                for match in _INNER_WORD.finditer(text):
                    token = match.group()
                    name = token.istitle() or (token.isupper() and len(token) > 1)
                    (capital if name else lower)[token.lower()] += 1
            self._names = frozenset(w for w, n in capital.items() if n > lower[w])
        return word in self._names

    def align(self, question: str, texts: Sequence[str]) -> list[tuple[float, float]]:
        """For each text: the mean and the lowest, over the question's own words, of each
        word's best cosine with any word piece of the text (1.0, 1.0 without the model or
        without words of its own)."""
        if self._embedder is None or not texts:
            return [(1.0, 1.0)] * len(texts)
        pieces, asked = self._states([question])[0]
        keep = [i for i, piece in enumerate(pieces) if _own_word(piece)]
        states = [v for _, v in self._states(texts)]
        if not keep or not any(len(v) for v in states):
            return [(1.0, 1.0)] * len(texts)
        own = asked[keep]
        found = []
        for text_states in states:
            if not len(text_states):
                found.append((0.0, 0.0))
                continue
            # One small product per text: OpenBLAS runs it on one thread, where one big
            # product would wake threads that then compete with the model's next pass.
            best = (own @ text_states.T).max(axis=1)
            found.append((float(best.mean()), float(best.min())))
        return found

    def remember(self, texts: Sequence[str],
                 states: Sequence[tuple[list[str], np.ndarray]]) -> None:
        """Keep word-piece states computed elsewhere (the question's, by the forward pass
        that embedded it), so `align` needs no second pass."""
        with self._lock:
            if len(self._sentences) > SENTENCES_KEPT:
                self._sentences.clear()
            self._sentences.update(zip(texts, states, strict=True))

    def _states(self, texts: Sequence[str]) -> list[tuple[list[str], np.ndarray]]:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._sentences]
        if missing:
            assert self._embedder is not None
            fresh = dict(zip(missing, self._embedder.token_states(missing), strict=True))
            self.remember(list(fresh), list(fresh.values()))
            with self._lock:
                return [self._sentences.get(t) or fresh[t] for t in texts]
        with self._lock:
            return [self._sentences[t] for t in texts]

    def related(self, word: str, others: Sequence[str]) -> float:
        """The highest cosine similarity between `word` and any of `others`; 0 without
        the embedding model."""
        if self._embedder is None or not others:
            return 0.0
        vectors = self._word_vectors([word, *others])
        return float(np.max(vectors[1:] @ vectors[0]))

    def _word_vectors(self, words: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [w for w in dict.fromkeys(words) if w not in self._vectors]
        if missing:
            assert self._embedder is not None
            fresh = dict(zip(missing, self._embedder.embed(missing), strict=True))
            with self._lock:
                if len(self._vectors) > WORDS_KEPT:
                    self._vectors.clear()
                self._vectors.update(fresh)
                return np.stack([self._vectors.get(w, fresh.get(w)) for w in words])
        with self._lock:
            return np.stack([self._vectors[w] for w in words])


# A word inside a sentence, not its first: sentence starts are capitalised anyway.
_INNER_WORD = re.compile(r"(?<![.!?:]\s)(?<!^)(?<!\n)\b[A-Za-z][a-z]+[A-Za-z]*\b")


def _own_word(piece: str) -> bool:
    """A word piece that starts a content word of the question."""
    return (piece.isalnum() and not piece.startswith("##") and piece not in STOPWORDS
            and piece not in ASKING and piece not in _ASKING_PIECES
            and (len(piece) > 1 or piece.isdigit()))
