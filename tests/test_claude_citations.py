"""The Claude backend's streamed answers and their citations, through the real SDK:
verbatim quotes at file offsets, markers, dropped and repeated citations."""

from __future__ import annotations

import itertools
import logging

import pytest
from claude_case import (
    FIVE,
    HAPPENED,
    MODEL,
    NUMBERS,
    TWENTY,
    ask,
    backend,
    cited_answer,
    collect,
    without_markers,
)
from upstream import (
    Reply,
    Upstream,
    answer_events,
    char_citation,
    search_result_citation,
)

from bot.answering.backends.claude import (
    UNCITED_WARNING,
)
from bot.types import Passage


def test_a_streamed_answer_grows_in_order_and_ends_with_verbatim_quotes_at_file_offsets(
    api: Upstream, passages: tuple[Passage, ...], article: str
) -> None:
    api.enqueue(Reply(events=cited_answer()))
    snapshots = collect(backend().stream(ask(passages)))

    assert len(snapshots) > 5
    assert all(not s.complete for s in snapshots[:-1]) and snapshots[-1].complete
    plain = [without_markers(s.text) for s in snapshots]
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(plain))
    counts = [len(s.citations) for s in snapshots]
    assert counts == sorted(counts)
    # The first citation shows before the sentence it supports has finished arriving.
    first_cited = next(s for s in snapshots if s.citations)
    assert "$5 billion now" not in first_cited.text

    final = snapshots[-1]
    assert final.text == ("Amazon is investing $5 billion now[1], with up to $20 billion "
                          "more tied to milestones.[2]")
    assert [c.quote for c in final.citations] == [FIVE, TWENTY]
    for citation in final.citations:
        assert article[citation.start:citation.end] == citation.quote
        assert (citation.source, citation.passage_id) == ("deal.md", HAPPENED)
        assert citation.section == "What Happened"
    assert final.grounded and not final.refused and final.warnings == ()
    assert (final.backend, final.model) == ("claude", MODEL)
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (321, 42)
    assert final.usage.cache_read_input_tokens == 250


def test_an_answer_that_starts_with_the_refusal_prefix_is_a_refusal_without_warnings(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    api.enqueue(Reply(events=answer_events([("I couldn't find that in the article.", [])])))
    final = backend().answer(ask(passages, "Who is Amazon's CEO?"))

    assert final.refused and not final.grounded and final.warnings == ()


def test_an_answer_that_cites_nothing_is_flagged_unverified(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    api.enqueue(Reply(events=answer_events([("Amazon is investing a lot.", [])])))
    final = backend().answer(ask(passages))

    assert final.complete and not final.grounded and UNCITED_WARNING in final.warnings


def test_citations_that_do_not_match_what_was_sent_are_dropped_and_logged(
    api: Upstream, passages: tuple[Passage, ...], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = [
        search_result_citation(HAPPENED, "Amazon is putting $50 billion into the company."),
        search_result_citation(NUMBERS, FIVE, search_result_index=0),  # source disagrees
        search_result_citation(HAPPENED, FIVE, search_result_index=7),  # no such result
        search_result_citation(HAPPENED, FIVE, start=2, end=9),  # past the last sentence
    ]
    api.enqueue(Reply(events=answer_events([("Amazon is investing $50 billion.", wrong)])))
    with caplog.at_level(logging.WARNING, logger="bot.answering.backends.claude"):
        final = backend().answer(ask(passages))

    assert final.citations == () and "[" not in final.text
    assert UNCITED_WARNING in final.warnings
    assert sum("Dropped a citation" in r.message for r in caplog.records) == 4


def test_one_span_cited_twice_gets_one_number(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    cite = search_result_citation(HAPPENED, FIVE)
    api.enqueue(Reply(events=answer_events([("$5 billion now.", [cite]), (" Yes, now.", [cite])])))
    final = backend().answer(ask(passages))

    assert final.text == "$5 billion now.[1] Yes, now.[1]" and len(final.citations) == 1


def test_a_char_location_citation_maps_to_the_same_verbatim_quote(
    api: Upstream, passages: tuple[Passage, ...], article: str
) -> None:
    numbers = passages[1]
    local = numbers.text.index("Anthropic will")
    quote = numbers.text[local:]
    api.enqueue(Reply(events=answer_events(
        [("Up to 5 gigawatts.", [char_citation(1, local, len(numbers.text), quote)])])))
    (citation,) = backend().answer(ask(passages)).citations

    assert citation.quote == quote == article[citation.start:citation.end]
    assert citation.passage_id == NUMBERS


def test_every_snapshot_carries_the_passages_warnings_and_knowledge_version(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    api.enqueue(Reply(events=cited_answer()))
    request = ask(passages, warnings=("Retrieval fell back to keywords.",),
                  knowledge_version="abc123")
    snapshots = collect(backend().stream(request))

    assert all(s.passages == passages and s.knowledge_version == "abc123"
               and s.warnings[:1] == ("Retrieval fell back to keywords.",) for s in snapshots)
