"""Keeps the knowledge sections' vectors in Chroma and finds the nearest ones.

One collection per knowledge folder, cosine space, no Chroma embedding function:
vectors always come from `bot.embedding.Embedder`. Each section is stored as one
vector for the whole section (headings included) plus one per sentence, and a query
scores a section by its best vector. `SectionStore.sync` re-embeds only the sections
whose content changed, so a restart with an unchanged folder does not touch the
model at all. A small local collection is also held in memory (`bot.dense`) and
searched there, exactly, instead of through a Chroma query; with a Chroma server every
question goes to the server, so an outage or a lost collection is noticed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.errors import NotFoundError
from filelock import FileLock, Timeout

from ..errors import BotError, KnowledgeError, StoreError
from ..knowledge import Section, knowledge_version
from ..settings import Settings
from .chroma import ensure_data_dir, file_stamp, open_client, read_pages, server_url
from .dense import IN_MEMORY_LIMIT, DenseIndex, section_of
from .records import LAYOUT, SECTION_LAYOUT, collection_name, vector_texts

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from .embedding import Embedder

log = logging.getLogger(__name__)

UPSERT_BATCH = 16  # sections per upsert, and per step of the progress report
QUERY_FANOUT = 8  # vectors fetched per wanted section, since a section has several
FETCHED_LIMIT = 20_000  # vectors of a big or remote collection kept once read back
Progress = Callable[[int, int], None]  # (sections embedded so far, sections to embed)
LOCK_TIMEOUT = 300.0  # seconds; embedding the whole article takes a few


class MissingCollectionError(StoreError):
    """The collection was deleted, or the server lost its data; a sync rebuilds it."""


@dataclass(frozen=True)
class SyncReport:
    embedded: int
    unchanged: int
    deleted: int


class SectionStore:
    """The Chroma collection for one knowledge folder: a few vectors per section."""

    def __init__(
        self,
        client: ClientAPI,
        name: str,
        lock_path: Path,
        location: str | None = None,
        files: Path | None = None,
        *,
        per_sentence: bool = True,
    ) -> None:
        self.name = name
        self.per_sentence = per_sentence  # a vector per sentence besides the section's
        self.layout = LAYOUT if per_sentence else SECTION_LAYOUT
        self.location = location or name  # the server's URL, for messages
        self.files = files  # the local database file; None for a server or an unknown place
        self._remote = location is not None
        self._client = client
        self._lock_path = lock_path
        self._dense: DenseIndex | None = None  # set by sync when the collection is small
        self._fetched: dict[str, np.ndarray] = {}  # vectors read back from a big collection
        self._stamp: tuple[int, int] | None = None  # the database file as `_dense` saw it
        try:
            self._collection = self._open_collection()
            self._size = self._collection.count()
        except Exception as error:
            raise StoreError(
                f"Cannot open the Chroma collection {name} ({type(error).__name__}: {error}).",
                location=name,
            ) from error

    def _open_collection(self) -> Collection:
        return self._client.get_or_create_collection(
            name=self.name,
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )

    @classmethod
    def open(
        cls, settings: Settings, client: ClientAPI | None = None, *, per_sentence: bool = True
    ) -> SectionStore:
        client = client if client is not None else open_client(settings)
        name = collection_name(settings.knowledge_dir)
        folder = ensure_data_dir(settings)
        where = server_url(settings)
        files = folder / "chroma" / "chroma.sqlite3" if where is None else None
        return cls(client, name, folder / f"{name}.sync.lock", where, files,
                   per_sentence=per_sentence)

    def present(self) -> bool:
        """False once the local index files have been deleted under this store."""
        return self.files is None or self.files.exists()

    def probe(self) -> None:
        """StoreError unless the index answers a query: the database can be readable
        while the vector index beside it is not."""
        if self._size == 0:
            return
        try:
            sample = self._collection.get(limit=1, include=["embeddings"])
            self._collection.query(
                query_embeddings=[sample["embeddings"][0]], n_results=1, include=["distances"]
            )
        except Exception as error:
            raise StoreError(
                f"The Chroma collection {self.name} in {self.location} does not answer queries "
                f"({type(error).__name__}: {error}).",
                location=self.location,
            ) from error

    @property
    def size(self) -> int:
        """Vectors stored (more than sections: each sentence has one too)."""
        return self._size

    @property
    def in_memory(self) -> bool:
        """Whether queries are answered from the in-memory copy rather than by Chroma."""
        return self._dense is not None

    @property
    def knowledge_version(self) -> str | None:
        version = (self._collection.metadata or {}).get("knowledge_version")
        return str(version) if version is not None else None

    def sync(
        self,
        sections: Sequence[Section],
        embedder: Callable[[], Embedder],
        *,
        force: bool = False,
        progress: Progress | None = None,
    ) -> SyncReport:
        """Make the collection hold exactly `sections`; `embedder` is called only if
        something needs embedding. `force` re-embeds every section. `progress` is told
        (sections embedded so far, sections to embed) before and after each batch."""
        wanted = {section.id: section for section in sections}
        if len(wanted) != len(sections):
            twice = next(id_ for id_, n in Counter(s.id for s in sections).items() if n > 1)
            raise KnowledgeError(f"Two sections share the id {twice!r}; headings must differ.")
        version = knowledge_version(list(sections))
        try:
            # Two processes starting at once would both embed and upsert; one waits.
            with FileLock(self._lock_path, timeout=LOCK_TIMEOUT):
                report = self._sync_locked(wanted, embedder, version, force, progress)
        except Timeout as error:
            raise StoreError(
                f"Another process has been updating the index for {LOCK_TIMEOUT:.0f}s "
                f"(lock {self._lock_path}); if none is running, delete that file.",
                location=str(self._lock_path),
            ) from error
        log.info("Index %s: %s", self.name, report)
        return report

    def _sync_locked(
        self,
        wanted: dict[str, Section],
        embedder: Callable[[], Embedder],
        version: str,
        force: bool,
        progress: Progress | None,
    ) -> SyncReport:
        try:
            # Reopened under the lock: the metadata another process wrote is cached stale.
            self._collection = self._open_collection()
            metadata = self._collection.metadata or {}
            force = force or metadata.get("layout") != self.layout
            records: dict[str, list[str]] = {}  # section id -> its record ids
            hashes: dict[str, object] = {}
            for page in read_pages(self._collection, ["metadatas"]):  # type: ignore[list-item]
                for record_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                    section_id = str((meta or {}).get("section_id", record_id))
                    records.setdefault(section_id, []).append(record_id)
                    hashes[section_id] = (meta or {}).get("content_hash")
            changed = [
                s for id_, s in wanted.items() if force or hashes.get(id_) != s.content_hash
            ]
            gone = sorted(set(records) - set(wanted))
            stale = [r for id_ in (*gone, *(s.id for s in changed)) for r in records.get(id_, [])]
            if stale:
                self._collection.delete(ids=stale)
            if changed:
                model = embedder()
                for start in range(0, len(changed), UPSERT_BATCH):
                    if progress is not None:
                        progress(start, len(changed))
                    self._add(changed[start : start + UPSERT_BATCH], model)
                if progress is not None:
                    progress(len(changed), len(changed))
            if metadata != (stamp := {"knowledge_version": version, "layout": self.layout}):
                self._collection.modify(metadata=stamp)
            self._dense = self._copy()
        except BotError:
            raise
        except Exception as error:
            raise StoreError(
                f"Cannot update the Chroma collection {self.name} "
                f"({type(error).__name__}: {error}).",
                location=self.name,
            ) from error
        return SyncReport(
            embedded=len(changed), unchanged=len(wanted) - len(changed), deleted=len(gone)
        )

    def _copy(self) -> DenseIndex | None:
        """The collection's vectors in memory, if it is local and small enough."""
        self._stamp = file_stamp(self.files)
        self._size = self._collection.count()
        if self._remote or self._size > IN_MEMORY_LIMIT:
            return None
        stored = self._collection.get(include=["embeddings"])  # fewer than READ_PAGE
        return DenseIndex(stored["ids"], np.asarray(stored["embeddings"], dtype=np.float32))

    def _add(self, batch: list[Section], model: Embedder) -> None:
        ids: list[str] = []
        texts: list[str] = []
        metadatas: list[dict[str, Any]] = []
        for section in batch:
            for n, text in enumerate(vector_texts(section, self.per_sentence)):
                ids.append(f"{section.id}#{n}")
                texts.append(text)
                metadatas.append({"section_id": section.id, "content_hash": section.content_hash})
        self._collection.upsert(
            ids=ids,
            embeddings=model.embed(texts),
            metadatas=metadatas,  # type: ignore[arg-type]
            documents=texts,
        )

    def vectors(self, record_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of `record_ids` (those that exist), from the in-memory copy
        when there is one, else from Chroma, remembered: a section's vectors change only
        with its text, which changes its records."""
        wanted = list(dict.fromkeys(record_ids))
        if self._dense is not None:
            return self._dense.vectors(wanted)
        found = {r: self._fetched[r] for r in wanted if r in self._fetched}
        missing = [r for r in wanted if r not in found]
        if missing:
            try:
                got = self._collection.get(ids=missing, include=["embeddings"])
            except Exception as error:
                raise StoreError(
                    f"Reading vectors from {self.location} failed ({type(error).__name__}: "
                    f"{error}).", location=self.location,
                ) from error
            embeddings = got["embeddings"] if got["embeddings"] is not None else []
            for record_id, vector in zip(got["ids"], embeddings, strict=False):
                found[record_id] = np.asarray(vector, dtype=np.float32)
            if len(self._fetched) > FETCHED_LIMIT:
                self._fetched.clear()
            self._fetched.update({r: found[r] for r in missing if r in found})
        return found

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The `k` nearest sections as (section id, cosine similarity), best first; a
        section's similarity is that of its best-matching vector."""
        return self.query_many([vector], k)[0]

    def query_many(
        self, vectors: Sequence[np.ndarray], k: int
    ) -> list[list[tuple[str, float]]]:
        """`query` for several vectors at once."""
        result = None
        try:
            if self._dense is not None and file_stamp(self.files) != self._stamp:
                # The database changed under us: another process or collection wrote to it,
                # or it was damaged. Reading our vectors again fails if it is broken.
                self._dense = self._copy()
            dense, n = self._dense, min(k * QUERY_FANOUT, self._size)
            if dense is None and n > 0 and k > 0 and len(vectors):
                # Distances only: fetching metadata would cost more than the search itself,
                # and the record id already names its section.
                result = self._collection.query(
                    query_embeddings=[np.asarray(v, dtype=np.float32) for v in vectors],
                    n_results=n,
                    include=["distances"],
                )
        except NotFoundError as error:
            raise MissingCollectionError(
                f"The Chroma collection {self.name} is gone from {self.location} ({error}).",
                location=self.location,
            ) from error
        except Exception as error:
            where = f"the Chroma server at {self.location}" if self._remote else "Chroma"
            raise StoreError(
                f"The search in {where} failed ({type(error).__name__}: {error}).",
                location=self.location,
            ) from error
        if dense is not None:
            return dense.search_many(vectors, k)
        if result is None:
            return [[] for _ in vectors]
        rankings = []
        for record_ids, distances in zip(result["ids"], result["distances"] or [], strict=True):
            best: dict[str, float] = {}
            for record_id, distance in zip(record_ids, distances, strict=True):
                # Nearest first, so the first record of a section is its best.
                best.setdefault(section_of(record_id), 1.0 - float(distance))
            rankings.append(list(best.items())[:k])
        return rankings
