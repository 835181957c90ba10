"""The benchmark prints its tables (a tiny run; its numbers are not checked, since timings
on a shared machine prove nothing), and its synthetic knowledge base is article-like,
distinct and the same for a seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import get_settings
from bot.knowledge import sentence_spans
from bot.measurement.bench import article_questions
from bot.measurement.synthetic import synthetic_questions, synthetic_sections
from bot.measurement.timing import interleave

ROOT = Path(__file__).resolve().parent.parent


def test_synthetic_sections_are_distinct_article_like_and_repeatable() -> None:
    sections = synthetic_sections(60)
    assert len({s.id for s in sections}) == 60
    assert len({s.text for s in sections}) == 60
    assert all(3 <= len(sentence_spans(s.text)) <= 6 for s in sections)
    assert all(s.text == s.text.strip() and s.heading_path[-1] == s.title for s in sections)
    assert sections[2].heading_path == ("Key Details", "What Happened")
    assert synthetic_sections(60) == sections
    assert synthetic_sections(60, seed=8) != sections


def test_synthetic_questions_are_distinct() -> None:
    questions = synthetic_questions(200)
    assert len(set(questions)) == 200
    assert all(question.strip() for question in questions)


def test_the_article_questions_come_from_the_eval_set_without_repeats() -> None:
    questions = article_questions(get_settings(), 1000)
    assert len(questions) == len(set(questions)) > 50
    assert article_questions(get_settings(), 5) == questions[:5]


def test_interleaving_times_every_item_with_every_timer_in_changing_orders() -> None:
    calls: list[tuple[str, str]] = []
    timers = {name: (lambda item, name=name: calls.append((name, item))) for name in "abc"}
    samples = interleave(["q1", "q2", "q3", "q4", "q5", "q6"], timers)
    assert {name: len(times) for name, times in samples.items()} == {"a": 6, "b": 6, "c": 6}
    orders = {tuple(name for name, item in calls if item == q) for q in ("q1", "q2", "q3",
                                                                         "q4", "q5", "q6")}
    assert len(orders) > 1


@pytest.mark.slow
def test_a_tiny_benchmark_run_prints_every_table(tmp_path: Path) -> None:
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--questions", "3", "--rounds", "1",
         "--sizes", "24,36", "--per-sentence-up-to", "30"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for heading in ("## Machine", "## Retrieval on the article (3 distinct questions",
                    "## Indexing the article", "## The way to Claude", "## Start-up",
                    "## Scale: synthetic"):
        assert heading in out
    assert "| `bot.retrieve()`: embed + Chroma store + BM25 + fusion |" in out
    assert "| `python -m bot ask` offline, index on disk |" in out
    assert "| 24 | section + sentences |" in out
    assert "| 36 | section | 36 |" in out
    assert "`import bot` loads none of gradio" in out
    assert list(tmp_path.iterdir()) == []  # the benchmark indexes into its own scratch folder
