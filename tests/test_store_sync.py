"""Syncing the section store: each section embedded once, only what changed re-embedded,
what was removed forgotten, and the index stamped with the knowledge version."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from store_case import SECTIONS, RecordingEmbedder, no_model, section

from bot.errors import KnowledgeError
from bot.knowledge import knowledge_version
from bot.settings import Settings
from bot.store import (
    Embedder,
    SectionStore,
    SyncReport,
    embedded_text,
    open_client,
)


def test_the_first_sync_embeds_every_section_with_its_headings(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    report = SectionStore.open(fresh_settings).sync(SECTIONS, lambda: recorder)
    assert report == SyncReport(embedded=4, unchanged=0, deleted=0)
    assert sorted(recorder.texts) == sorted(embedded_text(s) for s in SECTIONS)
    assert embedded_text(SECTIONS[1]).startswith("FAQ > What are Trainium chips?\n")


def test_a_second_sync_of_unchanged_sections_needs_no_model(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    SectionStore.open(fresh_settings).sync(SECTIONS, lambda: recorder)
    recorder.texts.clear()
    # A fresh client, as after a restart of the bot.
    restarted = SectionStore.open(fresh_settings, client=open_client(fresh_settings))
    report = restarted.sync(SECTIONS, no_model)
    assert report == SyncReport(embedded=0, unchanged=4, deleted=0)
    assert recorder.texts == []


def test_editing_one_section_re_embeds_exactly_that_one(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(fresh_settings)
    store.sync(SECTIONS, lambda: recorder)
    recorder.texts.clear()
    edited = replace(SECTIONS[2], text="Anthropic will secure up to 7 gigawatts of power.")
    report = store.sync([*SECTIONS[:2], edited, SECTIONS[3]], lambda: recorder)
    assert report == SyncReport(embedded=1, unchanged=3, deleted=0)
    assert recorder.texts == [embedded_text(edited)]
    best_id, _ = store.query(recorder.embed_query("7 gigawatts of power"), 1)[0]
    assert best_id == edited.id


def test_a_section_that_only_moved_is_not_re_embedded(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(fresh_settings)
    store.sync(SECTIONS, lambda: recorder)
    moved = [replace(s, start=s.start + 40, end=s.end + 40) for s in SECTIONS]
    assert store.sync(moved, no_model) == SyncReport(embedded=0, unchanged=4, deleted=0)


def test_a_forced_rebuild_re_embeds_every_section_once(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(fresh_settings)
    store.sync(SECTIONS, lambda: recorder)
    recorder.texts.clear()
    assert store.sync(SECTIONS, lambda: recorder, force=True).embedded == 4
    assert sorted(recorder.texts) == sorted(embedded_text(s) for s in SECTIONS)
    assert store.size == 4


def test_a_removed_section_is_deleted_and_never_found_again(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(fresh_settings)
    store.sync(SECTIONS, lambda: recorder)
    report = store.sync(SECTIONS[:3], no_model)
    assert report == SyncReport(embedded=0, unchanged=3, deleted=1)
    hits = store.query(recorder.embed_query("Who created ChatGPT?"), 10)
    assert [id_ for id_, _ in hits if id_ == SECTIONS[3].id] == []
    assert store.size == 3


def test_the_knowledge_version_is_kept_with_the_index(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    SectionStore.open(fresh_settings).sync(SECTIONS, lambda: recorder)
    reopened = SectionStore.open(fresh_settings, client=open_client(fresh_settings))
    assert reopened.knowledge_version == knowledge_version(SECTIONS)
    reopened.sync(SECTIONS[:2], no_model)
    assert reopened.knowledge_version == knowledge_version(SECTIONS[:2])


def test_an_edited_long_section_leaves_no_sentence_of_its_old_text_behind(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    old = section("long", ("Reaction",), "Analysts cheered. Investors were calm. Rivals frowned.")
    store = SectionStore.open(fresh_settings)
    store.sync([old], lambda: recorder)
    store.sync([replace(old, text="Analysts were quiet.")], lambda: recorder)
    assert store.size == 1
    assert store.sync([replace(old, text="Analysts were quiet.")], no_model).embedded == 0


def test_two_syncs_at_once_embed_each_section_only_once(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    client = open_client(fresh_settings)
    stores = [SectionStore.open(fresh_settings, client=client) for _ in range(2)]
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


def test_sections_with_the_same_id_are_refused(fresh_settings: Settings) -> None:
    with pytest.raises(KnowledgeError, match="deal/money"):
        SectionStore.open(fresh_settings).sync([SECTIONS[0], SECTIONS[0]], no_model)


def test_one_vector_per_section_embeds_each_section_once_and_a_layout_change_re_embeds(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    long_section = section("long", ("Reaction",), "Analysts cheered. Investors were calm.")
    sections = [*SECTIONS, long_section]
    whole = SectionStore.open(fresh_settings, per_sentence=False)
    assert whole.sync(sections, lambda: recorder).embedded == 5
    assert sorted(recorder.texts) == sorted(embedded_text(s) for s in sections)
    assert whole.size == 5
    assert whole.query(recorder.embed_query("Were investors calm?"), 1)[0][0] == long_section.id
    per_sentence = SectionStore.open(fresh_settings, client=open_client(fresh_settings))
    assert per_sentence.sync(sections, lambda: recorder).embedded == 5
    assert per_sentence.size == 5 + 2


def test_records_are_read_a_page_at_a_time_and_none_is_missed(
    fresh_settings: Settings, recorder: RecordingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.store.chroma.READ_PAGE", 3)
    long_section = section("long", ("Reaction",), "Analysts cheered. Investors were calm.")
    sections = [*SECTIONS, long_section]
    store = SectionStore.open(fresh_settings)
    store.sync(sections, lambda: recorder)
    assert store.size == 7  # three pages
    recorder.texts.clear()
    edited = replace(SECTIONS[0], text="Amazon is investing $6 billion.")
    assert store.sync([edited, *sections[1:]], lambda: recorder) == SyncReport(1, 4, 0)
    assert store.size == 7 and recorder.texts == [embedded_text(edited)]
    reopened = SectionStore.open(fresh_settings, client=open_client(fresh_settings))
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
    fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.measurement.synthetic import synthetic_sections

    monkeypatch.setattr("bot.store.collection.UPSERT_BATCH", 900)  # fewer round trips, same records
    sections = synthetic_sections(6200)
    store = SectionStore.open(fresh_settings)
    assert store.sync(sections, UnitVectors).embedded == 6200
    assert store.size > 32766
    reopened = SectionStore.open(fresh_settings, client=open_client(fresh_settings))
    assert reopened.sync(sections, no_model) == SyncReport(0, 6200, 0)
    assert reopened.sync(sections[:6000], no_model) == SyncReport(0, 6000, 200)
