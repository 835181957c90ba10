"""What one section becomes in the store: the collection it lives in, the texts that
are embedded for it, and the record that holds each of its sentences' vectors.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..knowledge import Section, sentence_spans

# Stored with the collection; a change of what is embedded re-embeds everything.
LAYOUT = "all-MiniLM-L6-v2/section+sentences/1"
SECTION_LAYOUT = "all-MiniLM-L6-v2/section/1"  # half the tokens to embed, a fifth the vectors
def collection_name(knowledge_dir: Path) -> str:
    """Stable per knowledge folder, so two folders never share (and fight over) one index."""
    digest = hashlib.sha256(str(Path(knowledge_dir).resolve()).encode()).hexdigest()
    return f"kb-{digest[:12]}"


def embedded_text(section: Section) -> str:
    """What the model sees: headings (FAQ questions among them) take part in matching."""
    return " > ".join(section.heading_path) + "\n" + section.text


def vector_texts(section: Section, per_sentence: bool = True) -> list[str]:
    """The whole section, then (if `per_sentence`) each of its sentences on its own.

    A question usually asks for one fact; a sentence vector matches it more sharply
    than the vector of a long section, where the fact is averaged with the rest.
    """
    if not per_sentence:
        return [embedded_text(section)]
    sentences = [section.text[a:b] for a, b in sentence_spans(section.text)]
    return [embedded_text(section), *(sentences if len(sentences) > 1 else [])]


def sentence_records(section: Section, per_sentence: bool = True) -> list[str]:
    """The record holding each sentence's vector, in `sentence_spans` order: the
    sentence's own, or the section's when it was stored whole (one sentence, or the
    one-vector-per-section layout)."""
    count = len(sentence_spans(section.text))
    if per_sentence and count > 1:
        return [f"{section.id}#{n}" for n in range(1, count + 1)]
    return [f"{section.id}#0"] * count
