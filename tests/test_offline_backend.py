"""The offline answerer, end to end through retrieval: what a reader without a key meets.

It answers from any document by general signals, says "not sure" when the closest
sentences do not answer, refuses what nothing covers, tells a reader writing in
another language what it can do, and reads history only when a question needs it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import Answer, answer, get_settings
from bot.answering import REFUSAL_PREFIX
from bot.measurement.cases import discover_sets
from bot.retrieval import get_retriever

FAQ = {
    "How much money is Amazon investing in Anthropic?": "Amazon is investing an immediate $5 "
    "billion, with the potential to reach a total of $25 billion if certain goals are met. "
    "This is in addition to $8 billion previously invested.",
    "What are Trainium chips?": "Trainium chips are special computer hardware designed by "
    "Amazon. They are built specifically to train large artificial intelligence models "
    "faster and more efficiently than standard chips.",
}
TITLE = "“Amazon’s new multi-billion dollar investment in Anthropic”"
ENGLISH_ONLY = "Offline mode reads questions in English only"


def ask(question: str, history: list[dict] | None = None, **options) -> Answer:
    return answer(question, history, backend="offline", **options)


def says(reply: Answer, *facts: str) -> bool:
    text = reply.text.replace("-", " ").lower()
    return all(
        any(re.search(r"(?<![\w.])" + re.escape(one), text) for one in fact.lower().split("|"))
        for fact in facts
    )


@pytest.mark.parametrize("question", list(FAQ))
def test_the_articles_own_faq_questions_get_the_faq_answer_quoted_whole(question: str) -> None:
    reply = ask(question)
    assert not reply.refused and not reply.unsure
    assert [c.section for c in reply.citations] == [question]
    assert reply.citations[0].quote == FAQ[question]


def test_every_example_the_page_offers_is_answered() -> None:
    examples = get_retriever(get_settings()).overview.examples
    assert len(examples) >= 4
    for example in examples:
        reply = ask(example)
        assert not reply.refused and not reply.unsure and reply.citations, example


def test_the_conditions_for_the_extra_money_are_answered_with_a_sentence_that_names_them(
) -> None:
    reply = ask("What are the conditions for the extra $20 billion?")
    assert not reply.refused and not reply.unsure, reply.text
    assert says(reply, "goals are met|milestones"), reply.text


@pytest.mark.parametrize(
    "question",
    [
        "What's the capital of France?",
        "Can you recommend a good science fiction novel?",
        "how do i fix a flat bicycle tyre",
    ],
)
def test_a_question_nothing_covers_is_refused_naming_the_document(question: str) -> None:
    reply = ask(question)
    assert reply.refused and not reply.unsure, reply.text
    assert reply.text.startswith(f"{REFUSAL_PREFIX} {TITLE}")
    assert reply.citations == ()


@pytest.mark.parametrize(
    "question",
    ["Who is the CEO of Anthropic?", "What is Anthropic valued at after this deal?",
     "Which country is Anthropic headquartered in?"],
)
def test_a_fact_the_article_never_gives_is_never_answered_confidently(question: str) -> None:
    reply = ask(question)
    assert reply.refused or reply.unsure, reply.text


def test_not_sure_shows_the_closest_sentences_under_a_label_and_cites_them() -> None:
    reply = ask("Who is the CEO of Anthropic?")
    assert reply.unsure and not reply.refused
    assert reply.text.startswith(f"{TITLE} doesn't answer that directly; the closest it says:")
    assert reply.citations and not reply.grounded


@pytest.mark.parametrize(
    "question",
    [
        "Combien Amazon investit-il dans Anthropic ?",
        "Wie viel investiert Amazon in Anthropic?",
        "亚马逊向Anthropic投资了多少？",
        "¿Cuánto invierte Amazon en Anthropic?",
    ],
)
def test_a_question_in_another_language_is_told_offline_reads_english(question: str) -> None:
    reply = ask(question)
    assert reply.refused and reply.text.startswith(ENGLISH_ONLY)
    assert "Claude" in reply.text and REFUSAL_PREFIX not in reply.text


def test_every_quote_is_the_knowledge_files_own_text_at_its_offsets() -> None:
    folder = Path(get_settings().knowledge_dir)
    questions = [*FAQ, "Why does Amazon want Anthropic on Trainium?", "Who is the CEO?"]
    citations = [c for q in questions for c in ask(q).citations]
    assert len(citations) >= len(questions)
    for citation in citations:
        text = (folder / citation.source).read_text(encoding="utf-8")
        assert text[citation.start : citation.end] == citation.quote


def test_an_elliptical_follow_up_is_answered_about_the_earlier_question() -> None:
    first_question = "How much has Amazon invested previously?"
    first = ask(first_question)
    history = [
        {"role": "user", "content": first_question},
        {"role": "assistant", "content": first.text},
    ]
    assert says(ask("and when was that?", history), "2023")
    assert not says(ask("and when was that?"), "2023")


def test_a_follow_up_asking_why_does_not_repeat_the_previous_answer() -> None:
    first_question = "How much money is Amazon investing in Anthropic?"
    first = ask(first_question)
    history = [{"role": "user", "content": first_question},
               {"role": "assistant", "content": first.text}]
    reply = ask("why does that matter?", history)
    assert reply.text != first.text
    assert {c.quote for c in reply.citations}.isdisjoint({c.quote for c in first.citations})


def standalone_questions() -> list[tuple[str, str]]:
    """(set, question) for every single-turn question of every eval set."""
    return [(s.name, c.turns[-1].question) for s in discover_sets() for c in s.cases()
            if c.kind != "followup"]


UNRELATED = [
    {"role": "user", "content": "What's a good name for a goldfish?"},
    {"role": "assistant", "content": "I couldn't find that in the documents here."},
    {"role": "user", "content": "ok, and how do pandas sleep?"},
    {"role": "assistant", "content": "I couldn't find that in the documents here."},
]


def test_an_unrelated_conversation_changes_no_standalone_answer_on_any_eval_set() -> None:
    changed = []
    for name, question in standalone_questions():
        eval_set = next(s for s in discover_sets() if s.name == name)
        settings = get_settings().with_changes(knowledge_dir=eval_set.knowledge_dir)
        alone = ask(question, settings=settings)
        after = ask(question, UNRELATED, settings=settings)
        if (alone.refused, alone.unsure, alone.text) != (after.refused, after.unsure, after.text):
            changed.append((name, question))
    assert not changed, changed


def test_an_answer_quotes_at_most_three_sentences_on_every_eval_set() -> None:
    from bot.knowledge import sentence_spans

    for name, question in standalone_questions()[::3]:
        eval_set = next(s for s in discover_sets() if s.name == name)
        settings = get_settings().with_changes(knowledge_dir=eval_set.knowledge_dir)
        reply = ask(question, settings=settings)
        quoted = sum(len(sentence_spans(c.quote)) for c in reply.citations)
        assert quoted <= 3, (question, reply.text)


def test_a_document_the_code_has_never_seen_is_answered_cited_and_refused(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "ferry.md").write_text(
        "# Harbour ferry timetable\n\n## Crossings\n\nThe ferry to Marrow Island leaves the "
        "harbour every forty minutes from 6 a.m. until 10 p.m. A single ticket costs $4.50 "
        "and children under five travel free.\n\n## Bicycles\n\nBicycles are carried on the "
        "lower deck for an extra $1. Electric scooters are not allowed on board for safety "
        "reasons.\n",
        encoding="utf-8",
    )
    settings = get_settings().with_changes(knowledge_dir=folder)
    fare = ask("How much is a single ticket?", settings=settings)
    assert says(fare, "$4.50") and not fare.refused and not fare.unsure
    assert fare.citations[0].source == "ferry.md" and fare.citations[0].section == "Crossings"
    often = ask("how often does the ferry go?", settings=settings)
    assert says(often, "forty minutes"), often.text
    off = ask("What's the capital of France?", settings=settings)
    assert off.refused and "Harbour ferry timetable" in off.text and "Amazon" not in off.text
    scooter = ask("can i bring my e-scooter?", settings=settings)
    assert not scooter.refused and says(scooter, "not allowed"), scooter.text
