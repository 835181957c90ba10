"""What the knowledge folder is about, in its own words, for whatever reader-facing
text must name it: the page's title and examples, the refusal, Claude's prompt.

Nothing here is written for one document: the words come from the documents'
titles, their section headings and FAQ questions, and the `examples:` list a
document may carry in its front matter.
"""

from __future__ import annotations

from dataclasses import dataclass

from .loader import Knowledge

MAX_TOPICS = 6
MAX_EXAMPLES = 6
# Headings that say where a section sits rather than what it is about.
_STRUCTURAL = frozenset({
    "summary", "overview", "introduction", "background", "conclusion", "final take",
    "frequently asked questions", "faq", "faqs", "key details", "details", "contents",
    "table of contents", "notes", "references", "see also", "contacts", "contact",
})


@dataclass(frozen=True)
class Overview:
    titles: tuple[str, ...]  # the documents' titles, in file order
    topics: tuple[str, ...]  # section headings that name a subject, not a question
    questions: tuple[str, ...]  # the documents' own FAQ questions
    examples: tuple[str, ...]  # what the page offers: front matter examples, then FAQs

    @property
    def title(self) -> str:
        """One line naming the knowledge base: its title, or its first titles."""
        if len(self.titles) == 1:
            return self.titles[0]
        if len(self.titles) <= 3:
            return "; ".join(self.titles)
        return f"{'; '.join(self.titles[:2])} and {len(self.titles) - 2} more documents"


def overview(knowledge: Knowledge) -> Overview:
    titles = tuple(dict.fromkeys(document.title for document in knowledge.documents))
    questions: list[str] = []
    topics: list[str] = []
    for section in knowledge.sections:
        if section.title.rstrip().endswith("?"):
            questions.append(section.title.strip())
        elif (
            section.title not in titles
            and section.title.strip().lower() not in _STRUCTURAL
            and len(section.title.split()) <= 8  # an excerpt of a paragraph is no topic
            and section.title.strip().lower() not in (t.lower() for t in topics)
        ):
            topics.append(section.title.strip())
    offered = [e for document in knowledge.documents for e in document.examples]
    examples = tuple(dict.fromkeys([*offered, *questions]))[:MAX_EXAMPLES]
    return Overview(titles, tuple(topics[:MAX_TOPICS]), tuple(dict.fromkeys(questions)),
                    examples)
