"""Which sentences answer the question, and how sure the answerer may be.

Each retrieved sentence is scored by what holds for any English text: its similarity
to the question by the embedding model, how much of the question's weight its words
(or words close in meaning) cover, and whether it carries the kind of fact asked
for. Three outcomes:

- an answer, when the best sentence is close to the question, covers most of what it
  asks about, and carries the kind of fact asked for (a question heading that matches
  the question does the same for its answer);
- "not sure", when sentences are about the question but none of them carries what
  it asks: the closest are shown, labelled as such;
- a refusal, when nothing retrieved is about the question at all.

The thresholds were set on the `dev` split of the eval sets (`faq-bot eval --split dev
--failures`); the `test` split measures them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from ....retrieval.evidence import aligned_text
from ....types import Evidence, Turn
from .facts import STRICT, Kind, carries
from .reading import Question, Sentence

MAX_SENTENCES = 3
ABOUT_SIMILARITY = 0.35  # below this, and with little of its words found, nothing is about it
ABOUT_COVERAGE = 0.3
# How sure the best sentence makes the answerer: a logistic model over its features
# (word recall, weakest word, similarity, coverage, a strict kind of fact missing, a
# matching question heading, a name or number of the question missing), fitted on the
# dev split by `faq-bot eval --calibrate`.
CONFIDENCE = (-1.37, 0.71, 1.14, 0.73, 1.34, -2.58, -0.18, -1.83)  # bias, then the weights
SURE = 0.5  # the confidence from which the best sentence is given as the answer
FAQ_MATCH = 0.8  # a question heading this close to the question is the same question
CLOSE_SCORE = 0.1  # further sentences within this of the best one may join it
FOLLOWING_SCORE = 0.25  # ... and the one after it that goes on about it, within this
CONTEXT_WEIGHT = 0.5  # a follow-up's earlier question counts half
REPEAT_PENALTY = 0.15  # a sentence the previous answer already quoted


def confidence(features: tuple[float, ...]) -> float:
    bias, *weights = CONFIDENCE
    return 1.0 / (1.0 + math.exp(-(bias + sum(w * f for w, f in zip(weights, features,
                                                                       strict=True)))))


class Outcome(Enum):
    ANSWER = "answer"
    UNSURE = "unsure"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Choice:
    outcome: Outcome
    sentences: tuple[Sentence, ...] = ()


@dataclass(frozen=True)
class Scored:
    sentence: Sentence
    score: float
    similarity: float
    coverage: float
    fits: bool | None  # carries the kind of fact asked for; None when no kind is asked
    faq: bool  # its heading is the question, asked in other words
    recall: float  # mean over the question's words of their best match in the sentence
    weakest: float  # the question word matched worst
    names_missing: int = 0  # names or numbers of the question it does not have

    def features(self, kind: Kind | None) -> tuple[float, ...]:
        """What the answer/unsure decision weighs (see CONFIDENCE)."""
        missing = float(self.fits is False and kind in STRICT)
        return (self.recall, self.weakest, self.similarity, self.coverage, missing,
                float(self.faq), float(min(self.names_missing, 1)))


class Chooser:
    def __init__(self, sentences: Sequence[Sentence], evidence: Evidence | None,
                 history: Sequence[Turn], asked: str = "") -> None:
        self.sentences = list(sentences)
        self.evidence = evidence
        self.vocabulary = evidence.vocabulary if evidence is not None else None
        earlier = [t.content for t in history if t.role == "assistant"]
        self.said_before = earlier[-1] if earlier and evidence and evidence.follows else ""
        self.asked = asked  # the whole question, whose alignment retrieval measured

    def choose(self, question: Question, context: Question | None) -> Choice:
        parts = question.parts()
        whole = self._choose_one(question, context)
        if len(parts) == 1:
            return whole
        # Each part gets its sentence; the answer is sure when the whole question, or
        # every part, is answered surely.
        choices = [self._choose_one(part, context) for part in parts]
        chosen = tuple(dict.fromkeys(
            s for c in (whole, *choices) for s in c.sentences))[:MAX_SENTENCES]
        outcomes = {c.outcome for c in choices}
        if whole.outcome is Outcome.REFUSE and outcomes == {Outcome.REFUSE}:
            return Choice(Outcome.REFUSE)
        sure = whole.outcome is Outcome.ANSWER or outcomes == {Outcome.ANSWER}
        return Choice(Outcome.ANSWER if sure else Outcome.UNSURE, chosen)

    def scored(self, question: Question, context: Question | None) -> list[Scored]:
        """Every sentence scored for `question`, best first."""
        aligned = [self._aligned(s, question, context) for s in self.sentences]
        return sorted((self._score(s, question, context, a) for s, a in
                       zip(self.sentences, aligned, strict=True)),
                      key=lambda x: x.score, reverse=True)

    def _choose_one(self, question: Question, context: Question | None) -> Choice:
        scored = self.scored(question, context)
        if not scored:
            return Choice(Outcome.REFUSE)
        ranked = scored
        best = ranked[0]
        about = max(x.similarity for x in scored)
        covered = max(x.coverage for x in scored)
        if about < ABOUT_SIMILARITY and covered < ABOUT_COVERAGE and not best.faq:
            return Choice(Outcome.REFUSE)
        sure = confidence(best.features(question.kind)) >= SURE
        if not sure:
            return Choice(Outcome.UNSURE, self._with_neighbours([best.sentence]))
        if best.faq:  # the documents' own answer to this very question, whole
            same = [s for s in self.sentences if s.passage is best.sentence.passage]
            return Choice(Outcome.ANSWER, tuple(same[:MAX_SENTENCES]))
        chosen = [best.sentence]
        covered = self._held(best.sentence, question)
        for other in ranked[1:]:
            if len(chosen) >= MAX_SENTENCES or other.score < best.score - CLOSE_SCORE:
                break
            adds = self._held(other.sentence, question) - covered
            if adds or (other.fits and not best.fits):
                chosen.append(other.sentence)
                covered |= adds
        following = self._following(best.sentence)
        close = {x.sentence for x in ranked if x.score >= best.score - FOLLOWING_SCORE}
        if following in close and following not in chosen and len(chosen) < MAX_SENTENCES:
            chosen.append(following)
        return Choice(Outcome.ANSWER, self._with_neighbours(chosen))

    def _score(self, sentence: Sentence, question: Question, context: Question | None,
               aligned: tuple[float, float]) -> Scored:
        similarity = sentence.similarity or 0.0
        if context is not None and sentence.context_similarity is not None:
            similarity = max(similarity, sentence.context_similarity)
        coverage = sentence.coverage(question, self.vocabulary)
        if context is not None:
            coverage = max(coverage, (coverage + CONTEXT_WEIGHT * sentence.coverage(
                context, self.vocabulary)) / (1 + CONTEXT_WEIGHT))
        fits = self._fits(sentence, question)
        heading = self.evidence.headings.get(sentence.passage.id) if self.evidence else None
        faq = heading is not None and heading >= FAQ_MATCH
        recall, _ = aligned
        score = 0.5 * recall + 0.3 * similarity + 0.2 * coverage - 0.02 * sentence.rank
        if fits is not None:
            score += 0.1 if fits else -0.1
        if faq:
            score += 0.2
        if self.said_before and sentence.text in self.said_before and not fits:
            score -= REPEAT_PENALTY  # unless it also holds the new kind of fact asked for
        return Scored(sentence, score, similarity, coverage, fits, faq, *aligned,
                      sentence.misses_names(question))

    def _fits(self, sentence: Sentence, question: Question) -> bool | None:
        if question.kind is None:
            return None
        if question.kind is Kind.COUNT:
            return sentence.counts(question, self.vocabulary)
        return carries(sentence.text, question.kind, question.said)

    def _aligned(self, sentence: Sentence, question: Question,
                 context: Question | None) -> tuple[float, float]:
        """How the question's words align with the sentence: as retrieval measured it for
        the whole question, else (a part of a two-part question) measured now."""
        measured = self.evidence.alignment.get(sentence.passage.id, ()) if self.evidence else ()
        whole = question.text == self.asked
        if whole and sentence.index < len(measured):
            return measured[sentence.index]
        if self.vocabulary is None:
            return 1.0, 1.0
        asked = question.text if context is None else f"{context.text} {question.text}"
        text = aligned_text(sentence.text, sentence.passage.heading_path)
        return self.vocabulary.align(asked, [text])[0]

    def _held(self, sentence: Sentence, question: Question) -> set[str]:
        return {t for t in question.weights if sentence.credit(t, question, self.vocabulary) > 0}

    def _following(self, sentence: Sentence) -> Sentence | None:
        """The next sentence when it goes on about this one ("These extra payments ...")."""
        after = next((s for s in self.sentences if s.passage is sentence.passage
                      and s.index == sentence.index + 1), None)
        return after if after is not None and after.leans_back else None

    def _with_neighbours(self, chosen: list[Sentence]) -> tuple[Sentence, ...]:
        """Add the sentence a chosen "This ..." sentence refers to, so the quote reads on
        its own."""
        result = list(chosen)
        for sentence in chosen:
            if sentence.leans_back and len(result) < MAX_SENTENCES + 1:
                before = next((s for s in self.sentences if s.passage is sentence.passage
                               and s.index == sentence.index - 1), None)
                if before is not None and before not in result:
                    result.append(before)
        return tuple(result)
