"""`faq-bot eval`: the bot measured on every eval set, per set and per split.

Each question goes through the pipeline `answer()` runs (`bot.answering`): guard,
retrieval (dense, BM25 or hybrid), backend, over the set's own knowledge folder.
Retrieval is scored against the gold sections (hit@1, hit@3, MRR); answers by the
facts they must contain, by whether every quote is verbatim in the knowledge file,
and by declining what the documents do not answer (see `scores`). Two-turn
conversations score the second answer, given the bot's own first.

The `test` split is measured, never looked into: `--failures` lists the failing
questions of the `dev` split only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..answering import NAMES, Backend, answer, get_backend, retrieve
from ..settings import Settings, get_settings
from ..types import Answer
from .cases import (
    ARTICLE_SET,
    EVAL_FILE,
    SPLITS,
    Case,
    EvalSet,
    discover_sets,
    load_cases,
    missing_facts,
    verbatim,
)
from .scores import Outcome, format_table, metrics, missed_targets, targets

MODES = ("dense", "bm25", "hybrid")
RANK_DEPTH = 10  # sections ranked for MRR; the answerer still sees only settings.top_k


class Evaluator:
    """Runs questions through one backend and one retrieval mode over one knowledge folder."""

    def __init__(self, backend: Backend, settings: Settings, mode: str = "hybrid",
                 set_name: str = ARTICLE_SET) -> None:
        from ..retrieval import get_retriever

        self.backend, self.settings, self.mode, self.set_name = backend, settings, mode, set_name
        self.retriever = get_retriever(settings)

    def ask(self, question: str, history: list[dict[str, str]]) -> tuple[list[str], Answer]:
        """Section ids ranked for `question` (deeper than the answerer sees, for MRR), and
        the answer the pipeline gives; retrieval is deterministic, so both agree."""
        depth = max(RANK_DEPTH, self.settings.top_k)
        common: dict[str, Any] = {"settings": self.settings, "retriever": self.retriever,
                                  "mode": self.mode}
        ranked = retrieve(question, depth, history=history, **common)
        reply = answer(question, history, backend=self.backend, **common)
        return [p.id for p in ranked], reply

    def run(self, cases: Sequence[Case]) -> list[Outcome]:
        return [self.run_case(case) for case in cases]

    def run_case(self, case: Case) -> Outcome:
        history: list[dict[str, str]] = []
        usage: Counter[str] = Counter()
        for turn in case.turns[:-1]:
            _, first = self.ask(turn.question, history)
            usage.update(asdict(first.usage) if first.usage else {})
            history.append({"role": "user", "content": turn.question})
            history.append({"role": "assistant", "content": first.text})
        turn = case.turns[-1]
        started = time.perf_counter()
        ranked, reply = self.ask(turn.question, history)
        seconds = time.perf_counter() - started
        usage.update(asdict(reply.usage) if reply.usage else {})
        gold = [i for i, id_ in enumerate(ranked, start=1) if id_ in turn.sections]
        missing = missing_facts(reply.text, turn.facts) if turn.expect == "answer" else []
        if turn.expect == "answer":
            correct = not (reply.refused or reply.unsure or missing)
        elif case.category == "near-miss" or case.kind == "followup":
            correct = reply.refused or reply.unsure
        else:  # off topic, or an attempt to change the bot's instructions
            correct = reply.refused
        folder = Path(self.settings.knowledge_dir)
        cited = [{**asdict(c), "verbatim": verbatim(c, folder)} for c in reply.citations]
        return Outcome(
            id=case.id, kind=case.kind, question=turn.question, expect=turn.expect,
            answer=reply.text, refused=reply.refused, correct=correct,
            rank=gold[0] if gold else None, retrieved=ranked[: self.settings.top_k],
            missing_facts=missing, citations=cited, category=case.category,
            usage=dict(usage) or None, context=history, warnings=list(reply.warnings),
            unsure=reply.unsure, split=case.split, set=self.set_name, seconds=seconds,
        )


def evaluate(
    backend: str = "offline",
    mode: str = "hybrid",
    settings: Settings | None = None,
    path: Path = EVAL_FILE,
) -> tuple[dict[str, float | None], list[Outcome]]:
    """Run one question file over the settings' knowledge folder; the summary and outcomes."""
    settings = settings or get_settings()
    chosen = get_backend(backend, settings)
    outcomes = Evaluator(chosen, settings, mode).run(load_cases(path))
    return metrics(outcomes, chosen.model), outcomes


def evaluate_set(
    eval_set: EvalSet, backend: str = "offline", mode: str = "hybrid",
    settings: Settings | None = None, splits: Sequence[str] = SPLITS,
) -> list[Outcome]:
    """Every question of `eval_set` in `splits`, answered from the set's own folder."""
    settings = (settings or get_settings()).with_changes(knowledge_dir=eval_set.knowledge_dir)
    evaluator = Evaluator(get_backend(backend, settings), settings, mode, eval_set.name)
    return evaluator.run([case for case in eval_set.cases() if case.split in splits])


def answer_ms(outcomes: Sequence[Outcome]) -> float | None:
    return statistics.median(o.seconds for o in outcomes) * 1000 if outcomes else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", default="offline", choices=[n for n in NAMES if n != "auto"])
    parser.add_argument("--retrieval", default="hybrid", choices=[*MODES, "all"])
    parser.add_argument("--set", action="append", dest="sets", metavar="NAME",
                        help="only this set (repeatable); default: every set under eval/")
    parser.add_argument("--split", choices=[*SPLITS, "all"], default="all")
    parser.add_argument("--failures", action="store_true",
                        help="list the failing questions of the dev split")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every outcome here")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a test-split target is missed")
    parser.add_argument("--calibrate", action="store_true",
                        help="fit the offline answerer's confidence on the dev split")


def run_command(args: argparse.Namespace) -> int:
    if args.calibrate:
        from .calibration import run

        return run(args.sets)
    sets = [s for s in discover_sets() if not args.sets or s.name in args.sets]
    if not sets:
        known = ", ".join(s.name for s in discover_sets())
        print(f"error: no eval set named {', '.join(args.sets)}; the sets are {known}.")
        return 2
    splits = SPLITS if args.split == "all" else (args.split,)
    modes = MODES if args.retrieval == "all" else (args.retrieval,)
    started = time.perf_counter()
    report: dict[str, Any] = {"backend": args.backend, "runs": []}
    missed_any = False
    for mode in modes:
        outcomes = [o for s in sets for o in evaluate_set(s, args.backend, mode, splits=splits)]
        report["runs"].append({"mode": mode, "outcomes": [asdict(o) for o in outcomes]})
        for split in splits:
            chosen = [o for o in outcomes if o.split == split]
            columns = {}
            for eval_set in sets:
                mine = [o for o in chosen if o.set == eval_set.name]
                columns[eval_set.name] = {**metrics(mine), "answer_ms_p50": answer_ms(mine)}
            print(f"\n## {split} split, {mode} retrieval, {args.backend} backend\n")
            print(format_table(columns))
            if split == "test":
                for eval_set in sets:
                    missed = missed_targets(columns[eval_set.name], targets(eval_set.name))
                    missed_any |= bool(missed)
                    verdict = f"missed {', '.join(missed)}" if missed else "every target met"
                    print(f"{eval_set.name}: {verdict}")
        if args.failures:
            _print_failures([o for o in outcomes if o.split == "dev" and not o.correct])
    print(f"\n{time.perf_counter() - started:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"Full report: {args.json}")
    return 1 if args.strict and missed_any else 0


def _print_failures(failed: Sequence[Outcome]) -> None:
    print(f"\n## {len(failed)} failing dev questions\n")
    for o in failed:
        state = "refused" if o.refused else "unsure" if o.unsure else "answered"
        print(f"[{o.set} {o.id} {o.kind} {o.category}] {o.question!r} -> {state}, "
              f"rank {o.rank}, missing {o.missing_facts}")
        if o.context:
            print(f"    after: {o.context[0]['content']!r}")
        print(f"    {o.answer[:300]!r}")
