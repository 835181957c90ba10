"""What the Claude and Bedrock backend tests share: a small article on disk, its
passages, the stand-in reached through ANTHROPIC_BASE_URL, and a cited answer."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from upstream import Event, answer_events, search_result_citation

from bot.answering import AnswerRequest
from bot.answering.backends.claude import ClaudeBackend
from bot.settings import Settings
from bot.types import Answer, Passage, Turn

KEY = "test-key-7f3a9c2e5b"  # not sk-ant- shaped, so only the backend's own redaction hides it
MODEL = "claude-test-model"
ARTICLE = """# Amazon invests in Anthropic

## What Happened

Amazon is putting $5 billion into the company right now. On top of that, there is a plan \
for an additional $20 billion in payments. These extra payments depend on Anthropic \
reaching specific milestones.

## Important Numbers

Before this news, Amazon had already invested $8 billion in Anthropic. Anthropic will \
also secure up to 5 gigawatts of power capacity.
"""
HAPPENED = "deal/what-happened"
NUMBERS = "deal/important-numbers"


def backend(max_retries: int = 0, timeout: float = 5.0, **changes: object) -> ClaudeBackend:
    settings = Settings.from_env(backend="claude", api_key=KEY, model=MODEL, timeout=timeout,
                                 max_retries=max_retries, max_tokens=300, **changes)
    return ClaudeBackend(settings)


def ask(passages: tuple[Passage, ...], question: str = "How much is Amazon investing?",
        history: tuple[Turn, ...] = (), **extra: object) -> AnswerRequest:
    return AnswerRequest(question, history, passages, **extra)  # type: ignore[arg-type]


def collect(stream: Iterator[Answer]) -> list[Answer]:
    return list(stream)


def without_markers(text: str) -> str:
    return re.sub(r"\[\d+\]", "", text)


FIVE = "Amazon is putting $5 billion into the company right now."
TWENTY = ("On top of that, there is a plan for an additional $20 billion in payments. "
          "These extra payments depend on Anthropic reaching specific milestones.")


def cited_answer() -> list:
    return answer_events([
        ("Amazon is investing $5 billion now", [search_result_citation(HAPPENED, FIVE)]),
        (", with up to $20 billion more tied to milestones.",
         [search_result_citation(HAPPENED, TWENTY, start=1, end=3)]),
    ], model=MODEL, chunk=8, input_tokens=321, output_tokens=42, cache_read=250)


# The streaming contract's cases (test_claude_stream.py, test_bedrock.py).

SECOND = "Before this news, Amazon had already invested $8 billion in Anthropic."
CITES = {
    FIVE: search_result_citation(HAPPENED, FIVE),
    TWENTY: search_result_citation(HAPPENED, TWENTY, start=1, end=3),
    SECOND: search_result_citation(NUMBERS, SECOND, search_result_index=1),
}
FIRST_BLOCK = "Amazon is investing $5 billion now. "
SECOND_BLOCK = "Up to $20 billion more depends on milestones."
WHOLE = f"{FIRST_BLOCK.rstrip()}[1] {SECOND_BLOCK}[2]"


def two_blocks(citations: str, *, block_stops: bool = True) -> list[Event]:
    return answer_events([(FIRST_BLOCK, [CITES[FIVE]]), (SECOND_BLOCK, [CITES[TWENTY]])],
                         model=MODEL, chunk=7, citations=citations, block_stops=block_stops)


def assert_only_grows(snapshots: list[Answer]) -> None:
    for earlier, later in itertools.pairwise(s.text for s in snapshots):
        assert later.startswith(earlier), f"{earlier!r} is not a prefix of {later!r}"
