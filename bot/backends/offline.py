"""The offline answerer: no key, no network, answers by quoting the article.

It reads the retrieved passages sentence by sentence and picks the ones that
answer the question: the matching FAQ answer when the question is one of the
article's FAQ questions in other words, else the sentences that share the
question's key terms and carry what the question asks for (an amount for
"how much", a year for "when", a number for "how many"). When the key terms
of the question appear nowhere in the passages, or the kind of fact asked for
is absent, it says plainly that the article doesn't say. Every sentence it
shows is a verbatim slice of the knowledge file, cited with its section.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from ..guard import looks_like_injection, previous_user_question
from ..text import sentence_spans, stem, words
from ..types import Answer, Citation, Passage
from .base import REFUSAL_PREFIX, AnswerRequest, Backend

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "done",
        "during",
        "each",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "tell",
        "please",
        "know",
        "say",
        "says",
        "said",
        "according",
        "article",
        "news",
        "story",
        "give",
        "explain",
        "describe",
        "mean",
        "means",
        "much",
        "many",
        "also",
        "there's",
        "what's",
        "it's",
        "does",
        "did",
        "us",
        "get",
        "got",
        "going",
    ]
)
# Words that are in almost every question about this article; they cannot tell
# an answerable question from a near miss on their own.
GENERIC = frozenset(
    [
        "amazon",
        "amazons",
        "anthropic",
        "anthropics",
        "deal",
        "agreement",
        "partnership",
        "company",
        "companies",
        "ai",
    ]
)
SYNONYMS = {
    "found": "start",
    "founder": "start",
    "creat": "start",
    "start": "start",
    "began": "start",
    "invest": "invest",
    "money": "invest",
    "fund": "invest",
    "stake": "invest",
    "pay": "invest",
    "paying": "invest",
    "paid": "invest",
    "payment": "invest",
    "put": "invest",
    "putting": "invest",
    "chip": "chip",
    "processor": "chip",
    "hardware": "chip",
    "semiconductor": "chip",
    "power": "power",
    "energy": "power",
    "electricity": "power",
    "gigawatt": "power",
    "spend": "spend",
    "spending": "spend",
    "commit": "spend",
    "commitment": "spend",
    "cloud": "cloud",
    "aws": "cloud",
    "rival": "rival",
    "competitor": "rival",
    "competit": "rival",
    "analyst": "expert",
    "expert": "expert",
    "investor": "expert",
    "reaction": "expert",
    "react": "expert",
    "think": "expert",
    "view": "expert",
    "milestone": "goal",
    "goal": "goal",
    "condition": "goal",
    "target": "goal",
    "total": "total",
    "altogether": "total",
    "previous": "before",
    "previously": "before",
    "earlier": "before",
    "already": "before",
    "prior": "before",
    "before": "before",
    "year": "year",
    "decade": "year",
}

AMOUNT = re.compile(r"\$\s?\d|\bbillion\b|\bmillion\b", re.IGNORECASE)
YEAR = re.compile(r"\b(19|20)\d\d\b|\byears?\b|\bdecade\b|\bnow\b|\bimmediate", re.IGNORECASE)
NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|thousands?)\b", re.I)
FAQ_MATCH = 0.5  # share of an FAQ question's key terms the user's question must share
MAX_SENTENCES = 3


def key_terms(text: str) -> list[str]:
    """Content words of `text`, stemmed and folded onto shared synonyms."""
    terms = []
    for word in words(text):
        if word in STOPWORDS or len(word) < 2:
            continue
        root = stem(word)
        terms.append(SYNONYMS.get(word, SYNONYMS.get(root, root)))
    return terms


def asks_for(question: str) -> re.Pattern[str] | None:
    """The kind of fact the question wants, as a pattern a good sentence matches."""
    q = question.lower()
    if re.search(r"\bhow much\b|\bhow big\b|\bcost\b|\bprice\b|\bamount\b|\bvalue\b|\bworth\b", q):
        return AMOUNT
    if re.search(r"\bwhen\b|\bwhat year|\bwhich years?\b|\bhow long\b|\bwhat date\b", q):
        return YEAR
    if re.search(r"\bhow many\b|\bhow large\b|\bwhat number\b", q):
        return NUMBER
    return None


@dataclass(frozen=True)
class _Sentence:
    passage: Passage
    rank: int  # of its passage in the retrieval result
    start: int  # offsets into passage.text
    end: int

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]


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
        question_terms = [t for t in key_terms(request.question) if t not in GENERIC]
        earlier = previous_user_question(request.history)
        context_terms = key_terms(earlier) if earlier else []
        wanted = asks_for(request.question)
        if wanted is None and earlier and not question_terms:
            wanted = asks_for(earlier)
        sentences = [
            _Sentence(passage, rank, start, end)
            for rank, passage in enumerate(request.passages)
            for start, end in sentence_spans(passage.text)
        ]
        if not sentences:
            return self._refusal(request)

        faq = self._matching_faq(request.question, request.passages[:2])
        if faq is not None:
            chosen = [s for s in sentences if s.passage is faq]
            return self._quote(request, chosen)

        # An elliptical follow-up ("and in which years?") borrows the earlier question's terms.
        focus = question_terms or [t for t in context_terms if t not in GENERIC]
        if not focus:
            focus = key_terms(request.question)
        idf = self._idf(sentences)
        present = {t for s in sentences for t in key_terms(s.text + " " + s.passage.section)}
        if not any(t in present for t in focus):
            return self._refusal(request)

        scored = []
        for sentence in sentences:
            terms = set(key_terms(sentence.text))
            heading = set(key_terms(" ".join(sentence.passage.heading_path)))
            score = sum(idf.get(t, 1.0) for t in set(focus) if t in terms)
            score += 0.5 * sum(
                idf.get(t, 1.0) for t in set(focus) if t in heading and t not in terms
            )
            score += 0.3 * sum(idf.get(t, 1.0) for t in set(context_terms) if t in terms)
            score += 0.2 * sum(
                1.0 for t in GENERIC if t in terms and t in key_terms(request.question)
            )
            if wanted is not None and wanted.search(sentence.text):
                score += 1.5
            score -= 0.15 * sentence.rank
            scored.append((score, sentence))
        scored.sort(key=lambda pair: -pair[0])
        best_score, best = scored[0]
        if wanted is not None and not wanted.search(best.text):
            return self._refusal(request)
        if not any(t in set(key_terms(best.text + " " + best.passage.section)) for t in focus):
            return self._refusal(request)
        chosen = [best]
        for score, sentence in scored[1:]:
            if len(chosen) == MAX_SENTENCES or score < 0.75 * best_score:
                break
            if wanted is not None and not wanted.search(sentence.text):
                continue
            chosen.append(sentence)
        return self._quote(request, chosen)

    @staticmethod
    def _idf(sentences: Sequence[_Sentence]) -> dict[str, float]:
        counts: dict[str, int] = {}
        for sentence in sentences:
            for term in set(key_terms(sentence.text)):
                counts[term] = counts.get(term, 0) + 1
        n = len(sentences)
        return {term: 1.0 + math.log(n / count) for term, count in counts.items()}

    @staticmethod
    def _matching_faq(question: str, passages: Sequence[Passage]) -> Passage | None:
        """The passage whose heading is an FAQ question the user asked in other words."""
        asked = set(key_terms(question))
        for passage in passages:
            if not passage.section.rstrip().endswith("?"):
                continue
            faq_terms = set(key_terms(passage.section))
            if not faq_terms:
                continue
            shared = len(asked & faq_terms)
            if shared / len(faq_terms) >= FAQ_MATCH and shared / max(len(asked), 1) >= FAQ_MATCH:
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
            citations.append(
                Citation(
                    document=passage.document,
                    section=passage.section,
                    quote=passage.text[first.start : last.end],
                    start=passage.start + first.start,
                    end=passage.start + last.end,
                    source=passage.source,
                    passage_id=passage.id,
                )
            )
            parts.append(f"{passage.text[first.start : last.end]} [{len(citations)}]")

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
