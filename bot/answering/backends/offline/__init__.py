"""The offline answerer: no key, no network, answers by quoting the documents.

It reads the retrieved passages sentence by sentence (`reading`), picks the ones that
answer the question by general signals and decides how sure it may be (`choosing`),
and quotes them verbatim with their citations (`wording`): an answer, a labelled
"not sure" with the closest sentences, or a refusal naming what the knowledge folder
holds. A question that is not in English is told so (`language`); an attempt to
change its instructions is declined. A follow-up is read with the question it builds
on, as retrieval found it (`Evidence.follows`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import ClassVar

from ....types import Answer
from ...guard import looks_like_injection
from ..base import AnswerRequest, Backend
from . import wording
from .choosing import Chooser, Outcome
from .language import is_english
from .reading import Question, read_sentences


class OfflineBackend(Backend):
    name: ClassVar[str] = "offline"
    needs_key: ClassVar[bool] = False
    can_stream: ClassVar[bool] = False

    def stream(self, request: AnswerRequest) -> Iterator[Answer]:
        yield self._answer(request)

    def _answer(self, request: AnswerRequest) -> Answer:
        if looks_like_injection(request.question):
            return self._declined(request, wording.not_instructions(request.overview))
        if not is_english(request.question):
            return self._declined(request, wording.not_english())
        evidence = request.evidence
        vocabulary = evidence.vocabulary if evidence is not None else None
        question = Question.read(request.question, vocabulary)
        follows = evidence.follows if evidence is not None else None
        context = Question.read(follows, vocabulary) if follows else None
        if context is not None and question.kind is None and _elliptical(question.text):
            # "and in Manchester?" after "who handles it in Dublin?" still asks who.
            question = replace(question, kind=context.kind)
        sentences = read_sentences(request.passages, evidence)
        chooser = Chooser(sentences, evidence, request.history, request.question)
        choice = chooser.choose(question, context)
        if choice.outcome is Outcome.REFUSE or not choice.sentences:
            return self._declined(request, wording.refusal(request.overview))
        text, citations = wording.quote(choice.sentences)
        unsure = choice.outcome is Outcome.UNSURE
        if unsure:
            text = f"{wording.unsure_label(request.overview)} {text}"
        return Answer(
            text=text, citations=citations, passages=request.passages, refused=False,
            unsure=unsure, backend=self.name, warnings=request.warnings,
            knowledge_version=request.knowledge_version,
        )

    def _declined(self, request: AnswerRequest, text: str) -> Answer:
        return Answer(
            text=text, passages=request.passages, refused=True, backend=self.name,
            warnings=request.warnings, knowledge_version=request.knowledge_version,
        )


_ASKING_WORD = re.compile(r"\W*(?:(?:and|but|so|or|also|then|plus)\W+)*(?:who|whom|whose|what|"
                          r"when|where|why|how|which|is|are|was|were|do|does|did|can|could|will"
                          r"|would|should|has|have|had)\b", re.IGNORECASE)


def _elliptical(question: str) -> bool:
    """A follow-up with no question word of its own: "and to the pi?", "the other one?"."""
    return not _ASKING_WORD.match(question)
