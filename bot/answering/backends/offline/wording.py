"""What the offline answerer says: quotes with their citations, and its few own sentences.

Every sentence it quotes is a verbatim slice of a knowledge file, cited by section;
adjacent quoted sentences share one citation. Its own words (a refusal, the "not
sure" label, the notice about other languages) name what the knowledge folder holds
by its documents' titles, never by words written into the code.
"""

from __future__ import annotations

from collections.abc import Sequence

from ....knowledge import Overview
from ....types import Citation
from ..base import REFUSAL_PREFIX
from .reading import Sentence


def source_name(overview: Overview | None) -> str:
    """How the answerer refers to what it reads: one document by its title."""
    if overview is None or not overview.titles:
        return "the documents here"
    if len(overview.titles) == 1:
        return f"“{overview.titles[0]}”"
    return f"the {len(overview.titles)} documents here"


def refusal(overview: Overview | None) -> str:
    text = f"{REFUSAL_PREFIX} {source_name(overview)}."
    examples = overview.examples[:2] if overview is not None else ()
    if examples:
        text += " You could ask, for example: " + " or ".join(f"“{e}”" for e in examples)
    return text


def unsure_label(overview: Overview | None) -> str:
    name = source_name(overview)
    return f"{name[0].upper()}{name[1:]} doesn't answer that directly; the closest it says:" \
        if name.startswith("“") else \
        f"{name[0].upper()}{name[1:]} don't answer that directly; the closest they say:"


def not_english() -> str:
    return ("Offline mode reads questions in English only, so please ask in English. "
            "When the bot answers with Claude, questions in any language work.")


def not_instructions(overview: Overview | None) -> str:
    return (f"I can only answer questions about {source_name(overview)}, and I can't change "
            "how I work. Please ask about what it says.")


def quote(chosen: Sequence[Sentence]) -> tuple[str, tuple[Citation, ...]]:
    """The chosen sentences in document order, one citation per run of adjacent ones."""
    ordered = sorted(chosen, key=lambda s: (s.rank, s.start))
    citations: list[Citation] = []
    parts: list[str] = []
    run: list[Sentence] = []

    def close_run() -> None:
        first, last = run[0], run[-1]
        passage = first.passage
        text = passage.text[first.start : last.end]
        citations.append(Citation(
            document=passage.document, section=passage.section, quote=text,
            start=passage.start + first.start, end=passage.start + last.end,
            source=passage.source, passage_id=passage.id,
        ))
        parts.append(f"{text} [{len(citations)}]")

    for sentence in ordered:
        adjacent = (
            run and run[-1].passage is sentence.passage
            and not sentence.passage.text[run[-1].end : sentence.start].strip()
        )
        if run and not adjacent:
            close_run()
            run = []
        run.append(sentence)
    if run:
        close_run()
    return " ".join(parts), tuple(citations)
