"""A synthetic knowledge base of article-like sections, generated on the fly for the
scaling benchmark (`python -m bot bench --sizes ...`); nothing here is committed data.

Sections look like a news article's: a heading path under a document title and three to
six sentences of business news about invented companies, with amounts, years, chips
and power. The same seed gives the same sections; every section is different, since
the sentences are filled in at random, so no two texts share one embedding.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from ..knowledge import Section

SECTIONS_PER_DOCUMENT = 12
_PREFIXES = (
    "Aster", "Borea", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Helix", "Indigo",
    "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Onyx", "Pinnacle", "Quartz",
    "Redwood", "Sierra", "Tidal", "Umber", "Vertex", "Willow", "Xenon", "Yarrow", "Zephyr",
)
_SUFFIXES = ("Labs", "Systems", "Cloud", "AI", "Networks", "Robotics", "Data", "Dynamics",
             "Analytics", "Semiconductors", "Energy", "Software")
_PRODUCTS = ("chips", "data centers", "language models", "cloud credits", "servers",
             "robots", "batteries", "satellites", "search tools", "chatbots")
_PLACES = ("Ohio", "Texas", "Oregon", "Virginia", "Dublin", "Singapore", "Tokyo", "Toronto",
           "Frankfurt", "Sydney", "Nevada", "Arizona", "Seoul", "Paris", "Madrid")
_PEOPLE = ("analysts", "investors", "regulators", "engineers", "customers", "rivals",
           "researchers", "lawmakers", "employees", "partners")
_FEELINGS = ("cautiously optimistic", "surprised", "worried", "enthusiastic", "skeptical",
             "divided", "impressed", "unconvinced")
_HEADINGS = (
    ("Summary",), ("Main Impact",), ("Key Details", "What Happened"),
    ("Key Details", "Important Numbers and Facts"), ("Background and Context",),
    ("Public or Industry Reaction",), ("What This Means Going Forward",), ("Final Take",),
)
_QUESTIONS = (
    "How much money is {a} investing in {b}?", "What are {a}'s {product}?",
    "Who are {b}'s main rivals?", "When did {a} first work with {b}?",
)
_SENTENCES = (
    "{a} is investing ${n} billion in {b}, with up to ${m} billion more if goals are met.",
    "Before this news, {a} had already put ${k} million into {b} in {year}.",
    "{b} will spend ${m} billion on {a}'s {product} over the next {years} years.",
    "The deal gives {b} up to {gw} megawatts of power for new {product} in {place}.",
    "Many {people} were {feeling} about the agreement between {a} and {b}.",
    "{a} plans to open {count} new {product} in {place} by {year}.",
    "{b} was founded in {year} by former {a} {people} who wanted safer {product}.",
    "The partnership lets {a} compete with {c} in the market for {product}.",
    "Sales of {b}'s {product} grew {pct} percent in {year}, according to {people}.",
    "{c} responded by cutting the price of its {product} by {pct} percent.",
    "Some {people} in {place} asked whether {a} is paying too much for {b}.",
    "{a}'s custom {product} are designed to train large models {pct} percent faster.",
    "Customers of {a} will see {b}'s tools built into the {product} they already use.",
    "The agreement runs until {year} and covers {count} {product} across {place}.",
)


class _Writer:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.companies = [f"{p} {s}" for p in _PREFIXES for s in _SUFFIXES]

    def fill(self, template: str, a: str, b: str) -> str:
        pick = self.random.choice
        return template.format(
            a=a, b=b, c=pick(self.companies), product=pick(_PRODUCTS), place=pick(_PLACES),
            people=pick(_PEOPLE), feeling=pick(_FEELINGS),
            n=self.random.randint(1, 60), m=self.random.randint(2, 150),
            k=self.random.randint(10, 900), year=self.random.randint(2012, 2034),
            years=self.random.randint(2, 15), gw=self.random.randint(1, 12),
            count=self.random.randint(2, 400), pct=self.random.randint(2, 95),
        )

    def section_text(self, a: str, b: str) -> str:
        templates = self.random.sample(_SENTENCES, self.random.randint(3, 6))
        return " ".join(self.fill(template, a, b) for template in templates)


def synthetic_sections(count: int, seed: int = 7) -> list[Section]:
    """`count` distinct article-like sections, grouped into documents of a dozen."""
    return list(_generate(count, seed))


def _generate(count: int, seed: int) -> Iterator[Section]:
    writer = _Writer(seed)
    for number in range(count):
        doc, place = divmod(number, SECTIONS_PER_DOCUMENT)
        pair = random.Random(seed * 1_000_003 + doc).sample(writer.companies, 2)
        a, b = pair
        document = f"{a} and {b}: a new partnership ({doc + 1})"
        slug = f"synthetic-{doc + 1}"
        if place < len(_HEADINGS):
            headings = _HEADINGS[place]
        else:
            template = _QUESTIONS[place % len(_QUESTIONS)]
            headings = ("Frequently Asked Questions", writer.fill(template, a, b))
        text = writer.section_text(a, b)
        yield Section(
            id=f"{slug}/s{place + 1}",
            document=document,
            document_slug=slug,
            title=headings[-1],
            heading_path=headings,
            text=text,
            source=f"{slug}.md",
            start=0,
            end=len(text),
        )


def synthetic_questions(count: int, seed: int = 11) -> list[str]:
    """`count` distinct questions in the synthetic sections' vocabulary."""
    writer = _Writer(seed)
    asked: dict[str, None] = {}
    forms = (
        "How much is {a} investing in {b}?", "How many megawatts of power will {b} get?",
        "What did {people} think of the {a} deal?", "When was {b} founded?",
        "Where will {a} build new {product}?", "Who competes with {a} in {product}?",
        "how much will {b} spend on {a}'s cloud", "what happened between {a} and {b} in {year}",
    )
    while len(asked) < count:
        a, b = writer.random.sample(writer.companies, 2)
        asked.setdefault(writer.fill(writer.random.choice(forms), a, b))
    return list(asked)
