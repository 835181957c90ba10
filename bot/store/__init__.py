"""Stage 2, store: the sections' vectors, embedded once and kept in Chroma.

- `embedding`: all-MiniLM-L6-v2 on onnxruntime, each text at its own length;
- `chroma`: opens Chroma, embedded under BOT_DATA_DIR or a server at CHROMA_HOST;
- `records`: what a section becomes in the store: its collection, texts and records;
- `collection`: `SectionStore`, one collection per knowledge folder, synced by hash;
- `dense`: the exact in-memory copy a small local collection is searched in;
- `index`: the index's life cycle: opened under a lock, checked, rebuilt when broken.
"""

from .chroma import ensure_data_dir, open_client, server_url
from .collection import MissingCollectionError, Progress, SectionStore, SyncReport
from .dense import DenseIndex, top_indices
from .embedding import Embedder, resolve_model_dir
from .index import Rebuilder, discard, local_index_path, open_index
from .records import (
    LAYOUT,
    SECTION_LAYOUT,
    collection_name,
    embedded_text,
    sentence_records,
    vector_texts,
)

__all__ = [
    "LAYOUT",
    "SECTION_LAYOUT",
    "DenseIndex",
    "Embedder",
    "MissingCollectionError",
    "Progress",
    "Rebuilder",
    "SectionStore",
    "SyncReport",
    "collection_name",
    "discard",
    "embedded_text",
    "ensure_data_dir",
    "local_index_path",
    "open_client",
    "open_index",
    "resolve_model_dir",
    "sentence_records",
    "server_url",
    "top_indices",
    "vector_texts",
]
