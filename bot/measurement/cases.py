"""The eval sets: questions with what a correct answer holds, and the documents they ask about.

A set is a knowledge folder and the question files written for it. The article's set
is `knowledge/` with `eval/questions.jsonl` (all `dev`: the first offline rules were
tuned on it) and `eval/sets/article-fresh/questions.jsonl`; every other folder
`eval/sets/<name>/` holds its own `knowledge/` and `questions.jsonl`. Each question is
`dev` (look at failures, tune) or `test` (measure only). The format is in
`eval/README.md`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..knowledge import normalize
from ..settings import PROJECT_ROOT
from ..types import Citation

EVAL_DIR = PROJECT_ROOT / "eval"
EVAL_FILE = EVAL_DIR / "questions.jsonl"
ARTICLE_SET = "article"
SPLITS = ("dev", "test")


@dataclass(frozen=True)
class Turn:
    """One asked question: what to ask and what a correct answer holds."""

    question: str
    expect: str  # "answer" or "refuse"
    facts: tuple[tuple[str, ...], ...] = ()  # each fact: any one of its spellings
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # answerable, unanswerable or followup
    turns: tuple[Turn, ...]  # a follow-up's first turn sets the scene and is not scored
    category: str = ""  # near-miss, off-topic or injection, for unanswerable questions
    split: str = "dev"


@dataclass(frozen=True)
class EvalSet:
    name: str
    knowledge_dir: Path
    questions: tuple[Path, ...]

    def cases(self) -> list[Case]:
        """Every question of the set, ids prefixed by their file when there are several."""
        found = []
        for path in self.questions:
            prefix = "" if len(self.questions) == 1 else f"{path.parent.name}:"
            found += [_prefixed(case, prefix) for case in load_cases(path)]
        return found


def _prefixed(case: Case, prefix: str) -> Case:
    return Case(prefix + case.id, case.kind, case.turns, case.category, case.split)


def discover_sets(root: Path = EVAL_DIR, article_dir: Path | None = None) -> list[EvalSet]:
    """The article's set first, then each folder of `root/sets` that has a knowledge folder."""
    fresh = root / "sets" / "article-fresh" / "questions.jsonl"
    article = tuple(p for p in (root / "questions.jsonl", fresh) if p.is_file())
    sets = [EvalSet(ARTICLE_SET, article_dir or PROJECT_ROOT / "knowledge", article)]
    for folder in sorted((root / "sets").glob("*/")):
        if (folder / "knowledge").is_dir() and (folder / "questions.jsonl").is_file():
            sets.append(EvalSet(folder.name, folder / "knowledge", (folder / "questions.jsonl",)))
    return [s for s in sets if s.questions]


def load_cases(path: Path = EVAL_FILE) -> list[Case]:
    """The questions of one file, one JSON object per line."""
    cases = []
    for row in map(json.loads, filter(str.strip, path.read_text("utf-8").splitlines())):
        expect = "refuse" if row["kind"] == "unanswerable" else row.get("expect", "answer")
        turns = tuple(
            Turn(
                turn["question"],
                expect,  # only the last turn is scored
                tuple((f,) if isinstance(f, str) else tuple(f) for f in turn.get("facts", ())),
                tuple(turn.get("sections", ())),
            )
            for turn in row.get("turns") or [row]
        )
        split = row.get("split", "dev")
        if split not in SPLITS:
            raise ValueError(f"{path}: case {row['id']} has split {split!r}, not dev or test")
        cases.append(Case(row["id"], row["kind"], turns, row.get("category", ""), split))
    return cases


def _fold(text: str) -> str:
    text = re.sub(r"\[\d+\]", " ", normalize(text))
    return " ".join(re.sub(r"[-\u2010-\u2015]", " ", text).split())


def missing_facts(text: str, facts: Sequence[Sequence[str]]) -> list[str]:
    """The facts (by first spelling) that `text` lacks; "5 billion" is not in "25 billion"."""
    folded = _fold(text)
    return [
        spellings[0]
        for spellings in facts
        if not any(re.search(r"(?<![a-z0-9])" + re.escape(_fold(s)), folded) for s in spellings)
    ]


def verbatim(citation: Citation, knowledge_dir: Path) -> bool:
    """True when the quote is exactly the knowledge file's text at [start:end]."""
    path = knowledge_dir / citation.source
    text = path.read_bytes().decode("utf-8") if path.is_file() else ""
    return bool(citation.quote.strip()) and text[citation.start : citation.end] == citation.quote
