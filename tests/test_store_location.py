"""Where the section store lives: a collection per knowledge folder, the data folder
made or refused by name, and a Chroma server when CHROMA_HOST is set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chroma_server import ChromaServer
from store_case import SECTIONS, RecordingEmbedder, no_model

from bot.errors import StoreError
from bot.settings import Settings
from bot.store import (
    SectionStore,
    collection_name,
    open_client,
)


def test_each_knowledge_folder_gets_its_own_collection(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    name = collection_name(tmp_path / "a")
    assert name.startswith("kb-") and len(name) == 15
    assert name == collection_name(tmp_path / "b" / ".." / "a")
    assert name != collection_name(tmp_path / "b")


def test_an_unusable_data_folder_is_a_store_error_naming_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="BOT_DATA_DIR"):
        open_client(Settings(data_dir=blocker / "data"))


def test_a_missing_data_folder_is_created(tmp_path: Path) -> None:
    open_client(Settings(data_dir=tmp_path / "new" / "data"))
    assert (tmp_path / "new" / "data" / "chroma").is_dir()


def test_an_unreachable_chroma_server_is_a_store_error_naming_the_setting() -> None:
    # Port 9 (discard) on loopback: nothing listens there.
    with pytest.raises(StoreError, match="CHROMA_HOST"):
        open_client(Settings(chroma_host="127.0.0.1", chroma_port=9))


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """A real Chroma server on a free loopback port, stopped after the test."""
    with ChromaServer(tmp_path / "srv") as server:
        yield server.port


@pytest.mark.slow
def test_with_chroma_host_set_the_index_lives_on_the_server(
    chroma_server: int, tmp_path: Path, recorder: RecordingEmbedder
) -> None:
    fresh_settings = Settings(
        knowledge_dir=tmp_path,
        data_dir=tmp_path / "data",
        chroma_host="127.0.0.1",
        chroma_port=chroma_server,
        chroma_auth_token="not-checked-by-this-server",
    )
    store = SectionStore.open(fresh_settings)
    assert store.sync(SECTIONS, lambda: recorder).embedded == 4
    again = SectionStore.open(fresh_settings, client=open_client(fresh_settings))
    assert again.sync(SECTIONS, no_model).unchanged == 4
    assert again.query(recorder.embed_query("What are Trainium chips?"), 1)[0][0] == SECTIONS[1].id
    assert not (tmp_path / "data" / "chroma").exists()
