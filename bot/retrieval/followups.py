"""Follow-up questions: whether a question builds on the conversation, and on what.

A question is read with the earlier one only when it cannot stand alone: it opens
like a continuation ("and when?", "what about ..."), or it points back ("why does
that matter?") with too few words of its own that the knowledge base knows, or it
has no such words at all; and only when the earlier question was about the knowledge
base (most of its words are ones the documents use). A question that stands on its
own is read alone, and a conversation about something else is no context, so an
unrelated conversation before a question changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..knowledge import words
from ..types import Turn
from .terms import terms

# Words that point back at something said before.
ANAPHORS = frozenset({
    "it", "its", "that", "this", "these", "those", "they", "them", "their", "he", "she",
    "him", "his", "her", "such", "former", "latter",
})
OPENERS = ("and", "but", "also", "so", "then", "plus", "or")
ABOUT = (("what", "about"), ("how", "about"), ("what", "else"), ("how", "come"))
OWN_WORDS = 2  # a question pointing back with this many known words of its own still leans


def previous_question(history: Sequence[Turn], question: str) -> str | None:
    """The latest earlier user question, skipping a copy of the current one."""
    for turn in reversed(history):
        earlier = turn.content.strip()
        if turn.role == "user" and earlier and earlier != question.strip():
            return earlier
    return None


def follows_from(
    question: str, history: Sequence[Turn], known: Callable[[str], bool]
) -> str | None:
    """The earlier question `question` builds on, or None when it stands on its own.

    `known` tells whether a stem occurs in the knowledge base.
    """
    earlier = previous_question(history, question)
    if earlier is None:
        return None
    earlier_terms = terms(earlier)
    if sum(map(known, earlier_terms)) * 2 < max(len(earlier_terms), 1):
        return None  # the conversation was about something the documents do not cover
    said = words(question)
    own = [t for t in terms(question) if known(t)]
    if said and (said[0] in OPENERS or tuple(said[:2]) in ABOUT):
        return earlier
    if not own or (ANAPHORS.intersection(said) and len(own) <= OWN_WORDS):
        return earlier
    return None
