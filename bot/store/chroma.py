"""Opens Chroma: a client of the server at CHROMA_HOST, else an embedded store in
BOT_DATA_DIR, with errors that name the setting to fix; reads a collection whole."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import chromadb
from chromadb.config import Settings as ChromaSettings

from ..errors import StoreError
from ..settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import GetResult, Include

# Chroma fails when several threads create clients at once, so creation is serialised.
_client_lock = threading.Lock()
# Records read per `get`: Chroma's local store asks SQLite about all of them in one
# statement, which SQLite refuses past 32766 (an index of ~6k sections with sentences).
READ_PAGE = 10_000


def _chroma_settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False)


def server_url(settings: Settings) -> str | None:
    """The Chroma server's address when CHROMA_HOST is set."""
    if not settings.chroma_host:
        return None
    scheme = "https" if settings.chroma_ssl else "http"
    return f"{scheme}://{settings.chroma_host}:{settings.chroma_port}"


def open_client(settings: Settings) -> ClientAPI:
    """A Chroma server client when CHROMA_HOST is set, else a local one in BOT_DATA_DIR."""
    if (where := server_url(settings)) is not None:
        headers = {}
        if settings.chroma_auth_token:
            # The two headers Chroma's token auth (or a proxy doing it for Chroma 1.x) reads.
            bearer = settings.chroma_auth_header.lower() == "authorization"
            token = settings.chroma_auth_token
            headers[settings.chroma_auth_header] = f"Bearer {token}" if bearer else token
        try:
            with _client_lock:
                return chromadb.HttpClient(
                    host=settings.chroma_host,
                    port=settings.chroma_port,
                    ssl=settings.chroma_ssl,
                    headers=headers,
                    settings=_chroma_settings(),
                )
        except Exception as error:
            # A proxy's refusal comes back as a whole HTML page: one line of it is plenty.
            detail = " ".join(str(error).split())[:160]
            if re.search(r"\b(401|403)\b|Unauthorized|Forbidden", detail):
                raise StoreError(
                    f"The Chroma server at {where} refused the token ({detail}). Check "
                    "CHROMA_AUTH_TOKEN, and CHROMA_AUTH_HEADER (Authorization or X-Chroma-Token).",
                    location=where,
                ) from error
            raise StoreError(
                f"Cannot reach the Chroma server at {where} ({type(error).__name__}: {detail}). "
                "Check CHROMA_HOST, CHROMA_PORT, CHROMA_SSL and CHROMA_AUTH_TOKEN, or unset "
                "CHROMA_HOST to keep the index locally in BOT_DATA_DIR.",
                location=where,
            ) from error
    folder = ensure_data_dir(settings)
    path = folder / "chroma"
    try:
        with _client_lock:
            return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    except Exception as error:
        raise StoreError(
            f"Cannot open the local index in {path} ({type(error).__name__}: {error}).",
            location=str(path),
        ) from error


def ensure_data_dir(settings: Settings) -> Path:
    """BOT_DATA_DIR, created if missing; StoreError when it cannot be made or written."""
    folder = Path(settings.data_dir).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise StoreError(
            f"BOT_DATA_DIR={folder} cannot be used ({error.strerror or error}). "
            "Point BOT_DATA_DIR at a folder this process can create and write to.",
            location=str(folder),
        ) from error
    return folder


def read_pages(collection: Collection, include: Include) -> Iterator[GetResult]:
    """Every record of `collection`, one page of READ_PAGE records at a time."""
    offset = 0
    while True:
        page = collection.get(include=include, limit=READ_PAGE, offset=offset)
        yield page
        if len(page["ids"]) < READ_PAGE:
            return
        offset += READ_PAGE


def file_stamp(path: Path | None) -> tuple[int, int] | None:
    """Size and modification time of a file; None when there is none."""
    if path is None:
        return None
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns
