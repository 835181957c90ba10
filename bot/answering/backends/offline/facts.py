"""The kind of fact a question asks for, and whether a sentence carries one.

Patterns of English in general, for any document: an amount of money, a count (in
digits or words), a duration, a date or time, a percentage, a place, a person or an
organisation, a reason, a way of doing something, or how often. A question that asks
for none of these ("what is ...?", "is it ...?") asks for no kind in particular.
"""

from __future__ import annotations

import re
from enum import Enum

from ....retrieval.terms import UNITS

_NUMBER_WORDS = "|".join(sorted(UNITS, key=len, reverse=True))
_NUM = rf"(?:\d[\d,.]*|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))*|a|an|one)"
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november"
           "|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekday|weekend"
_TIME_UNITS = r"(?:second|minute|hour|day|night|week|fortnight|month|quarter|year|decade)s?"


class Kind(Enum):
    MONEY = "money"
    COUNT = "count"
    DURATION = "duration"
    DATE = "date"
    PERCENT = "percent"
    PLACE = "place"
    WHO = "who"
    REASON = "reason"
    METHOD = "method"
    FREQUENCY = "frequency"
    CONDITION = "condition"
    YEAR = "year"
    NAME = "name"
    CONTACT = "contact"
    STATEMENT = "statement"


# Kinds whose patterns are precise enough that a sentence without one cannot be the
# answer; the others (a reason, a way, a place, who) only rank sentences.
STRICT = frozenset({Kind.MONEY, Kind.COUNT, Kind.DURATION, Kind.DATE, Kind.YEAR,
                    Kind.PERCENT, Kind.PLACE, Kind.NAME, Kind.CONTACT, Kind.STATEMENT,
                    Kind.FREQUENCY})


# What a sentence that answers each kind contains. Case-insensitive unless noted.
_CARRIES: dict[Kind, re.Pattern[str]] = {
    Kind.MONEY: re.compile(
        r"\d\s?%|\bper ?cent\b|[$€£¥₹]\s?\d"
        r"|\d[\d,.]*\s?(?:dollars?|euros?|pounds?|usd|eur|gbp|cents?|pence|p\b)"
        r"|\b\d[\d,.]*\s?(?:million|billion|trillion|bn|m|k)\b|\bfree\b|\bno (?:extra )?"
        r"(?:charge|cost|fee)s?\b|\bat no (?:extra )?cost\b",
        re.IGNORECASE),
    Kind.COUNT: re.compile(rf"\b\d[\d,.]*\b|\b(?:{_NUMBER_WORDS})\b|\bdozens?\b|\ba couple\b",
                           re.IGNORECASE),
    Kind.DURATION: re.compile(
        rf"\b{_NUM}[- ](?:\w+[- ])?{_TIME_UNITS}\b|\b(?:a|one|the) (?:\w+ )?{_TIME_UNITS}\b"
        r"|\bovernight\b|\buntil\b|\bfor (?:life|ever|good)\b|\bpermanent",
        re.IGNORECASE),
    Kind.DATE: re.compile(
        rf"\b(?:1[6-9]|20)\d\d\b|\b(?:{_MONTHS})\b\.?|\b(?:{_DAYS})s?\b|\btoday\b|\btomorrow\b"
        r"|\byesterday\b|\bnow\b|\bimmediately\b|\b(?:next|last|this|coming|past|previous)"
        rf" (?:\w+ )?{_TIME_UNITS}\b|\b\d{{1,2}}(?::\d\d)?\s?(?:a\.?m\.?|p\.?m\.?)"
        r"|\bnoon\b|\bmidnight\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\bwithin\b|\bbefore\b"
        r"|\bafter\b|\bby the end\b|\bin (?:the )?(?:spring|summer|autumn|fall|winter)\b",
        re.IGNORECASE),
    Kind.YEAR: re.compile(r"\b(?:1[6-9]|20)\d\d\b"),
    Kind.CONDITION: re.compile(
        r"\bdepends? on\b|\bdepending on\b|\bif\b|\bunless\b|\bprovided\b|\bas long as\b"
        r"|\bonly (?:if|when|after)\b|\bsubject to\b|\brequires?\b|\brequired\b|\bmust\b"
        r"|\bconditional\b|\beligible\b|\bat least\b|\bneeds? to\b|\bhave to\b|\bhas to\b",
        re.IGNORECASE),
    Kind.PERCENT: re.compile(
        r"\d\s?%|\bper ?cent|\bpercentage points?\b|\bhalf\b|\ba (?:third|quarter|fifth)\b"
        r"|\btwo thirds\b|\bthree quarters\b", re.IGNORECASE),
    # Names: a capitalised word that does not start the sentence, or a preposition of
    # place before one. Case-sensitive on purpose.
    Kind.PLACE: re.compile(
        r"\b(?:in|at|near|from|to|into|across|throughout|off|outside|inside|within|on|via)"
        r"\s+(?:the\s+)?[A-Z][\w'-]+|\b(?:city|country|county|state|region|coast|town|village"
        r"|street|road|building|floor|office|site|port|harbour|harbor|room|centre|center"
        r"|online|website|app|portal|page|desk|shop|store|folder|directory|file)\b"
        r"|(?:^|\s)[~.]?/[\w.-]+|\b[\w-]+\.(?:txt|conf|cfg|ini|json|ya?ml|toml|log|csv|md)\b"),
    Kind.WHO: re.compile(
        r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][\w.'-]+)*|\b[A-Z]{2,}\b|\b(?:chief|director|"
        r"manager|officer|head|team|department|committee|council|board|company|firm|employees?"
        r"|founders?|analysts?|investors?|experts?|staff|members?|partners?|customers?|users?"
        r"|engineers?|contractor|supplier|government|agency|minister|mayor|councillors?"
        r"|residents?|people|group|union)\b"),
    Kind.REASON: re.compile(
        r"\bbecause\b|\bsince\b|\bdue to\b|\bas a result\b|\bso that\b|\bin order to\b"
        r"|\bso\b|\bthus\b|\btherefore\b|\bhence\b|\breasons?\b|\bhelps?\b|\ballows?\b"
        r"|\benables?\b|\blets?\b|\bmeans?\b|\bpurpose\b|\bgoal\b|\baims?\b|\bneeded\b"
        r"|\brequire[sd]?\b|\bensures?\b|\bto (?:keep|make|protect|avoid|reduce|give|help"
        r"|prevent|ensure|save|meet|stay|improve|support|lower|cut|secure|build|gain|prove)\b"
        r"|\bwants? to\b|\bdesigned to\b|\bfor (?:safety|security)\b",
        re.IGNORECASE),
    Kind.METHOD: re.compile(
        r"^(?:\W*)(?:[A-Z][a-z]+)\b(?=\s+(?:the|a|an|your|it|them|to|in|on|out|up|down|off|"
        r"with|for|from|at)\b)|\bby\s+\w+ing\b|\buse\b|\busing\b|\brun\b|\bopen\b|\bclick\b|"
        r"\bselect\b|\bchoose\b|\bset\b|\bgo to\b|\bcontact\b|\bemail\b|\bcall\b|\bsubmit\b|"
        r"\bfill\b|\bsend\b|\binstall\b|\bpress\b|\btap\b|\bstep\b|\bapply\b|\bform\b|\bthrough\b",
        re.IGNORECASE),
    Kind.FREQUENCY: re.compile(
        rf"\bevery\b|\beach\b|\bdaily\b|\bweekly\b|\bmonthly\b|\bnightly\b|\bhourly\b|\byearly"
        rf"\b|\bannual(?:ly)?\b|\b(?:once|twice|{_NUM} times?)\b|\bper {_TIME_UNITS}\b"
        r"|\ba (?:day|week|month|year)\b|\balways\b|\bnever\b|\busually\b|\boften\b",
        re.IGNORECASE),
    # A name: capitalised words that do not start the sentence, or a quoted term.
    Kind.NAME: re.compile(
        r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'-]*(?:\s+[A-Z0-9][\w.'-]*)*|[\"“‘`][^\"”’`]+[\"”’`]"),
    Kind.CONTACT: re.compile(
        r"\+?\d[\d ()-]{6,}\d|[\w.+-]+@[\w-]+\.[\w.]+|\bwww\.|https?://|\b\w+\.(?:com|org|net|io|"
        r"co\.uk|gov|eu)\b|\b\d+\s+[A-Z]\w+\s+(?:Street|St|Road|Rd|Avenue|Ave|Lane|Way)\b"),
    Kind.STATEMENT: re.compile(
        r"\b(?:said|says|say|told|tells|stated|states|announced|announces|noted|notes|commented"
        r"|added|explained|argued|warned|according to|called it|described)\b", re.IGNORECASE),
}

_MONEY_WORDS = re.compile(
    r"\b(?:cost|costs|price|prices|priced|pay|paid|paying|pays|charge|charged|fee|fees|spend|"
    r"spent|spending|invest\w*|money|cash|worth|value|valued|budget|fund\w*|salary|wage|owe|"
    r"refund\w*|expensive|cheap|afford|dollars?|euros?|pounds?|raise[ds]?|earn\w*|revenue|"
    r"profit|reimburs\w*|allowance|compensation|grant|deposit|bill\w*|subscription)\b")


def asked_kind(question: str) -> Kind | None:
    """The kind of fact `question` asks for, if it asks for one in particular."""
    q = " ".join(question.lower().replace("’", "'").split())
    if re.search(r"\b(?:phone|telephone) number\b|\bemail(?: address)?\b|\bwebsite\b|\burl\b"
                 r"|\b(?:postal|street) address\b|\bhow (?:do|can) i (?:contact|reach|call"
                 r"|email)\b", q):
        return Kind.CONTACT
    if re.search(r"\bwhat(?:'?s| is| was| are)? (?:the |its |their )?names? of\b"
                 r"|\bwhat(?:'s| is| are| was| were) (?:[\w']+ ){1,4}called\b", q):
        return Kind.NAME
    if re.search(r"\b(?:what|did|does|has) (?:\w+ ){0,4}(?:say|said|comment|announce)\b", q):
        return Kind.STATEMENT
    if re.search(r"\bhow (?:often|frequently)\b|\bhow many times\b", q):
        return Kind.FREQUENCY
    if re.search(r"\bhow long\b|\bhow many (?:years|months|weeks|days|hours|minutes|nights)\b"
                 r"|\bfor how long\b|\bover what (?:period|time)\b|\bwhat period\b|\bhow soon\b"
                 r"|\bwhat (?:is|'s) the (?:duration|length|period|term|window|deadline)\b", q):
        return Kind.DURATION
    if re.search(r"\b(?:what|which|how much) (?:percent|percentage|share|proportion|fraction"
                 r"|rate)\b|\bwhat (?:is|'s) the (?:percentage|share|rate)\b|\bpercent\b", q):
        return Kind.PERCENT
    if re.search(r"\bhow (?:much|expensive|big|large|costly)\b|\bwhat (?:does|do|did|will|is|'s"
                 r"|are) (?:it |they |the \w+ |\w+ )?(?:cost|price|charge|pay|worth)\b"
                 r"|\b(?:what|which) (?:price|amount|fee|sum|budget|value|total)\b"
                 r"|\bwhat (?:is|'s) the (?:price|cost|fee|amount|total|value|budget|salary"
                 r"|allowance|sum|worth)\b|\bwhat(?:'s| is| was| are| were) (?:[\w']+ ){0,5}"
                 r"(?:price|prices|cost|costs|revenue|salary|budget|fee|fees|valuation|value"
                 r"|worth)\b", q):
        return Kind.MONEY if _MONEY_WORDS.search(q) or "how much" not in q else Kind.COUNT
    if re.search(r"\bhow many\b|\bwhat (?:is|'s) the (?:number|count|total number|size)\b"
                 r"|\bnumber of\b|\bhow big\b", q):
        return Kind.COUNT
    if re.search(r"\b(?:what|which|in what|by what) years?\b", q):
        return Kind.YEAR
    if re.search(r"\bwhen\b|\bwhat (?:year|date|day|month|time)\b|\bwhich (?:year|date|day"
                 r"|month)s?\b|\bby what date\b|\bwhat (?:is|'s) the (?:date|deadline)\b", q):
        return Kind.DATE
    if re.search(r"\bwhere\b|\bwhich (?:city|country|state|place|location|region|site|town"
                 r"|port|county|office)\b|\bwhat (?:city|country|state|place|location|region"
                 r"|site|town|port|county)\b", q):
        return Kind.PLACE
    if re.search(r"\bwho\b|\bwhom\b|\bwhose\b|\bwhich (?:company|companies|firm|firms|person"
                 r"|people|team|organi[sz]ation|body|department|group|supplier|partner)\b"
                 r"|\bwhat (?:company|firm|organi[sz]ation|team|department)\b", q):
        return Kind.WHO
    if re.search(r"\bconditions?\b|\bdepends? on\b|\brequirements?\b|\bcriteria\b"
                 r"|\beligib\w*|\bunder what (?:circumstances|conditions)\b|\bstrings attached\b"
                 r"|\bguaranteed\b|\bwhat do (?:i|you|we) need\b"
                 r"|\bwho (?:qualifies|can apply)\b", q):
        return Kind.CONDITION
    if re.search(r"\bwhy\b|\bwhat for\b|\bfor what reason\b|\bhow come\b|\bwhat (?:is|'s|was)"
                 r" the (?:reason|point|purpose|goal|aim|motivation|rationale)\b", q):
        return Kind.REASON
    if re.search(r"\bhow (?:do|can|should|would|could|does) (?:i|we|you|one|they|staff|an?"
                 r" \w+)\b|\bhow to\b|\bwhat (?:steps|is the process|do i need to do)\b"
                 r"|\bwhat should i do\b|\bwhat do i do\b", q):
        return Kind.METHOD
    return None


def carries(sentence: str, kind: Kind, asked: frozenset[str] = frozenset()) -> bool:
    """Whether `sentence` holds a fact of `kind`. A name or place counts only if it is
    not one the question itself says (`asked`: its lower-case words): "Who runs X?" is
    not answered by a sentence that merely names X."""
    for match in _CARRIES[kind].finditer(sentence):
        if kind not in (Kind.WHO, Kind.PLACE, Kind.NAME):
            return True
        named = {w.strip(".'-").lower() for w in match.group().split()[-3:]}
        if not named <= asked | _PLAIN:
            return True
    return False


_PLAIN = frozenset({"in", "at", "near", "from", "to", "into", "across", "throughout", "off",
                    "outside", "inside", "within", "on", "via", "the"})
