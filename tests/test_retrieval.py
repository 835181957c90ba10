"""Retrieval over the real article: the right section first for real questions,
follow-ups understood through the previous question, keyword search when the model
is missing, and one retriever shared safely by many threads."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from bot.errors import StoreError
from bot.knowledge import knowledge_version, load_sections
from bot.retrieval import Retriever, get_retriever, previous_question, reset_retrievers
from bot.settings import Settings
from bot.store import Embedder, SectionStore
from bot.types import Turn

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
DEAL = "amazon-anthropic-deal/"
FAQ_MONEY = DEAL + "frequently-asked-questions/how-much-money-is-amazon-investing-in-anthropic"
FAQ_TRAINIUM = DEAL + "frequently-asked-questions/what-are-trainium-chips"
FAQ_CLAUDE = DEAL + "frequently-asked-questions/what-is-claude"
WHAT_HAPPENED = DEAL + "key-details/what-happened"
NUMBERS = DEAL + "key-details/important-numbers-and-facts"
BACKGROUND = DEAL + "background-and-context"
GOING_FORWARD = DEAL + "what-this-means-going-forward"
REACTION = DEAL + "public-or-industry-reaction"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        knowledge_dir=KNOWLEDGE,
        data_dir=tmp_path_factory.mktemp("retrieval-data"),
        embedding_model_dir=Path(os.environ["BOT_EMBEDDING_MODEL_DIR"]),
    )


@pytest.fixture(scope="module")
def retriever(settings: Settings) -> Retriever:
    return Retriever.open(settings)


def ids(retriever: Retriever, question: str, history: tuple[Turn, ...] = ()) -> list[str]:
    return [p.id for p in retriever.retrieve(question, k=4, history=history).passages]


def test_the_first_open_embeds_every_section_and_the_next_embeds_none(
    retriever: Retriever, settings: Settings
) -> None:
    sections = len(load_sections(KNOWLEDGE))
    assert retriever.sync_report.embedded == sections
    again = Retriever.open(settings)
    assert (again.sync_report.embedded, again.sync_report.unchanged) == (0, sections)
    assert again.knowledge_version == retriever.knowledge_version


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much is Amazon investing?", {FAQ_MONEY, WHAT_HAPPENED}),
        ("What are Trainium chips?", {FAQ_TRAINIUM}),
        ("how much power capacity", {NUMBERS}),
        ("who created ChatGPT", {BACKGROUND}),
        ("What is Claude?", {FAQ_CLAUDE}),
        ("What did analysts think of the deal?", {REACTION}),
        ("Will AWS customers get Claude in the tools they already use?", {GOING_FORWARD}),
    ],
)
def test_the_section_that_answers_comes_first(
    retriever: Retriever, question: str, expected: set[str]
) -> None:
    assert ids(retriever, question)[0] in expected


def test_passages_quote_the_article_verbatim_with_their_place_in_it(retriever: Retriever) -> None:
    result = retriever.retrieve("What are Trainium chips?", k=3)
    assert len(result.passages) == 3
    for passage in result.passages:
        source = (KNOWLEDGE / passage.source).read_text(encoding="utf-8")
        assert source[passage.start : passage.end] == passage.text
        assert passage.section == passage.heading_path[-1]
        assert passage.document.startswith("Amazon")
    first = result.passages[0]
    assert first.heading_path == ("Frequently Asked Questions", "What are Trainium chips?")


def test_passages_come_best_first_with_dense_similarities_alongside(retriever: Retriever) -> None:
    result = retriever.retrieve("how much power capacity", k=11)
    scores = [p.score for p in result.passages]
    assert scores == sorted(scores, reverse=True)
    assert {p.id for p in result.passages} <= set(result.dense)
    assert max(result.dense, key=result.dense.__getitem__) == NUMBERS
    assert all(-1.0 <= s <= 1.0 for s in result.dense.values())
    assert result.warnings == ()
    assert result.knowledge_version == knowledge_version(load_sections(KNOWLEDGE))


def test_an_off_topic_question_is_far_from_every_section(retriever: Retriever) -> None:
    off_topic = retriever.retrieve("whats a good recipe for banana bread")
    on_topic = retriever.retrieve("What are Trainium chips?")
    assert max(off_topic.dense.values()) < 0.3 < max(on_topic.dense.values())


def test_a_follow_up_finds_the_earlier_investment_through_the_previous_question(
    retriever: Retriever,
) -> None:
    history = (
        Turn("user", "How much did Amazon invest before?"),
        Turn("assistant", "Amazon had already invested $8 billion."),
    )
    assert NUMBERS in ids(retriever, "And in which years?", history)[:2]


def test_a_follow_up_with_only_a_pronoun_is_read_in_context(retriever: Retriever) -> None:
    question = "what do businesses use it for?"
    assert FAQ_CLAUDE in ids(retriever, question, (Turn("user", "What is Claude?"),))[:2]


def test_a_new_topic_after_a_conversation_still_finds_its_own_section(
    retriever: Retriever,
) -> None:
    history = (Turn("user", "How much did Amazon invest before?"),)
    assert ids(retriever, "What are Trainium chips?", history)[0] == FAQ_TRAINIUM


def test_the_previous_question_is_the_latest_earlier_user_turn() -> None:
    history = (
        Turn("user", "Who started Anthropic?"),
        Turn("assistant", "Former OpenAI employees."),
        Turn("user", "and what is their AI called?"),
    )
    assert previous_question(history, "and what is their AI called?") == "Who started Anthropic?"
    assert previous_question(history, "why?") == "and what is their AI called?"
    assert previous_question((Turn("assistant", "Hello"),), "why?") is None


def test_without_the_model_keyword_search_answers_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(knowledge_dir=KNOWLEDGE, data_dir=tmp_path, embedding_model_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="bot.retrieval"):
        fallback = Retriever.open(settings)
        results = [fallback.retrieve(q) for q in ("What are Trainium chips?", "power capacity")]
    assert [r.passages[0].id for r in results] == [FAQ_TRAINIUM, NUMBERS]
    for result in results:
        assert result.dense == {}
        assert len(result.warnings) == 1
        assert "keyword search only" in result.warnings[0]
        assert "BOT_EMBEDDING_MODEL_DIR" in result.warnings[0]
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


class UnreachableStore(SectionStore):
    """A store whose server went away after the index was built."""

    def query_many(
        self, vectors: Sequence[np.ndarray], k: int
    ) -> list[list[tuple[str, float]]]:
        raise StoreError("Connection refused", location="test")


def test_a_store_failure_mid_conversation_falls_back_to_keywords_with_a_warning(
    retriever: Retriever, settings: Settings
) -> None:
    sections = load_sections(KNOWLEDGE)
    store = UnreachableStore.open(settings)
    embedder = Embedder(Path(os.environ["BOT_EMBEDDING_MODEL_DIR"]))
    degraded = Retriever(sections, store=store, embedder=embedder)
    result = degraded.retrieve("What are Trainium chips?")
    assert result.passages[0].id == FAQ_TRAINIUM
    assert result.dense == {}
    assert any("Connection refused" in warning for warning in result.warnings)


QUESTIONS = [
    "How much is Amazon investing?",
    "What are Trainium chips?",
    "how much power capacity",
    "who created ChatGPT",
    "What is Claude?",
    "Why are people surprised by the deal?",
    "What will Amazon need to build?",
    "Is this the first time they worked together?",
]


def test_eight_threads_at_once_get_the_same_results_as_one(retriever: Retriever) -> None:
    expected = [retriever.retrieve(q) for q in QUESTIONS]
    start = threading.Barrier(8)

    def ask(question: str) -> object:
        start.wait()
        return retriever.retrieve(question)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ask, QUESTIONS))
    assert results == expected


def test_the_shared_retriever_is_opened_once_for_many_threads(settings: Settings) -> None:
    reset_retrievers()
    start = threading.Barrier(8)

    def fetch(_: int) -> Retriever:
        start.wait()
        return get_retriever(settings)

    with ThreadPoolExecutor(max_workers=8) as pool:
        shared = list(pool.map(fetch, range(8)))
    assert all(r is shared[0] for r in shared)
    other = get_retriever(settings.with_changes(knowledge_dir=ROOT / "tests" / ".." / "knowledge"))
    assert other is shared[0]  # the same folder, spelled differently
    reset_retrievers()
    assert get_retriever(settings) is not shared[0]
    reset_retrievers()


def test_editing_the_folder_re_embeds_only_what_changed(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    settings = Settings(
        knowledge_dir=folder,
        data_dir=tmp_path / "data",
        embedding_model_dir=Path(os.environ["BOT_EMBEDDING_MODEL_DIR"]),
    )
    total = Retriever.open(settings).sync_report.embedded
    article = folder / "amazon-anthropic-deal.md"
    text = article.read_text(encoding="utf-8")
    edited = text.replace("up to 5 gigawatts of power", "up to 6 gigawatts of power")
    assert edited != text
    article.write_text(edited, encoding="utf-8")
    report = Retriever.open(settings).sync_report
    assert (report.embedded, report.unchanged, report.deleted) == (1, total - 1, 0)
    claude = edited.index("### What is Claude?")
    article.write_text(edited[:claude], encoding="utf-8")
    reopened = Retriever.open(settings)
    assert reopened.sync_report.deleted == 1
    assert FAQ_CLAUDE not in ids(reopened, "What is Claude?")
