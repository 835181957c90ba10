"""Searching the section store: cosine similarities best first, sentence vectors, and
the in-memory copy ranking exactly as a Chroma query does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from store_case import SECTIONS, RecordingEmbedder, section

from bot.knowledge import load_sections
from bot.settings import Settings
from bot.store import (
    SectionStore,
    embedded_text,
    open_client,
    vector_texts,
)


def test_query_returns_cosine_similarities_best_first_and_at_most_the_collection_size(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(fresh_settings)
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
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    long_section = section(
        "background",
        ("Background and Context",),
        "To understand why this matters, look at the tech world. Microsoft invested "
        "billions into OpenAI to get an early lead. Most people know ChatGPT, which was "
        "created by OpenAI. Anthropic was started by former OpenAI employees.",
    )
    store = SectionStore.open(fresh_settings)
    store.sync([*SECTIONS[:3], long_section], lambda: recorder)
    assert len(vector_texts(long_section)) == 5  # the section, then its four sentences
    assert store.size == 3 + 5
    vector = recorder.embed_query("Who created ChatGPT?")
    best_id, similarity = store.query(vector, 4)[0]
    assert best_id == long_section.id
    whole = float(vector @ recorder.embed([embedded_text(long_section)])[0])
    assert similarity > whole + 0.1


def test_several_questions_in_one_query_rank_as_each_would_alone(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    store = SectionStore.open(fresh_settings)
    store.sync(SECTIONS, lambda: recorder)
    vectors = recorder.embed(["What are Trainium chips?", "Who created ChatGPT?"])
    together = store.query_many(list(vectors), 3)
    alone = [store.query(vector, 3) for vector in vectors]
    assert [[id_ for id_, _ in r] for r in together] == [[id_ for id_, _ in r] for r in alone]
    assert [r[0][0] for r in together] == [SECTIONS[1].id, SECTIONS[3].id]


def test_an_empty_index_answers_queries_with_nothing(fresh_settings: Settings) -> None:
    assert SectionStore.open(fresh_settings).query(np.ones(384, dtype=np.float32), 4) == []


ARTICLE_QUESTIONS = [
    "How much is Amazon investing?",
    "What are Trainium chips?",
    "how much power capacity",
    "who created ChatGPT",
    "What did analysts think of the deal?",
    "whats a good recipe for banana bread",
]


def test_the_in_memory_copy_ranks_sections_exactly_as_a_chroma_query_does(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    sections = load_sections(Path(__file__).resolve().parent.parent / "knowledge")
    synced = SectionStore.open(fresh_settings)
    synced.sync(sections, lambda: recorder)
    # Opened without a sync, a store has no copy and asks Chroma.
    chroma = SectionStore.open(fresh_settings, client=open_client(fresh_settings))
    assert synced.in_memory and not chroma.in_memory
    vectors = list(recorder.embed(ARTICLE_QUESTIONS))
    k = len(sections)  # Chroma's fan-out then reaches every vector: a full ranking
    for ours, theirs in zip(synced.query_many(vectors, k), chroma.query_many(vectors, k),
                            strict=True):
        assert [id_ for id_, _ in ours] == [id_ for id_, _ in theirs]
        assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], abs=1e-5)


def test_a_collection_too_big_to_hold_is_searched_by_chroma(
    fresh_settings: Settings, recorder: RecordingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.store.collection.IN_MEMORY_LIMIT", 3)
    store = SectionStore.open(fresh_settings)
    store.sync(SECTIONS, lambda: recorder)
    assert not store.in_memory
    assert store.query(recorder.embed_query("What are Trainium chips?"), 1)[0][0] == SECTIONS[1].id


def test_a_copy_in_memory_is_read_again_once_another_store_changes_the_index(
    fresh_settings: Settings, recorder: RecordingEmbedder
) -> None:
    first = SectionStore.open(fresh_settings)
    first.sync(SECTIONS, lambda: recorder)
    # As another process would.
    other = SectionStore.open(fresh_settings, client=open_client(fresh_settings))
    edited = replace(SECTIONS[2], text="Anthropic will secure up to 7 gigawatts of power.")
    other.sync([*SECTIONS[:2], edited, SECTIONS[3]], lambda: recorder)
    vector = recorder.embed_query("7 gigawatts of power")
    (best_id, similarity), = first.query(vector, 1)
    assert first.in_memory
    assert best_id == edited.id
    assert similarity == pytest.approx(other.query(vector, 1)[0][1], abs=1e-5)
