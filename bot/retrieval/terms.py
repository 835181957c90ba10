"""The words of a text as search and the offline answerer compare them: one tokenizer.

Lower-cased words, stopwords dropped (NLTK's English list, as bm25s ships it), each
stemmed by the Snowball English stemmer (PyStemmer), numbers kept whole. A spelled-out
number also gives its digits ("fourteen" → "14"), so "How many sites?" meets
"fourteen locations" and "14 sites" alike.
"""

from __future__ import annotations

import re
import threading

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from ..knowledge import words

# NLTK's list, plus its words written without the apostrophe ("dont", "whats").
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | {w.replace("'", "") for w in STOPWORDS_EN_PLUS}
# Words about asking rather than about the subject ("tell me what the text says about").
ASKING = frozenset({
    "tell", "say", "says", "said", "explain", "describe", "mention", "mentioned", "mentions",
    "please", "know", "give", "anything", "something", "thing", "things", "kind", "sort",
    "type", "way", "also", "exactly", "actually", "really", "basically", "like", "lot", "bit",
    "would", "could", "might", "must", "shall", "yes", "get", "got",
})
UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
    "dozen": 12, "once": 1, "twice": 2, "single": 1, "double": 2, "half": 0.5,
}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_local = threading.local()  # a Stemmer object must not be shared between threads


def _stemmer() -> Stemmer.Stemmer:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def stem(word: str) -> str:
    """The Snowball stem of one lower-case word; numbers are left as they are."""
    return word if _NUMBER.fullmatch(word) else str(_stemmer().stemWord(word))


def content_words(text: str) -> list[str]:
    """The words of `text` that carry its subject, in order, lower-cased and unstemmed."""
    return [w for w in words(text)
            if (w not in STOPWORDS and w not in ASKING and len(w) > 1) or _NUMBER.fullmatch(w)]


def terms(text: str) -> list[str]:
    """Stems of the content words of `text`, with the digits of spelled-out numbers."""
    found = []
    for word in content_words(text):
        found.append(stem(word))
        if word in UNITS and isinstance(UNITS[word], int):
            found.append(str(UNITS[word]))
    return found
