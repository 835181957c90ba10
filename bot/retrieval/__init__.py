"""Stage 3, retrieval: the sections that best answer a question.

- `keywords`: BM25 over the sections' words;
- `fusion`: reciprocal rank fusion of the dense and keyword rankings;
- `followups`: which earlier question a follow-up builds on;
- `retriever`: `Retriever`, the hybrid search, shared per knowledge folder.
"""

from .followups import follows_from, previous_question
from .fusion import RRF_K, fuse
from .keywords import KeywordIndex, keyword_tokens
from .retriever import (
    CANDIDATE_DEPTH,
    Retrieval,
    Retriever,
    get_retriever,
    reset_retrievers,
)

__all__ = [
    "CANDIDATE_DEPTH",
    "RRF_K",
    "KeywordIndex",
    "Retrieval",
    "Retriever",
    "follows_from",
    "fuse",
    "get_retriever",
    "keyword_tokens",
    "previous_question",
    "reset_retrievers",
]
