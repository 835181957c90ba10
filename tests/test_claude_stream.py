"""The streaming contract of the Claude backend, on the Messages API and on Bedrock,
through the real SDK and the stand-ins: each snapshot's text is a prefix of the next,
and a citation marker goes after its block once the block ends (or at the very end,
for a block the stream cut short), and stays there."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from claude_case import (
    CITES,
    FIRST_BLOCK,
    FIVE,
    MODEL,
    SECOND_BLOCK,
    TWENTY,
    WHOLE,
    ask,
    assert_only_grows,
    backend,
    collect,
    two_blocks,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from upstream import (
    CITATION_PLACES,
    Event,
    Reply,
    Upstream,
    block_stop,
    citations_delta,
    message_delta,
    message_start,
    message_stop,
    text_block_start,
    text_delta,
)

from bot import errors
from bot.answering.backends.claude import BedrockBackend, ClaudeBackend
from bot.settings import Settings
from bot.types import Passage

Answerer = tuple[Upstream, Callable[[], ClaudeBackend]]


def on_bedrock() -> BedrockBackend:
    return BedrockBackend(Settings.from_env(backend="bedrock", model=MODEL, timeout=5.0,
                                            max_retries=0, max_tokens=300))


@pytest.fixture(params=["claude", "bedrock"])
def answerer(request: pytest.FixtureRequest) -> Answerer:
    """A stand-in and the backend that talks to it: the Messages API, or Bedrock."""
    if request.param == "claude":
        return request.getfixturevalue("api"), backend
    return request.getfixturevalue("bedrock"), on_bedrock


@pytest.mark.parametrize("block_stops", [True, False], ids=["block-stops", "no-block-stops"])
@pytest.mark.parametrize("citations", CITATION_PLACES)
def test_every_snapshot_extends_the_last_and_each_marker_follows_its_block(
    answerer: Answerer, passages: tuple[Passage, ...], citations: str, block_stops: bool
) -> None:
    upstream, make = answerer
    upstream.enqueue(Reply(events=two_blocks(citations, block_stops=block_stops)))
    snapshots = collect(make().stream(ask(passages)))

    assert_only_grows(snapshots)
    assert snapshots[-1].text == WHOLE and snapshots[-1].complete
    # The first marker shows once its block is over, after its text and before its space.
    first_marked = next(s.text for s in snapshots if "[1]" in s.text)
    assert first_marked.rstrip() == f"{FIRST_BLOCK.rstrip()}[1]"


@pytest.mark.parametrize("citations", ["before", "between"])
def test_a_stream_cut_inside_a_cited_block_ends_with_its_marker_after_the_text_that_came(
    answerer: Answerer, passages: tuple[Passage, ...], citations: str
) -> None:
    upstream, make = answerer
    events = two_blocks(citations)
    last_cite = max(i for i, (_, data) in enumerate(events)
                    if data.get("delta", {}).get("type") == "citations_delta")
    upstream.enqueue(Reply(events=events, cut_after=last_cite + 3))
    snapshots = collect(make().stream(ask(passages)))

    assert_only_grows(snapshots)
    final = snapshots[-1]
    assert not final.complete and final.text.endswith("[2]")
    arrived = final.text.removeprefix(f"{FIRST_BLOCK.rstrip()}[1] ").removesuffix("[2]")
    assert len(arrived) >= 7 and SECOND_BLOCK.startswith(arrived)
    assert [c.quote for c in final.citations] == [FIVE, TWENTY]


def test_text_for_a_block_that_already_ended_goes_on_at_the_end(
    api: Upstream, passages: tuple[Passage, ...]
) -> None:
    events = [message_start(MODEL), text_block_start(0), text_delta(0, "Amazon invests"),
              citations_delta(0, CITES[FIVE]), block_stop(0), text_delta(0, " $5 billion."),
              message_delta(), message_stop()]
    api.enqueue(Reply(events=events))
    snapshots = collect(backend().stream(ask(passages)))

    assert_only_grows(snapshots)
    assert snapshots[-1].text == "Amazon invests[1] $5 billion."


# The property: any interleaving of text and citation deltas, with or without block
# stops, whole or cut anywhere.

TEXT = st.text(alphabet="ab $.\n", min_size=1, max_size=5)


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[Event], int | None]:
    events = [message_start(MODEL)]
    for index in range(draw(st.integers(1, 3))):
        deltas = [text_delta(index, text) for text in draw(st.lists(TEXT, min_size=1,
                                                                   max_size=5))]
        for quote in draw(st.lists(st.sampled_from(sorted(CITES)), max_size=3)):
            deltas.insert(draw(st.integers(0, len(deltas))), citations_delta(index, CITES[quote]))
        events += [text_block_start(index), *deltas]
        events += [block_stop(index)] if draw(st.booleans()) else []
    events += [message_delta(), message_stop()]
    cut = draw(st.none() | st.integers(2, len(events) - 1))
    return events, cut


def spec(events: list[Event]) -> tuple[str, str]:
    """What the events say the final text is, and its text alone: each block's text, with
    its markers (numbered by first appearance) placed before the block's trailing space."""
    numbers: dict[str, int] = {}
    blocks: list[tuple[str, list[int]]] = []
    for _, data in events:
        if data["type"] == "content_block_start":
            blocks.append(("", []))
        elif data["type"] == "content_block_delta":
            body, marks = blocks[-1]
            if data["delta"]["type"] == "text_delta":
                blocks[-1] = (body + data["delta"]["text"], marks)
            else:
                number = numbers.setdefault(data["delta"]["citation"]["cited_text"],
                                            len(numbers) + 1)
                marks += [] if number in marks else [number]
    text = "".join(body.rstrip() + "".join(f"[{n}]" for n in marks) + body[len(body.rstrip()):]
                   for body, marks in blocks)
    return text, "".join(body for body, _ in blocks)


@pytest.fixture(scope="module")
def shared_api() -> Iterator[Upstream]:
    with Upstream() as server:
        yield server


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(stream=streams())
def test_any_interleaving_of_text_and_citations_only_grows_and_ends_with_markers_after_blocks(
    shared_api: Upstream, passages: tuple[Passage, ...], stream: tuple[list[Event], int | None]
) -> None:
    events, cut = stream
    shared_api.enqueue(Reply(events=events, cut_after=cut))
    expected, text_alone = spec(events if cut is None else events[:cut])
    answerer = backend(anthropic_base_url=shared_api.base_url)
    if cut is not None and not text_alone.strip():
        with pytest.raises(errors.UpstreamError):  # cut before any answer: nothing to show
            collect(answerer.stream(ask(passages)))
        return
    snapshots = collect(answerer.stream(ask(passages)))

    assert_only_grows(snapshots)
    assert snapshots[-1].text == expected
    assert snapshots[-1].complete == (cut is None)
