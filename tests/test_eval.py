"""The eval set and `python -m bot eval`: quality cannot regress without a failing test."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from upstream import Upstream

from bot import Citation, get_settings
from bot.cli import main
from bot.knowledge import load_sections
from bot.measurement.evaluation import (
    EVAL_FILE,
    TARGETS,
    Outcome,
    evaluate,
    load_cases,
    metrics,
    missed_targets,
    missing_facts,
    verbatim,
)


@pytest.fixture(scope="module")
def offline_run() -> tuple[dict[str, float | None], list[Outcome]]:
    return evaluate("offline", "hybrid")


def test_the_offline_bot_meets_every_quality_target_on_the_eval_set(offline_run) -> None:
    numbers, outcomes = offline_run
    wrong = [o.id for o in outcomes if not o.correct]
    badly_ranked = [o.id for o in outcomes if o.expect == "answer" and o.rank != 1]
    assert missed_targets(numbers) == [], (numbers, wrong, badly_ranked)
    assert set(TARGETS) <= set(numbers)


def test_every_quote_the_offline_bot_gives_is_verbatim_and_every_answer_is_cited(
    offline_run,
) -> None:
    numbers, outcomes = offline_run
    assert sum(len(o.citations) for o in outcomes) > 50
    assert numbers["citation_validity"] == 1.0
    assert numbers["cited_answers"] == 1.0


def test_the_eval_set_has_enough_questions_of_each_kind_over_every_section() -> None:
    cases = load_cases()
    kinds = Counter(case.kind for case in cases)
    assert kinds["answerable"] >= 40 and kinds["unanswerable"] >= 15 and kinds["followup"] >= 10
    assert len({case.id for case in cases}) == len(cases)
    sections = {section.id for section in load_sections(Path(get_settings().knowledge_dir))}
    gold = {s for case in cases for turn in case.turns for s in turn.sections}
    assert gold <= sections, gold - sections
    answerable_gold = {s for c in cases if c.kind == "answerable" for s in c.turns[-1].sections}
    assert answerable_gold == sections
    assert all(c.turns[-1].facts for c in cases if c.turns[-1].expect == "answer")


def test_a_fact_counts_only_as_a_whole_number_not_inside_a_larger_one() -> None:
    facts = [("5 billion",), ("ten years", "decade")]
    assert missing_facts("Amazon is putting $5 billion in now [1], over a decade.", facts) == []
    assert missing_facts("A total of $25 billion over ten years.", facts) == ["5 billion"]
    assert missing_facts("a 5-gigawatt requirement", [("5 gigawatt",)]) == []


def test_a_quote_that_differs_from_the_knowledge_file_counts_as_invalid() -> None:
    folder = Path(get_settings().knowledge_dir)
    section = load_sections(folder)[0]
    real = Citation(
        section.document, section.title, section.text, section.start, section.end, section.source
    )
    shifted = Citation(
        real.document, real.section, real.quote, real.start + 1, real.end + 1, real.source
    )
    assert verbatim(real, folder)
    assert not verbatim(shifted, folder)
    assert not verbatim(Citation("d", "s", "", 0, 0, section.source), folder)
    assert not verbatim(Citation("d", "s", real.quote, real.start, real.end, "gone.md"), folder)


def test_a_claude_run_reports_tokens_and_an_estimated_cost() -> None:
    usage = {
        "input_tokens": 600_000,
        "output_tokens": 100_000,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 400_000,
    }
    outcome = Outcome(
        "a01", "answerable", "q", "answer", "a [1]", False, True, 1, [], [], [], usage=usage
    )
    numbers = metrics([outcome], model="claude-sonnet-5-5")
    assert numbers["tokens_in"] == 1_000_000 and numbers["tokens_out"] == 100_000
    # Cached input is billed at a tenth: 0.6 M + 0.04 M at $3, 0.1 M out at $15.
    assert numbers["cost_usd"] == pytest.approx(0.64 * 3 + 0.1 * 15)
    assert metrics([outcome], model="some-other-model")["cost_usd"] is None
    assert "tokens_in" not in metrics([replace(outcome, usage=None)])


def test_the_eval_command_compares_dense_bm25_and_hybrid_and_writes_every_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    assert main(["eval", "--retrieval", "all", "--json", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "hit@1" in printed and "followup_accuracy" in printed
    assert printed.index("dense") < printed.index("bm25") < printed.index("hybrid")
    written = json.loads(report.read_text(encoding="utf-8"))
    ids = {case.id for case in load_cases(EVAL_FILE)}
    for mode in ("dense", "bm25", "hybrid"):
        assert {o["id"] for o in written["modes"][mode]["outcomes"]} == ids
    rankings = {
        mode: [o["retrieved"] for o in written["modes"][mode]["outcomes"]]
        for mode in ("dense", "bm25", "hybrid")
    }
    assert rankings["dense"] != rankings["bm25"]


def test_a_claude_eval_runs_through_the_real_sdk_and_counts_every_calls_tokens(
    upstream: Upstream, tmp_path: Path
) -> None:
    # The stand-in quotes the first sentence of the first passage it is sent, cited.
    questions = tmp_path / "questions.jsonl"
    rows = [json.loads(line) for line in EVAL_FILE.read_text("utf-8").splitlines()]
    chosen = [row for row in rows if row["id"] in ("a01", "f01")]
    questions.write_text("\n".join(json.dumps(row) for row in chosen), encoding="utf-8")
    settings = get_settings().with_changes(api_key="sk-ant-test", model="claude-sonnet-test",
                                           anthropic_base_url=upstream.base_url)
    numbers, outcomes = evaluate("claude", "hybrid", settings, questions)
    assert len(upstream.requests) == 3  # a01, and both turns of f01
    assert [o.id for o in outcomes] == ["a01", "f01"]
    assert numbers["tokens_in"] and numbers["tokens_out"] and numbers["cost_usd"]
    assert numbers["citation_validity"] == 1.0
    assert all(o.citations and o.answer.startswith("According to the article") for o in outcomes)
