"""How questions are read: which words carry the topic, which mean the same, and
what kind of fact a question asks for.

Shared by the offline answerer (to tell what a question is about and which sentence
holds it) and by keyword search (so "electricity" finds "power" and "rivals" finds
"competitors"). The synonym groups are plain English near-synonyms and inflections,
plus a few expressions of the news domain ("up front", "bottom line").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..knowledge.text import normalize, stem, words


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words, question words and chat fillers: they say nothing about the topic.
STOPWORDS = _set(
    """a about above after again all also am an and any are as at be been being both but by
    can could did do does doing done during each for from further had has have having he her
    here hers him his how i if in into is it its itself just me more most my no nor not now
    of off on once only or other our out over own same she should so some such than that the
    their them then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours tell please
    know say says said according article news story give explain describe mean means much
    many there's what's whats it's us get got going actually really exactly basically kind
    type sort thing things anything something way lot let like one ones r u ur wat wot pls plz
    thx"""
)
# Words in almost every question about this article: on their own they cannot tell
# an answerable question from a near miss.
GENERIC = _set("amazon anthropic deal agreement partnership company companies ai news")
GENERIC |= {stem(word) for word in GENERIC}
# Nouns that name the kind of answer wanted ("in which years?") rather than its topic.
ANSWER_TYPES = _set("year date period time amount number figure long")
# Multi-word expressions folded into one word before matching.
PHRASES = {
    "amazon web services": "aws",
    "up front": "immediate",
    "upfront": "immediate",
    "right away": "immediate",
    "right now": "immediate",
    "bottom line": "conclusion",
    "in short": "summary",
    "data centres": "data centers",
    "how much more": "how much additional",
    "going forward": "future",
}
# Each group of words is folded onto its first word.
SYNONYM_GROUPS = (
    "start found founder founded started began begin origin origins",
    "invest investing investment money cash fund funding pay paying paid payment putting",
    "chip chips processor processors hardware semiconductor semiconductors",
    "power energy electricity gigawatt gigawatts",
    "spend spending commit commitment",
    "cloud aws",
    "rival rivals competitor competitors competition compete competing",
    "expert experts analyst analysts reaction react reacted opinion",
    "goal goals milestone milestones condition conditions target targets",
    "total altogether overall max maximum",
    "before previous previously earlier already prior",
    "decade decades",
    "benefit gain gains help helps advantage",
    "future later next eventually coming come",
    "immediate immediately",
    "conclusion takeaway final verdict",
    "summary summarize summarise overview gist",
    "use used uses using usage",
    "grow grows growing grew bigger increase increases rise expand",
    "important central key crucial matter matters",
    "standard normal regular ordinary typical conventional",
    "leave leaving switch switching quit",
    "service services provider providers vendor vendors",
    "additional extra another",
    "view views see sees regard consider",
    "customer customers user users client clients",
)
SYNONYMS = {w: group.split()[0] for group in SYNONYM_GROUPS for w in group.split()}
ANAPHORS = _set("this these that those it its they their them such")


MONEY = re.compile(r"\$\s?\d|\b(billions?|millions?|dollars?)\b", re.IGNORECASE)
QUANTITY = re.compile(r"\d|\b(billions?|millions?|thousands?|hundreds?)\b", re.IGNORECASE)
TIME = re.compile(
    r"\b(19|20)\d\d\b|\b(next|coming|past|last)\s+(\w+\s+)?(years?|decade|months?)\b"
    r"|\bdecade\b|\bimmediate|\bright now\b|\btoday\b|\b(january|february|march|april|may"
    r"|june|july|august|september|october|november|december)\b",
    re.IGNORECASE,
)
NUMBER = re.compile(r"\d|\b(two|three|four|five|six|seven|eight|nine|ten|thousands?)\b", re.I)
MONEY_WORDS = re.compile(
    r"\$|\b(cost|costs|price|worth|pay|paid|paying|money|cash|revenue|profit|dollars?|fees?)\b"
    r"|\b(invest|spend|valu|fund|stake|salar)\w*",
)
# The noun naming what is asked for: "which chips", "how many rounds", "what rivals did".
HEAD = re.compile(
    r"\bwhich (\w+)|\bhow (?:much|many) (\w+)|\bwhat (\w+) (?:is|are|was|were|do|does|did|will"
    r"|would|can|could|has|have|had|should)\b"
)
# "What are the milestones?": the article may name them only vaguely ("specific milestones").
LISTED = re.compile(r"\bwhat (?:exactly )?(?:is|are|was|were) the (\w+)")
VAGUE = r"\b(certain|specific|some|various|unspecified|unnamed)\s+"
# A place or platform: a preposition followed by a name ("in Seattle", "of Amazon Web Services").
PLACE = re.compile(r"\b(in|at|into|inside|on|across|near|from|of)\s+(the\s+)?[A-Z][a-z]+")


def fold_phrases(text: str) -> str:
    """Normalised `text` with each multi-word expression folded into one word."""
    text = normalize(text)
    for phrase, word in PHRASES.items():
        text = re.sub(rf"\b{phrase}\b", word, text)
    return text


def synonym_key(word: str) -> str | None:
    """The group a word (or its stem) belongs to, if any."""
    return SYNONYMS.get(word) or SYNONYMS.get(stem(word))


@dataclass(frozen=True)
class Term:
    root: str  # the lightly stemmed word
    key: str  # its synonym group


def terms(text: str) -> list[Term]:
    """Content words of `text`: stemmed, and folded onto shared synonyms."""
    found = []
    for word in words(fold_phrases(text)):
        if word in STOPWORDS or len(word) < 2:
            continue
        root = stem(word)
        found.append(Term(root, SYNONYMS.get(word, SYNONYMS.get(root, root))))
    return found


def asks_for(question: str) -> re.Pattern[str] | None:
    """The kind of fact the question wants, as a pattern a good sentence matches."""
    q = normalize(question)
    if re.search(r"\bhow (much|big|large)\b|\bcost\b|\bprice\b|\bamount\b|\bworth\b", q):
        return MONEY if MONEY_WORDS.search(q) else QUANTITY
    if re.search(
        r"\bwhen\b|\bwhat (year|date|period)|\bwhich years?\b|\bhow long\b|\bover what\b", q
    ):
        return TIME
    if re.search(r"\bhow many\b|\bwhat number\b", q):
        return NUMBER
    if re.search(r"\bwhere\b", q):
        return PLACE
    return None


def close_spelling(word: str, vocabulary: set[str]) -> str | None:
    """A vocabulary word one edit (two for long words) from a misspelt `word`."""
    if len(word) < 6:
        return None
    limit = 2 if len(word) >= 8 else 1
    for known in sorted(vocabulary):
        close = known[0] == word[0] and abs(len(known) - len(word)) <= limit
        if close and _distance(word, known, limit) <= limit:
            return known
    return None


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, giving up past `limit`."""
    previous, current = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, current = previous, current, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if before and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
    return current[-1]


def asked_thing(question: str) -> Term | None:
    """The term naming what is asked for, if the question names it."""
    match = HEAD.search(fold_phrases(question))
    if match is None:
        return None
    found = terms(next(g for g in match.groups() if g))
    if not found or found[0].key in GENERIC or found[0].key in ANSWER_TYPES:
        return None
    return found[0]


def only_vaguely(sentence: str, question: str) -> bool:
    """True when the question asks what the X are and the sentence names X only vaguely."""
    listed = LISTED.search(normalize(question))
    if listed is None or not terms(listed.group(1)):
        return False
    key = terms(listed.group(1))[0].key
    mentions = [
        m for m in re.finditer(r"\w+", sentence) if [t.key for t in terms(m.group())] == [key]
    ]
    return bool(mentions) and all(
        re.search(VAGUE + "$", sentence[: m.start()], re.IGNORECASE) for m in mentions
    )


def counts(sentence: str, thing: Term) -> bool:
    """True when a number in the sentence counts `thing`: "two separate rounds", "5 gigawatts"."""
    tokens = words(sentence)
    return any(
        (NUMBER.fullmatch(token) or token.isdigit())
        and any(t.key == thing.key for t in terms(" ".join(tokens[i + 1 : i + 4])))
        for i, token in enumerate(tokens)
    )
