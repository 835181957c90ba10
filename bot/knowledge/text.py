"""Small text utilities shared by the stages: sentence spans and word tokens.

Sentences are returned as (start, end) spans into the text they came from, so a
quote built from them is verbatim by construction.
"""

from __future__ import annotations

import re
import unicodedata

# A sentence ends at . ! or ? (optionally followed by a closing quote or bracket)
# when whitespace and an upper-case letter, digit, quote or currency sign follow.
# "$5 billion." ends a sentence; "U.S. firms" and "5.5 billion" do not.
_SENTENCE_END = re.compile(r"""[.!?]['"”’)\]]*(?=\s+["“‘'(\[$A-Z0-9])""")
_ABBREVIATIONS = (
    "U.S.",
    "U.K.",
    "Mr.",
    "Mrs.",
    "Ms.",
    "Dr.",
    "Inc.",
    "Corp.",
    "Ltd.",
    "e.g.",
    "i.e.",
    "vs.",
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split `text` into sentences; each span is stripped of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if any(text[:end].endswith(abbr) for abbr in _ABBREVIATIONS):
            continue
        spans.append(strip_span(text, start, end))
        start = end
    if text[start:].strip():
        spans.append(strip_span(text, start, len(text)))
    return [span for span in spans if span[1] > span[0]]


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Narrow (start, end) so the span neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# Digits and letters are separate words ("5ghz" is "5 ghz"); a number keeps its
# decimal or thousands separators ("24.04", "3,200").
_WORD = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[a-z]+")


def normalize(text: str) -> str:
    """Fold compatibility forms, typographic quotes and case, for matching only."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return text.lower()


def words(text: str) -> list[str]:
    """Lower-case word tokens, numbers kept whole ("5", "100", "2023")."""
    return _WORD.findall(normalize(text))
