"""Opens the search index for a knowledge folder so that it is always usable.

The index is derived data: whatever happened to BOT_DATA_DIR, it can be built
again from the knowledge folder. `open_index` therefore

- holds a lock on BOT_DATA_DIR while it opens and updates the index, so a second
  process starting at the same moment waits for the first to finish instead of
  opening a half-written index (Chroma's embedded client is not process-safe);
- checks the index answers a query, and when it is unreadable, corrupt or gone,
  deletes what is left and builds it again, saying so in the log;
- turns what still fails (a read-only or full disk) into a `StoreError` that
  names BOT_DATA_DIR.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from ..errors import StoreError
from ..knowledge import Section
from ..settings import Settings
from .chroma import ensure_data_dir
from .collection import LOCK_TIMEOUT, Progress, SectionStore, SyncReport

if TYPE_CHECKING:
    from .embedding import Embedder

log = logging.getLogger(__name__)

LOCK_NAME = "index.lock"
REBUILD_PAUSE = 30.0  # seconds between attempts to rebuild an index that stays broken


def local_index_path(settings: Settings) -> Path | None:
    """Where the embedded Chroma keeps its files; None when a Chroma server holds them."""
    return None if settings.chroma_host else Path(settings.data_dir).expanduser() / "chroma"


def open_index(
    settings: Settings,
    sections: Sequence[Section],
    embedder: Callable[[], Embedder],
    *,
    force: bool = False,
    fresh: bool = False,
    progress: Progress | None = None,
) -> tuple[SectionStore, SyncReport]:
    """The index for `sections`, up to date and answering queries.

    `force` re-embeds everything; `fresh` drops this process's cached Chroma
    client first, for when the files changed under it; `progress` is told how
    the embedding goes.
    """
    folder = ensure_data_dir(settings)  # its own StoreError says what to fix
    path = local_index_path(settings)
    try:
        with FileLock(folder / LOCK_NAME, timeout=LOCK_TIMEOUT):
            if path is not None and (fresh or not (path / "chroma.sqlite3").exists()):
                # Else a client cached before the files went would serve the deleted ones.
                forget_chroma_client(path)
            try:
                return _open_and_check(settings, sections, embedder, force, progress)
            except StoreError as error:
                if path is None:
                    raise  # a server's data is not ours to delete
                log.warning(
                    "The search index in %s cannot be used (%s); deleting it and building it "
                    "again from %s.", path, error, settings.knowledge_dir,
                )
                discard(path)
                try:
                    return _open_and_check(settings, sections, embedder, True, progress)
                except StoreError as again:
                    raise StoreError(
                        f"Cannot build the search index in BOT_DATA_DIR={folder}: {again} "
                        "Check that the folder is writable and has free space, or point "
                        "BOT_DATA_DIR at another folder.",
                        location=str(folder),
                    ) from again
    except Timeout as error:
        raise StoreError(
            f"Another process has held {folder / LOCK_NAME} for {LOCK_TIMEOUT:.0f}s while "
            "building the index; if none is running, delete that file.",
            location=str(folder),
        ) from error


def _open_and_check(
    settings: Settings,
    sections: Sequence[Section],
    embedder: Callable[[], Embedder],
    force: bool,
    progress: Progress | None,
) -> tuple[SectionStore, SyncReport]:
    store = SectionStore.open(settings)
    if store.size == 0 and sections:
        log.info("The search index is empty or missing: building it from %s.",
                 settings.knowledge_dir)
    report = store.sync(sections, embedder, force=force, progress=progress)
    store.probe()
    return store, report


def discard(path: Path) -> None:
    """Delete the local index files and forget any client still reading them."""
    forget_chroma_client(path)
    shutil.rmtree(path, ignore_errors=True)


def forget_chroma_client(path: Path) -> None:
    """Make the next client for `path` read the files anew.

    Chroma shares one client system per path within a process and keeps serving
    the files it first opened, even after they were deleted or replaced. Clients
    already open keep working on what they have.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    for name in ("_identifier_to_system", "_identifier_to_refcount"):
        getattr(SharedSystemClient, name, {}).pop(str(path), None)


class Rebuilder:
    """Rebuilds one retriever's index when it breaks; one that stays broken is tried
    again every REBUILD_PAUSE seconds, not on every question. Not thread-safe: the
    retriever calls it under its own lock."""

    def __init__(
        self, settings: Settings, sections: Sequence[Section], embedder: Callable[[], Embedder]
    ) -> None:
        self.settings = settings
        self.sections = tuple(sections)
        self.embedder = embedder
        self._next_try = 0.0
        self._failure: StoreError | None = None  # why the last attempt failed

    def rebuild(self, reason: str) -> tuple[SectionStore, SyncReport]:
        if self._failure is not None and time.monotonic() < self._next_try:
            raise self._failure
        self._next_try = time.monotonic() + REBUILD_PAUSE
        log.warning("The search index broke (%s); rebuilding it.", reason)
        try:
            store, report = open_index(self.settings, self.sections, self.embedder, fresh=True)
        except StoreError as error:
            self._failure = error
            raise
        self._failure = None
        log.warning("The search index is back: %s", report)
        return store, report
