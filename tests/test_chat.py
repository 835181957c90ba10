"""The chat turn behind the page, without a browser: what a person sees in each message."""

from __future__ import annotations

import itertools
import logging
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fakes import FakeBackend
from hypothesis import given
from hypothesis import strategies as st

from bot.answering import AnswerRequest, Backend
from bot.errors import OverloadedError
from bot.presentation import (
    APOLOGY,
    Chat,
    RateLimiter,
    conversation,
    from_literal_markdown,
    inert_markdown,
    literal_markdown,
    plain_answer,
    render_answer,
)
from bot.settings import Settings
from bot.types import Answer, Citation, Passage, Turn

PASSAGE = Passage(
    id="deal/what-happened",
    document="Amazon’s new multi-billion dollar investment in Anthropic",
    section="What Happened",
    text="Amazon is putting $5 billion into the company right now.",
    score=1.0,
)
CITATION = Citation(
    document=PASSAGE.document,
    section="What Happened",
    quote="Amazon is putting $5 billion into the company right now.",
    start=0,
    end=57,
)
CITED = Answer(
    text="Amazon is putting $5 billion in now [1].",
    citations=(CITATION,),
    passages=(PASSAGE,),
)


class BackendAnswerer:
    """The chat's answerer seam, wired straight to a backend; records every call."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.calls: list[tuple[str, list[dict]]] = []

    def __call__(self, question: str, history: list[dict]) -> Iterator[Answer]:
        self.calls.append((question, history))
        turns = tuple(Turn(turn["role"], turn["content"]) for turn in history)
        return self.backend.stream(AnswerRequest(question, turns, (PASSAGE,)))


class ClosableBackend(FakeBackend):
    """Streams until told to stop, and notes whether its stream was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def stream(self, request: AnswerRequest) -> Iterator[Answer]:
        try:
            for n in range(1, 100):
                yield Answer(text="word " * n, complete=False)
        finally:
            self.closed = True


def chat_with(
    *replies: str | Answer | Exception, **settings: object
) -> tuple[Chat, BackendAnswerer]:
    answerer = BackendAnswerer(FakeBackend(*replies))
    return Chat(Settings(backend="offline", **settings), answerer=answerer), answerer


def test_the_answer_grows_in_the_chat_as_it_is_written() -> None:
    chat, _ = chat_with("Amazon is investing $5 billion.")
    messages = list(chat.reply("How much?", [], "host:a"))
    assert [plain_answer(m) for m in messages] == [
        "Amazon",
        "Amazon is",
        "Amazon is investing",
        "Amazon is investing $5",
        "Amazon is investing $5 billion.",
    ]
    assert all(a == b[: len(a)] for a, b in itertools.pairwise(messages))


def test_a_cited_answer_shows_its_marker_and_a_sources_list_with_section_and_quote() -> None:
    chat, _ = chat_with(CITED)
    message = list(chat.reply("How much?", [], "host:a"))[-1]
    assert plain_answer(message) == "Amazon is putting $5 billion in now [1]."
    assert "<summary>Sources (1)</summary>" in message
    assert '<span class="source-section">What Happened</span>' in message
    assert "Amazon is putting $5 billion into the company right now." in message


def test_article_text_in_sources_cannot_become_markup() -> None:
    hostile = Citation(
        document="d",
        section="<b>Bold</b> section",
        quote='<img src=x onerror="alert(1)">',
        start=0,
        end=1,
    )
    message = render_answer(Answer(text="See [1] <script>x()</script>", citations=(hostile,)))
    assert "<img" not in message and "<script>" not in message and "<b>" not in message
    assert '&lt;img src=x onerror="alert(1)"&gt;' in message
    assert plain_answer(message) == "See [1] <script>x()</script>"


@pytest.mark.parametrize("hostile", [
    "![pixel](http://127.0.0.1:9/x.png)",
    "[click me](javascript:alert(1))",
    "see https://example.invalid/x or www.example.invalid",
    "<https://example.invalid/auto>",
])
def test_markdown_in_an_answer_is_escaped_so_it_cannot_fetch_or_link(hostile: str) -> None:
    message = render_answer(Answer(text=f"The figure is $5 billion {hostile} [1]."))
    unescaped = re.sub(r"\\.", "", message)  # what Markdown may still read as markup
    for live in ("![", "](", "://", "www.", "<"):
        assert live not in unescaped
    assert plain_answer(message) == f"The figure is $5 billion {hostile} [1]."


def test_a_refusal_reads_as_a_plain_sentence_without_sources_or_warning() -> None:
    refusal = Answer(
        text="I couldn't find that in the article.", refused=True, citations=(CITATION,)
    )
    chat, _ = chat_with(refusal)
    (message,) = chat.reply("Weather?", [], "host:a")
    assert message == inert_markdown("I couldn't find that in the article.")


def test_warnings_already_on_the_page_are_not_repeated_under_each_answer() -> None:
    answer = Answer(text="Yes [1].", citations=(CITATION,), warnings=("keyword only", "cut short"))
    message = render_answer(answer, known_warnings=("keyword only",))
    assert "cut short" in message
    assert "keyword only" not in message


def test_an_upstream_failure_becomes_a_message_that_says_what_to_do() -> None:
    chat, _ = chat_with(OverloadedError("Claude is overloaded: try again in a minute."))
    (message,) = chat.reply("How much?", [], "host:a")
    assert "Sorry, I couldn't answer that. Claude is overloaded: try again in a minute." in message
    assert message.startswith('<div class="bot-notice">')


def test_an_empty_question_is_answered_with_what_to_ask_instead() -> None:
    (message,) = Chat(Settings(backend="offline")).reply("   ", [], "host:a")
    assert "The question is empty" in message


def test_a_failure_mid_answer_keeps_what_was_written_and_says_why_it_stopped() -> None:
    class BreaksMidway(FakeBackend):
        def stream(self, request: AnswerRequest) -> Iterator[Answer]:
            yield Answer(text="Amazon is investing", complete=False)
            raise OverloadedError("Claude is overloaded: try again in a minute.")

    chat = Chat(Settings(backend="offline"), answerer=BackendAnswerer(BreaksMidway()))
    final = list(chat.reply("How much?", [], "host:a"))[-1]
    assert final.startswith("Amazon is investing")
    assert "Claude is overloaded" in final


def test_an_unexpected_error_is_logged_with_its_traceback_and_shown_as_an_apology(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-ant-api03-secretsecretsecret"
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)

    class Broken(FakeBackend):
        def stream(self, request: AnswerRequest) -> Iterator[Answer]:
            raise ValueError(f"bad state while using {key}")
            yield  # pragma: no cover

    chat = Chat(Settings(backend="offline"), answerer=BackendAnswerer(Broken()))
    with caplog.at_level(logging.ERROR, logger="bot.presentation"):
        (message,) = chat.reply("How much?", [], "host:a")
    assert APOLOGY in message
    assert "Traceback" not in message and key not in message
    assert "Traceback (most recent call last)" in caplog.text
    assert "ValueError: bad state" in caplog.text
    assert key not in caplog.text


def test_stopping_the_chat_stops_the_upstream_stream() -> None:
    backend = ClosableBackend()
    chat = Chat(Settings(backend="offline"), answerer=BackendAnswerer(backend))
    replies = chat.reply("How much?", [], "host:a")
    next(replies)
    next(replies)
    replies.close()
    assert backend.closed


def test_follow_ups_pass_the_conversation_on_without_the_rendered_sources() -> None:
    chat, answerer = chat_with(CITED, "In 2023 and 2024.")
    first = list(chat.reply("How much is Amazon investing?", [], "host:a"))[-1]
    # The history as Gradio 6 sends it back: content as a list of text parts.
    history = [
        {"role": "user", "content": [{"type": "text", "text": "How much is Amazon investing?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": first}], "metadata": None},
    ]
    list(chat.reply("And before?", history, "host:a"))
    assert answerer.calls[1] == (
        "And before?",
        [
            {"role": "user", "content": "How much is Amazon investing?"},
            {"role": "assistant", "content": "Amazon is putting $5 billion in now [1]."},
        ],
    )
    assert answerer.backend.requests[1].history[1].content == CITED.text


def test_a_question_that_failed_is_left_out_of_the_conversation() -> None:
    chat, _ = chat_with(OverloadedError("Claude is overloaded."))
    (notice,) = chat.reply("Q1", [], "host:a")
    history = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": notice},
        {"role": "user", "content": "Q2"},
        {"role": "assistant", "content": literal_markdown("A2 & more")},
    ]
    assert conversation(history) == [
        {"role": "user", "content": "Q2"},
        {"role": "assistant", "content": "A2 & more"},
    ]


def test_plain_answer_gives_back_exactly_the_text_the_answerer_wrote() -> None:
    answer = Answer(text='Quotes "x" & <y> [1]', citations=(CITATION,), warnings=("w",))
    assert plain_answer(render_answer(answer)) == answer.text


def test_the_rate_limit_answers_with_a_clear_message_and_counts_each_client_apart() -> None:
    now = [1000.0]
    chat, answerer = chat_with("a", "b", "c", "d", rate_limit=2)
    chat.limiter = RateLimiter(2, clock=lambda: now[0])
    assert list(chat.reply("Q", [], "host:a")) == ["a"]
    assert list(chat.reply("Q", [], "host:a")) == ["b"]
    (limited,) = chat.reply("Q", [], "host:a")
    assert "You've asked 2 questions in the last minute" in limited
    assert "wait 60 seconds" in limited
    assert list(chat.reply("Q", [], "host:b")) == ["c"]
    now[0] += 61
    assert list(chat.reply("Q", [], "host:a")) == ["d"]
    assert len(answerer.calls) == 4


def test_a_rate_limit_of_zero_never_limits() -> None:
    limiter = RateLimiter(0, clock=lambda: 5.0)
    assert all(limiter.wait_time("host:a") == 0 for _ in range(1000))


@given(st.text())
def test_what_a_person_types_survives_the_trip_through_the_page_unchanged(text: str) -> None:
    assert from_literal_markdown(literal_markdown(text)) == text


def test_typed_markup_is_escaped_for_display() -> None:
    shown = literal_markdown("<img src=x onerror=alert(1)> *hi*")
    assert "<" not in shown.replace("\\<", "")
    assert shown.startswith("\\<img")


def test_importing_bot_does_not_import_gradio() -> None:
    code = "import sys, bot, bot.presentation; print('gradio' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
