"""`faq-bot ask` (`python -m bot ask`) with Claude on the stand-in: a streamed answer is
printed whole, its sources after it, exactly as `--no-stream` prints it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fakes import FakeBackend
from stand_in import FAKE_KEY, forget_configuration, point_at
from upstream import (
    CITATION_PLACES,
    Event,
    Upstream,
    answer_events,
    search_result_citation,
    search_results,
)

import bot.answering
from bot.answering import AnswerRequest
from bot.cli import main
from bot.types import Answer

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How much is Amazon investing in Anthropic?"


def two_paragraphs(citations: str) -> Any:
    """A stand-in answer quoting the first sentence of the first two search results, in two
    paragraphs, each quote's citation sent `citations` its text."""

    def respond(body: Any) -> list[Event]:
        first, second = search_results(body)[:2]
        cite = [search_result_citation(result["source"], result["content"][0]["text"],
                                       search_result_index=index)
                for index, result in enumerate((first, second))]
        return answer_events([
            ("According to the documents: ", []),
            (first["content"][0]["text"], [cite[0]]),
            ("\n\nAlso: ", []),
            (second["content"][0]["text"], [cite[1]]),
        ], chunk=5, citations=citations)

    return respond


def expected_text(upstream: Upstream) -> str:
    results = search_results(upstream.requests[-1].body)
    first, second = (result["content"][0]["text"] for result in results[:2])
    return f"According to the documents: {first}[1]\n\nAlso: {second}[2]"


@pytest.fixture
def paragraphs_api(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
                   ) -> Iterator[Upstream]:
    with Upstream(respond=two_paragraphs(request.param)) as server:
        point_at(monkeypatch, server.base_url)
        yield server
    forget_configuration()


@pytest.mark.parametrize("paragraphs_api", CITATION_PLACES, indirect=True)
def test_a_streamed_answer_prints_whole_and_the_same_as_no_stream(
    paragraphs_api: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", QUESTION]) == 0
    streamed = capsys.readouterr().out
    assert main(["ask", "--no-stream", QUESTION]) == 0
    whole = capsys.readouterr().out

    assert streamed == whole
    text = expected_text(paragraphs_api)
    assert streamed.startswith(f"{text}\n\nSources:\n  [1] ")
    assert "  [2] " in streamed and streamed.count("\u201c") == 2
    assert streamed.rstrip().endswith("— answered by claude · claude-sonnet-5-5")


def test_python_m_bot_ask_streams_the_whole_answer_in_a_process_of_its_own() -> None:
    # The reported fault: a citation that arrives before its text left only the marker.
    with Upstream(respond=two_paragraphs("before")) as server:
        env = {**os.environ, "ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": server.base_url,
               "BOT_MAX_RETRIES": "0", "BOT_TIMEOUT": "10", "BOT_BACKEND": "claude"}
        runs = [subprocess.run([sys.executable, "-m", "bot", "ask", *mode, QUESTION], cwd=ROOT,
                               env=env, capture_output=True, text=True, timeout=300)
                for mode in ([], ["--no-stream"])]
        text = expected_text(server)

    for run in runs:
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith(f"{text}\n\nSources:\n  [1] ")
    assert runs[0].stdout == runs[1].stdout


class RewritingBackend(FakeBackend):
    """A backend that breaks the streaming contract: a later snapshot rewrites the text."""

    name: ClassVar[str] = "rewriting"

    def stream(self, request: AnswerRequest) -> Iterator[Answer]:
        yield Answer(text="Amazon invests[1]", backend=self.name, complete=False)
        yield Answer(text="Amazon invests $5 billion now.", backend=self.name)


def test_a_backend_that_rewrites_its_text_still_gets_its_whole_answer_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bot.answering, "get_backend", lambda name=None: RewritingBackend())
    assert main(["ask", QUESTION]) == 0

    shown = capsys.readouterr().out
    assert shown.startswith("Amazon invests[1]\n\nAmazon invests $5 billion now.\n\n")
