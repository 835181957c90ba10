"""The section store embeds each section once, re-embeds only what changed, forgets
what was removed, and finds the nearest sections by cosine similarity."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from chroma_server import ChromaServer

from bot.errors import KnowledgeError, StoreError
from bot.knowledge import Section, knowledge_version, load_sections
from bot.settings import Settings
from bot.store import (
    Embedder,
    SectionStore,
    SyncReport,
    collection_name,
    embedded_text,
    open_client,
    vector_texts,
)


class RecordingEmbedder(Embedder):
    """The real model, remembering every text it was asked to embed."""

    def __init__(self, model_dir: Path) -> None:
        super().__init__(model_dir)
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts, batch_size)


def section(slug: str, heading: tuple[str, ...], text: str, start: int = 0) -> Section:
    return Section(
        id="deal/" + slug,
        document="The deal",
        document_slug="deal",
        title=heading[-1],
        heading_path=heading,
        text=text,
        source="deal.md",
        start=start,
        end=start + len(text),
    )


SECTIONS = [
    section("money", ("FAQ", "How much is Amazon investing?"),
            "Amazon is investing an immediate $5 billion, up to $25 billion in total."),
    section("chips", ("FAQ", "What are Trainium chips?"),
            "Trainium chips are computer hardware designed by Amazon to train AI models."),
    section("power", ("Key Details", "Numbers"),
            "Anthropic will secure up to 5 gigawatts of power capacity for its data centers."),
    section("chatgpt", ("Background",),
            "Most people know ChatGPT, which was created by OpenAI with Microsoft's money."),
]


@pytest.fixture(scope="module")
def model() -> RecordingEmbedder:
    return RecordingEmbedder(Path(os.environ["BOT_EMBEDDING_MODEL_DIR"]))


@pytest.fixture
def recorder(model: RecordingEmbedder) -> RecordingEmbedder:
    model.texts.clear()
    return model


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    return Settings(knowledge_dir=knowledge, data_dir=tmp_path / "data")


def no_model() -> Embedder:
    raise AssertionError("the model was asked for although nothing changed")


def test_the_first_sync_embeds_every_section_with_its_headings(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    report = SectionStore.open(settings).sync(SECTIONS, lambda: recorder)
    assert report == SyncReport(embedded=4, unchanged=0, deleted=0)
    assert sorted(recorder.texts) == sorted(embedded_text(s) for s in SECTIONS)
    assert embedded_text(SECTIONS[1]).startswith("FAQ > What are Trainium chips?\n")


def test_a_second_sync_of_unchanged_sections_needs_no_model(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    SectionStore.open(settings).sync(SECTIONS, lambda: recorder)
    recorder.texts.clear()
    # A fresh client, as after a restart of the bot.
    report = SectionStore.open(settings, client=open_client(settings)).sync(SECTIONS, no_model)
    assert report == SyncReport(embedded=0, unchanged=4, deleted=0)
    assert recorder.texts == []


def test_editing_one_section_re_embeds_exactly_that_one(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(settings)
    store.sync(SECTIONS, lambda: recorder)
    recorder.texts.clear()
    edited = replace(SECTIONS[2], text="Anthropic will secure up to 7 gigawatts of power.")
    report = store.sync([*SECTIONS[:2], edited, SECTIONS[3]], lambda: recorder)
    assert report == SyncReport(embedded=1, unchanged=3, deleted=0)
    assert recorder.texts == [embedded_text(edited)]
    best_id, _ = store.query(recorder.embed_query("7 gigawatts of power"), 1)[0]
    assert best_id == edited.id


def test_a_section_that_only_moved_is_not_re_embedded(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(settings)
    store.sync(SECTIONS, lambda: recorder)
    moved = [replace(s, start=s.start + 40, end=s.end + 40) for s in SECTIONS]
    assert store.sync(moved, no_model) == SyncReport(embedded=0, unchanged=4, deleted=0)


def test_a_forced_rebuild_re_embeds_every_section_once(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(settings)
    store.sync(SECTIONS, lambda: recorder)
    recorder.texts.clear()
    assert store.sync(SECTIONS, lambda: recorder, force=True).embedded == 4
    assert sorted(recorder.texts) == sorted(embedded_text(s) for s in SECTIONS)
    assert store.size == 4


def test_a_removed_section_is_deleted_and_never_found_again(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(settings)
    store.sync(SECTIONS, lambda: recorder)
    report = store.sync(SECTIONS[:3], no_model)
    assert report == SyncReport(embedded=0, unchanged=3, deleted=1)
    hits = store.query(recorder.embed_query("Who created ChatGPT?"), 10)
    assert [id_ for id_, _ in hits if id_ == SECTIONS[3].id] == []
    assert store.size == 3


def test_the_knowledge_version_is_kept_with_the_index(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    SectionStore.open(settings).sync(SECTIONS, lambda: recorder)
    reopened = SectionStore.open(settings, client=open_client(settings))
    assert reopened.knowledge_version == knowledge_version(SECTIONS)
    reopened.sync(SECTIONS[:2], no_model)
    assert reopened.knowledge_version == knowledge_version(SECTIONS[:2])


def test_query_returns_cosine_similarities_best_first_and_at_most_the_collection_size(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(settings)
    store.sync(SECTIONS, lambda: recorder)
    vector = recorder.embed_query("What are Trainium chips?")
    hits = store.query(vector, 50)
    assert len(hits) == 4
    assert hits[0][0] == SECTIONS[1].id
    similarities = [similarity for _, similarity in hits]
    assert similarities == sorted(similarities, reverse=True)
    expected = float(vector @ recorder.embed([embedded_text(SECTIONS[1])])[0])
    assert similarities[0] == pytest.approx(expected, abs=1e-4)


def test_a_fact_deep_in_a_long_section_is_found_by_its_own_sentence(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    long_section = section(
        "background",
        ("Background and Context",),
        "To understand why this matters, look at the tech world. Microsoft invested "
        "billions into OpenAI to get an early lead. Most people know ChatGPT, which was "
        "created by OpenAI. Anthropic was started by former OpenAI employees.",
    )
    store = SectionStore.open(settings)
    store.sync([*SECTIONS[:3], long_section], lambda: recorder)
    assert len(vector_texts(long_section)) == 5  # the section, then its four sentences
    assert store.size == 3 + 5
    vector = recorder.embed_query("Who created ChatGPT?")
    best_id, similarity = store.query(vector, 4)[0]
    assert best_id == long_section.id
    whole = float(vector @ recorder.embed([embedded_text(long_section)])[0])
    assert similarity > whole + 0.1


def test_an_edited_long_section_leaves_no_sentence_of_its_old_text_behind(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    old = section("long", ("Reaction",), "Analysts cheered. Investors were calm. Rivals frowned.")
    store = SectionStore.open(settings)
    store.sync([old], lambda: recorder)
    store.sync([replace(old, text="Analysts were quiet.")], lambda: recorder)
    assert store.size == 1
    assert store.sync([replace(old, text="Analysts were quiet.")], no_model).embedded == 0


def test_several_questions_in_one_query_rank_as_each_would_alone(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(settings)
    store.sync(SECTIONS, lambda: recorder)
    vectors = recorder.embed(["What are Trainium chips?", "Who created ChatGPT?"])
    together = store.query_many(list(vectors), 3)
    alone = [store.query(vector, 3) for vector in vectors]
    assert [[id_ for id_, _ in r] for r in together] == [[id_ for id_, _ in r] for r in alone]
    assert [r[0][0] for r in together] == [SECTIONS[1].id, SECTIONS[3].id]


def test_an_empty_index_answers_queries_with_nothing(settings: Settings) -> None:
    assert SectionStore.open(settings).query(np.ones(384, dtype=np.float32), 4) == []


def test_two_syncs_at_once_embed_each_section_only_once(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    client = open_client(settings)
    stores = [SectionStore.open(settings, client=client) for _ in range(2)]
    start = threading.Barrier(2)
    reports: list[SyncReport] = []

    def slow_model() -> Embedder:
        time.sleep(0.5)  # time enough for the other sync to read an empty index, unlocked
        return recorder

    def run(store: SectionStore) -> None:
        start.wait()
        reports.append(store.sync(SECTIONS, slow_model))

    threads = [threading.Thread(target=run, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.embedded for r in reports) == [0, 4]
    assert len(recorder.texts) == 4


def test_sections_with_the_same_id_are_refused(settings: Settings) -> None:
    with pytest.raises(KnowledgeError, match="deal/money"):
        SectionStore.open(settings).sync([SECTIONS[0], SECTIONS[0]], no_model)


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
    settings = Settings(
        knowledge_dir=tmp_path,
        data_dir=tmp_path / "data",
        chroma_host="127.0.0.1",
        chroma_port=chroma_server,
        chroma_auth_token="not-checked-by-this-server",
    )
    store = SectionStore.open(settings)
    assert store.sync(SECTIONS, lambda: recorder).embedded == 4
    again = SectionStore.open(settings, client=open_client(settings))
    assert again.sync(SECTIONS, no_model).unchanged == 4
    assert again.query(recorder.embed_query("What are Trainium chips?"), 1)[0][0] == SECTIONS[1].id
    assert not (tmp_path / "data" / "chroma").exists()


ARTICLE_QUESTIONS = [
    "How much is Amazon investing?",
    "What are Trainium chips?",
    "how much power capacity",
    "who created ChatGPT",
    "What did analysts think of the deal?",
    "whats a good recipe for banana bread",
]


def test_the_in_memory_copy_ranks_sections_exactly_as_a_chroma_query_does(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    sections = load_sections(Path(__file__).resolve().parent.parent / "knowledge")
    synced = SectionStore.open(settings)
    synced.sync(sections, lambda: recorder)
    # Opened without a sync, a store has no copy and asks Chroma.
    chroma = SectionStore.open(settings, client=open_client(settings))
    assert synced.in_memory and not chroma.in_memory
    vectors = list(recorder.embed(ARTICLE_QUESTIONS))
    k = len(sections)  # Chroma's fan-out then reaches every vector: a full ranking
    for ours, theirs in zip(synced.query_many(vectors, k), chroma.query_many(vectors, k),
                            strict=True):
        assert [id_ for id_, _ in ours] == [id_ for id_, _ in theirs]
        assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], abs=1e-5)


def test_a_collection_too_big_to_hold_is_searched_by_chroma(
    settings: Settings, recorder: RecordingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.store.collection.IN_MEMORY_LIMIT", 3)
    store = SectionStore.open(settings)
    store.sync(SECTIONS, lambda: recorder)
    assert not store.in_memory
    assert store.query(recorder.embed_query("What are Trainium chips?"), 1)[0][0] == SECTIONS[1].id


def test_one_vector_per_section_embeds_each_section_once_and_a_layout_change_re_embeds(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    long_section = section("long", ("Reaction",), "Analysts cheered. Investors were calm.")
    sections = [*SECTIONS, long_section]
    whole = SectionStore.open(settings, per_sentence=False)
    assert whole.sync(sections, lambda: recorder).embedded == 5
    assert sorted(recorder.texts) == sorted(embedded_text(s) for s in sections)
    assert whole.size == 5
    assert whole.query(recorder.embed_query("Were investors calm?"), 1)[0][0] == long_section.id
    per_sentence = SectionStore.open(settings, client=open_client(settings))
    assert per_sentence.sync(sections, lambda: recorder).embedded == 5
    assert per_sentence.size == 5 + 2


def test_records_are_read_a_page_at_a_time_and_none_is_missed(
    settings: Settings, recorder: RecordingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.store.chroma.READ_PAGE", 3)
    long_section = section("long", ("Reaction",), "Analysts cheered. Investors were calm.")
    sections = [*SECTIONS, long_section]
    store = SectionStore.open(settings)
    store.sync(sections, lambda: recorder)
    assert store.size == 7  # three pages
    recorder.texts.clear()
    edited = replace(SECTIONS[0], text="Amazon is investing $6 billion.")
    assert store.sync([edited, *sections[1:]], lambda: recorder) == SyncReport(1, 4, 0)
    assert store.size == 7 and recorder.texts == [embedded_text(edited)]
    reopened = SectionStore.open(settings, client=open_client(settings))
    assert reopened.sync([edited, *sections[1:]], no_model) == SyncReport(0, 5, 0)


class UnitVectors(Embedder):
    """For tests where only the number of vectors matters: short random unit vectors (the
    store takes any dimension, and Chroma indexes short ones fast), no model."""

    def __init__(self) -> None:
        self.random = np.random.default_rng(5)

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        vectors = self.random.standard_normal((len(texts), 8)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.slow
def test_an_index_of_more_records_than_sqlite_takes_in_one_statement_reopens(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.measurement.synthetic import synthetic_sections

    monkeypatch.setattr("bot.store.collection.UPSERT_BATCH", 900)  # fewer round trips, same records
    sections = synthetic_sections(6200)
    store = SectionStore.open(settings)
    assert store.sync(sections, UnitVectors).embedded == 6200
    assert store.size > 32766
    reopened = SectionStore.open(settings, client=open_client(settings))
    assert reopened.sync(sections, no_model) == SyncReport(0, 6200, 0)
    assert reopened.sync(sections[:6000], no_model) == SyncReport(0, 6000, 200)


def test_a_copy_in_memory_is_read_again_once_another_store_changes_the_index(
    settings: Settings, recorder: RecordingEmbedder
) -> None:
    first = SectionStore.open(settings)
    first.sync(SECTIONS, lambda: recorder)
    other = SectionStore.open(settings, client=open_client(settings))  # as another process
    edited = replace(SECTIONS[2], text="Anthropic will secure up to 7 gigawatts of power.")
    other.sync([*SECTIONS[:2], edited, SECTIONS[3]], lambda: recorder)
    vector = recorder.embed_query("7 gigawatts of power")
    (best_id, similarity), = first.query(vector, 1)
    assert first.in_memory
    assert best_id == edited.id
    assert similarity == pytest.approx(other.query(vector, 1)[0][1], abs=1e-5)
