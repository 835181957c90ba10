"""Stage 1, knowledge: the documents of the knowledge folder, split into sections.

Every section's text is an exact slice of its file, and `sentence_spans` splits it
into sentences as (start, end) offsets, so anything quoted from them is verbatim.
"""

from .loader import (
    SUFFIXES,
    Document,
    Knowledge,
    Section,
    folder_state,
    knowledge_version,
    load_knowledge,
    load_sections,
)
from .overview import Overview, overview
from .text import normalize, sentence_spans, strip_span, words

__all__ = [
    "SUFFIXES",
    "Document",
    "Knowledge",
    "Overview",
    "Section",
    "folder_state",
    "knowledge_version",
    "load_knowledge",
    "load_sections",
    "normalize",
    "overview",
    "sentence_spans",
    "strip_span",
    "words",
]
