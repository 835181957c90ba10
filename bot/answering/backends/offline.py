"""The offline answerer: no key, no network, answers by quoting the article.

It reads the retrieved passages sentence by sentence and quotes the ones that
answer the question: the matching FAQ answer when the question is one of the
article's FAQ questions in other words, else the sentences that best cover the
question's key terms and carry the kind of fact it asks for (an amount for "how
much", a time for "when", a number for "how many"). It declines, saying the
article doesn't say, when most of what the question is about is absent from the
passages, when no sentence carries the fact asked for, or when the best sentence
covers too little of the question. Every quote is a verbatim slice of the
knowledge file, cited with its section.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from ...knowledge.text import sentence_spans, stem, words
from ...retrieval.lexicon import (
    ANAPHORS,
    ANSWER_TYPES,
    GENERIC,
    NUMBER,
    SYNONYMS,
    Term,
    asked_thing,
    asks_for,
    close_spelling,
    counts,
    only_vaguely,
    terms,
)
from ...types import Answer, Citation, Passage
from ..guard import looks_like_injection, previous_user_question
from .base import REFUSAL_PREFIX, AnswerRequest, Backend

MAX_SENTENCES = 3
MIN_COVERAGE = 0.5  # share of the question's known key terms the best sentence must hold
SYNONYM_CREDIT = 0.9  # a synonym match counts a little less than the word itself
NEARBY_CREDIT = 0.5  # a term only in the heading, or in the sentence a "This ..." refers to


@dataclass(frozen=True)
class _Sentence:
    passage: Passage
    rank: int  # of its passage in the retrieval result
    start: int  # offsets into passage.text
    end: int
    own: frozenset[Term]
    nearby: frozenset[str]  # groups of the heading, and of the previous sentence for "This ..."
    leans_back: bool  # starts with "This", "They", ...: it needs the sentence before it
    subject: frozenset[str]  # groups of its first two words, usually what it is about

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]

    def credit(self, term: Term) -> float:
        if any(t.root == term.root for t in self.own):
            return 1.0
        if any(t.key == term.key for t in self.own):
            return SYNONYM_CREDIT
        return NEARBY_CREDIT if term.key in self.nearby else 0.0


def _sentences(passages: Sequence[Passage]) -> list[_Sentence]:
    found: list[_Sentence] = []
    for rank, passage in enumerate(passages):
        heading = {t.key for t in terms(" ".join(passage.heading_path or (passage.section,)))}
        previous: frozenset[Term] = frozenset()
        for start, end in sentence_spans(passage.text):
            own = frozenset(terms(passage.text[start:end]))
            first_words = words(passage.text[start:end])[:2]
            leans_back = bool(first_words) and first_words[0] in ANAPHORS and bool(previous)
            nearby = heading | ({t.key for t in previous} if leans_back else set())
            subject = frozenset(t.key for t in terms(" ".join(first_words[:2])))
            found.append(
                _Sentence(passage, rank, start, end, own, frozenset(nearby), leans_back, subject)
            )
            previous = own
    return found


def _names(passages: Sequence[Passage]) -> set[str]:
    """Roots of the names in the passages: capitalised words inside a sentence."""
    found = set()
    for passage in passages:
        for start, end in sentence_spans(passage.text):
            for match in re.finditer(r"\b[A-Z][A-Za-z]+", passage.text[start:end]):
                word = match.group().lower()
                if match.start() > 0 and word not in SYNONYMS and word not in GENERIC:
                    found.add(stem(word))
    return found


class OfflineBackend(Backend):
    name: ClassVar[str] = "offline"
    needs_key: ClassVar[bool] = False
    can_stream: ClassVar[bool] = False

    def stream(self, request: AnswerRequest) -> Iterator[Answer]:
        yield self._answer(request)

    def _answer(self, request: AnswerRequest) -> Answer:
        if looks_like_injection(request.question):
            return self._refusal(
                request,
                "I can only answer questions about the article on Amazon's investment in "
                "Anthropic, and I can't change how I work. Ask me about the deal.",
            )
        sentences = _sentences(request.passages)
        if not sentences:
            return self._refusal(request)
        vocabulary = {t.root for s in sentences for t in s.own} | {
            k for s in sentences for k in s.nearby
        }
        keys = {t.key for s in sentences for t in s.own} | {k for s in sentences for k in s.nearby}

        focus = self._focus(request.question, vocabulary)
        earlier = previous_user_question(request.history)
        context = self._focus(earlier, vocabulary) if earlier else []
        wanted = asks_for(request.question)
        if earlier and not focus:
            # An elliptical follow-up ("and in which years?") is about the earlier question.
            focus, context = context, []
            wanted = wanted or asks_for(earlier)
        if not focus:
            focus = [t for t in terms(request.question) if t.key not in ANSWER_TYPES]
        known = [t for t in focus if t.key in keys]
        unknown = [t for t in focus if t.key not in keys]
        # Mostly about things the passages never mention: a near miss or off topic.
        if not known or (len(unknown) > len(known) and len(known) < 3):
            return self._refusal(request)

        faq = self._matching_faq(request.question, known + context, wanted, request.passages[:2])
        if faq is not None:
            return self._quote(request, [s for s in sentences if s.passage is faq])

        idf = self._idf(sentences)
        names = _names(request.passages)
        subjects = {t for t in known if t.root in names}
        # "Amazon's competitors" and "Anthropic's competitors" differ only in these.
        generic = {t.key for t in terms(request.question) if t.key in GENERIC}

        def score(sentence: _Sentence) -> float:
            value = sum(idf.get(t.key, 1.0) * sentence.credit(t) for t in set(known))
            value += 0.5 * sum(idf.get(t.key, 1.0) * sentence.credit(t) for t in set(context))
            # A sentence that starts with a name is about it, not just mentioning it.
            value += 0.5 * sum(idf.get(t.key, 1.0) for t in subjects if t.key in sentence.subject)
            value += 0.5 * len(generic & {t.key for t in sentence.own})
            if wanted is not None and wanted.search(sentence.text):
                value += 1.5
            return value - 0.1 * sentence.rank

        ranked = sorted(sentences, key=score, reverse=True)
        if wanted is not None:
            ranked = [s for s in ranked if wanted.search(s.text)]
        # What a quote must hold: the thing asked for ("which chips"), every name the
        # question uses, and in a follow-up that says "they" or "it", what it refers to.
        head = asked_thing(request.question)
        if head is not None and head.key not in keys:
            return self._refusal(request)
        needed = subjects | ({head} if head else set())
        ranked = [s for s in ranked if all(s.credit(t) > 0 for t in needed)]
        if head is not None and wanted is NUMBER:
            ranked = [s for s in ranked if counts(s.text, head)]
        if context and ANAPHORS & set(words(request.question)):
            ranked = [s for s in ranked if any(s.credit(t) > 0 for t in context)]
        if not ranked:
            return self._refusal(request)
        best = ranked[0]
        # A follow-up may be answered by what covers the conversation rather than the words.
        if max(self._coverage(best, known), self._coverage(best, known + context)) < MIN_COVERAGE:
            return self._refusal(request)
        covered = {t.key for t in known if best.credit(t) > 0}
        if only_vaguely(best.text, request.question):
            return self._refusal(request)
        chosen = [best]
        for sentence in ranked[1:]:
            if len(chosen) == MAX_SENTENCES or score(sentence) < 0.5 * score(best):
                break
            adds = {t.key for t in known if sentence.credit(t) > 0} - covered
            if adds or score(sentence) >= 0.8 * score(best):
                chosen.append(sentence)
                covered |= adds
        return self._quote(request, self._with_neighbours(chosen, sentences))

    @staticmethod
    def _coverage(sentence: _Sentence, wanted_terms: list[Term]) -> float:
        """How much of `wanted_terms` the sentence holds, from 0 to 1."""
        credit = {t.key: sentence.credit(t) for t in wanted_terms}
        return sum(credit.values()) / len(credit) if credit else 0.0

    @staticmethod
    def _focus(question: str, vocabulary: set[str]) -> list[Term]:
        """The question's topic words, misspellings corrected against the passages' words."""
        focus = []
        for term in terms(question):
            if term.key in GENERIC or term.key in ANSWER_TYPES:
                continue
            if term.root not in vocabulary and term.key not in vocabulary:
                fixed = close_spelling(term.root, vocabulary)
                if fixed is not None:
                    term = Term(fixed, SYNONYMS.get(fixed, fixed))
            focus.append(term)
        return focus

    @staticmethod
    def _with_neighbours(chosen: list[_Sentence], sentences: list[_Sentence]) -> list[_Sentence]:
        """Add the sentence a chosen "This ..." sentence refers to, so the quote reads on its
        own, and the "They ..." sentence that goes on about the best one."""
        result = list(chosen)
        for sentence in chosen:
            index = sentences.index(sentence)
            if sentence.leans_back and sentences[index - 1] not in result:
                result.append(sentences[index - 1])
        following = sentences.index(chosen[0]) + 1
        goes_on = following < len(sentences) and sentences[following].leans_back
        if goes_on and sentences[following] not in result and len(result) < MAX_SENTENCES:
            result.append(sentences[following])
        return result

    @staticmethod
    def _idf(sentences: Sequence[_Sentence]) -> dict[str, float]:
        counts: dict[str, int] = {}
        for sentence in sentences:
            for key in {t.key for t in sentence.own}:
                counts[key] = counts.get(key, 0) + 1
        return {key: 1.0 + math.log(len(sentences) / n) for key, n in counts.items()}

    @staticmethod
    def _matching_faq(
        question: str,
        asked: list[Term],
        wanted: re.Pattern[str] | None,
        passages: Sequence[Passage],
    ) -> Passage | None:
        """The FAQ entry whose question the user asked in other words, and whose answer
        holds everything the user asked about and the kind of fact wanted."""
        asked_keys = {t.key for t in asked} | {t.key for t in terms(question)}
        for passage in passages:
            if not passage.section.rstrip().endswith("?"):
                continue
            faq_keys = {t.key for t in terms(passage.section) if t.key not in GENERIC}
            answer_keys = faq_keys | {t.key for t in terms(passage.text)}
            if (
                faq_keys
                and faq_keys <= asked_keys
                and asks_for(passage.section) is wanted
                and all(t.key in answer_keys for t in asked)
            ):
                return passage
        return None

    def _quote(self, request: AnswerRequest, chosen: list[_Sentence]) -> Answer:
        """Show the chosen sentences in article order, one citation per run of adjacent ones."""
        chosen = sorted(chosen, key=lambda s: (s.rank, s.start))
        citations: list[Citation] = []
        parts: list[str] = []
        run: list[_Sentence] = []

        def close_run() -> None:
            first, last = run[0], run[-1]
            passage = first.passage
            quote = passage.text[first.start : last.end]
            citations.append(
                Citation(
                    document=passage.document,
                    section=passage.section,
                    quote=quote,
                    start=passage.start + first.start,
                    end=passage.start + last.end,
                    source=passage.source,
                    passage_id=passage.id,
                )
            )
            parts.append(f"{quote} [{len(citations)}]")

        for sentence in chosen:
            adjacent = (
                run
                and run[-1].passage is sentence.passage
                and not sentence.passage.text[run[-1].end : sentence.start].strip()
            )
            if run and not adjacent:
                close_run()
                run = []
            run.append(sentence)
        close_run()
        return Answer(
            text=" ".join(parts),
            citations=tuple(citations),
            passages=request.passages,
            refused=False,
            backend=self.name,
            warnings=request.warnings,
            knowledge_version=request.knowledge_version,
        )

    def _refusal(self, request: AnswerRequest, text: str | None = None) -> Answer:
        return Answer(
            text=text
            or f"{REFUSAL_PREFIX} anything about that. It covers Amazon's investment in "
            "Anthropic: the amounts and conditions, cloud spending, chips and power, and what "
            "the deal means.",
            passages=request.passages,
            refused=True,
            backend=self.name,
            warnings=request.warnings,
            knowledge_version=request.knowledge_version,
        )
