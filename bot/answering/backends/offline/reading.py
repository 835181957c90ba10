"""The question and the retrieved sentences, measured against each other.

A `Question` knows the kind of fact it asks for and how much each of its words
matters: a word's weight is how rare it is in the knowledge base (idf), so "the deal"
counts for little and "megawatts" for much. A word no section uses is corrected to a
close spelling the knowledge base does use, if there is one; otherwise it stays, with
the highest weight, as something the documents may not cover. Each `Sentence` of the
retrieved passages carries what answering needs: its stems, its similarity to the
question by the embedding model, and whether it leans on the sentence before it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ....knowledge import sentence_spans, words
from ....retrieval.followups import ANAPHORS
from ....retrieval.terms import UNITS, content_words, stem, terms
from ....types import Evidence, Passage, Vocabulary
from .facts import Kind, asked_kind, carries

_NUMERAL = re.compile(r"\d[\d,.]*")
# A capitalised word that does not start the question: a name the asker typed as one.
_INNER_CAPITAL = re.compile(r"(?<=[\w,;:'’)] )[A-Z][\w'-]*")

HEADING_CREDIT = 0.5  # a word found only in the heading above a sentence, or the one before
RELATED = 0.6  # word-to-word cosine at which two words count as one ("cash", "money")
# How a question is asked, not what about: the kind of fact says what these ask for.
_ASKING_FORM = re.compile(
    r"\bhow (?:much|many|long|often|soon|far|big|come)\b|\bwhat (?:kind|sort|type) of\b"
    r"|\b(?:is|are) there\b|\bwhat(?:'s| is)? the name of\b", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    text: str
    kind: Kind | None
    weights: dict[str, float]  # stem -> how much it matters
    unknown: frozenset[str]  # stems no section of the knowledge base uses
    said: frozenset[str]  # its lower-case words
    surface: dict[str, str]  # stem -> the word the question wrote
    counted: str | None = None  # "how many sites": the stem of what is counted
    names: frozenset[str] = frozenset()  # stems of the names and numbers it says

    @classmethod
    def read(cls, text: str, vocabulary: Vocabulary | None) -> Question:
        weights: dict[str, float] = {}
        surface: dict[str, str] = {}
        unknown = set()
        for word in content_words(_ASKING_FORM.sub(" ", text)):
            term = stem(word)
            if vocabulary is not None and not vocabulary.knows(term):
                fixed = vocabulary.closest(term)
                if fixed is None:
                    unknown.add(term)
                else:
                    term = fixed
            weight = vocabulary.idf(term) if vocabulary is not None else 1.0
            weights[term] = max(weights.get(term, 0.0), weight)
            surface.setdefault(term, word)
        counted = re.search(r"\bhow many\s+(?:\w+\s+)??(\w+)", text.lower())
        noun = stem(counted.group(1)) if counted else None
        capitalised = {m.group().lower() for m in _INNER_CAPITAL.finditer(text)}
        names = frozenset(
            term for term, word in surface.items()
            if word in capitalised or any(ch.isdigit() for ch in word)
            or (vocabulary is not None and vocabulary.is_name(word))
        )
        return cls(text, asked_kind(text), weights, frozenset(unknown), frozenset(words(text)),
                   surface, noun if noun in weights else None, names)


    @property
    def total(self) -> float:
        return sum(self.weights.values())

    def parts(self) -> list[Question]:
        """The questions a two-part question asks ("how much now, and how much later?")."""
        pieces = [p for p in re.split(r"\s*(?:,|;|\band\b|\bor\b)\s+(?=(?:how|what|when|where"
                                      r"|who|which|why|is|are|does|do|can|will)\b)",
                                      self.text, flags=re.IGNORECASE) if p.strip()]
        if len(pieces) < 2:
            return [self]
        parts = []
        for piece in pieces:
            own = {t for t in self.weights if t in terms(piece)}
            weights = {t: w for t, w in self.weights.items() if t in own} or self.weights
            parts.append(Question(piece, asked_kind(piece) or self.kind, weights, self.unknown,
                                  frozenset(words(piece)) | self.said, self.surface,
                                  self.counted if self.counted in weights else None,
                                  frozenset(n for n in self.names if n in weights)))
        return parts


@dataclass(frozen=True)
class Sentence:
    passage: Passage
    rank: int  # of its passage in the retrieval result
    index: int  # of the sentence in its passage
    start: int  # offsets into passage.text
    end: int
    stems: frozenset[str]
    nearby: frozenset[str]  # stems of the heading, and of the sentence before a "This ..."
    leans_back: bool  # starts with "This", "They", ...: it needs the sentence before it
    similarity: float | None  # to the question, by the embedding model
    context_similarity: float | None  # to a follow-up read with the question it builds on

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]

    @cached_property
    def title(self) -> frozenset[str]:
        return frozenset(terms(self.passage.document))

    def coverage(self, question: Question, vocabulary: Vocabulary | None = None) -> float:
        """How much of what the question's words weigh the sentence holds, 0 to 1: a word
        found in it counts whole, one only in its heading (or in the sentence a "This ..."
        leans on) by half; with a `vocabulary`, a word close in meaning to one of the
        sentence's or heading's words counts as found ("cash" for "money")."""
        if not question.total:
            return 0.0
        return sum(w * self.credit(t, question, vocabulary) for t, w in question.weights.items()
                   ) / question.total

    def credit(self, term: str, question: Question, vocabulary: Vocabulary | None) -> float:
        if term in self.stems:
            return 1.0
        if vocabulary is not None and vocabulary.related(question.surface.get(term, term),
                                                         self.words) >= RELATED:
            return 1.0
        return HEADING_CREDIT if term in self.nearby else 0.0

    @cached_property
    def words(self) -> list[str]:
        """The content words of the sentence and its heading, as written."""
        heading = " ".join(self.passage.heading_path or (self.passage.section,))
        return list(dict.fromkeys(content_words(f"{self.text} {heading}")))

    def misses_names(self, question: Question) -> int:
        """How many of the names and numbers the question says appear neither in the
        sentence, nor in its heading or document title, nor in the sentence before a
        "This ..."."""
        around = self.stems | self.nearby | self.title
        return sum(name not in around for name in question.names)

    def counts(self, question: Question, vocabulary: Vocabulary | None) -> bool:
        """For "how many X": whether a number in the sentence counts X (or a word close to
        it): "fourteen locations", "14 sites"."""
        if question.counted is None:
            return carries(self.text, Kind.COUNT)
        said = words(self.text)
        for i, word in enumerate(said):
            if _NUMERAL.fullmatch(word) or word in UNITS:
                window = said[i + 1 : i + 5]
                if any(stem(w) == question.counted for w in window):
                    return True
                target = question.surface.get(question.counted, question.counted)
                if vocabulary is not None and window and vocabulary.related(
                        target, window) >= RELATED:
                    return True
        return False


def read_sentences(passages: Sequence[Passage], evidence: Evidence | None) -> list[Sentence]:
    found: list[Sentence] = []
    for rank, passage in enumerate(passages):
        heading = frozenset(terms(" ".join(passage.heading_path or (passage.section,))))
        scores = evidence.sentences.get(passage.id, ()) if evidence is not None else ()
        context = evidence.context.get(passage.id, ()) if evidence is not None else ()
        previous: frozenset[str] = frozenset()
        for index, (start, end) in enumerate(sentence_spans(passage.text)):
            text = passage.text[start:end]
            stems = frozenset(terms(text))
            first = words(text)[:1]
            leans_back = bool(first) and first[0] in ANAPHORS and bool(previous)
            found.append(Sentence(
                passage, rank, index, start, end, stems,
                heading | (previous if leans_back else frozenset()), leans_back,
                scores[index] if index < len(scores) else None,
                context[index] if index < len(context) else None,
            ))
            previous = stems
    return found


def subject_of(text: str) -> frozenset[str]:
    """Stems of the first content words of a sentence: usually what it is about."""
    return frozenset(stem(w) for w in content_words(text)[:2])
