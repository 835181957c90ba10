"""The numbers an eval run reports, the targets they are held to, and their tables.

An outcome is correct when an answerable question is answered (not refused, not
"not sure") with every required fact, and when an unanswerable one is refused or
answered "not sure" (a near miss) or refused (off topic, an injection). The targets
apply to the `test` split: questions no rule was ever tuned on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .cases import ARTICLE_SET

# Targets on the test split, per set; `answer_accuracy` is lower for documents the
# bot has never seen than for the article, hit@1 is held on the article only.
ARTICLE_TARGETS = {
    "answer_accuracy": 0.90, "near_miss_declined": 0.90, "near_miss_confident": 0.0,
    "followup_accuracy": 0.85, "citation_validity": 1.0, "hit@1": 0.90,
}
DOCUMENT_TARGETS = {
    "answer_accuracy": 0.85, "near_miss_declined": 0.90, "near_miss_confident": 0.0,
    "followup_accuracy": 0.85, "citation_validity": 1.0,
}
CEILINGS = frozenset({"near_miss_confident", "false_refusal_rate"})  # upper bounds
# List prices in USD per million tokens (input, output) when this was written; cache
# writes cost 1.25x input, reads 0.1x. The cost shown is an estimate from them.
PRICES = {"opus": (15.0, 75.0), "sonnet": (3.0, 15.0), "haiku": (1.0, 5.0)}


@dataclass
class Outcome:
    id: str
    kind: str
    question: str
    expect: str
    answer: str
    refused: bool
    correct: bool
    rank: int | None  # 1-based rank of the first gold section; None if not in the top ranks
    retrieved: list[str]
    missing_facts: list[str]
    citations: list[dict[str, Any]]
    category: str = ""
    usage: dict[str, int] | None = None  # every call of the case, follow-ups' first turns too
    context: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unsure: bool = False
    split: str = "dev"
    set: str = ARTICLE_SET
    seconds: float = 0.0  # the scored answer's time


def targets(set_name: str) -> dict[str, float]:
    return ARTICLE_TARGETS if set_name == ARTICLE_SET else DOCUMENT_TARGETS


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def metrics(outcomes: Sequence[Outcome], model: str | None = None) -> dict[str, float | None]:
    """The summary numbers; None where a metric has nothing to count."""
    single = [o for o in outcomes if o.kind == "answerable"]
    ranks = [o.rank or 0 for o in single]  # 0: no gold section among the ranks
    later = [o for o in outcomes if o.kind == "followup"]
    near = [o for o in outcomes if o.kind == "unanswerable" and o.category == "near-miss"]
    other = [o for o in outcomes if o.kind == "unanswerable" and o.category != "near-miss"]
    answerable = [o for o in outcomes if o.expect == "answer"]
    answered = [o for o in outcomes if not o.refused]
    citations = [c for o in outcomes for c in o.citations]
    result: dict[str, float | None] = {
        "questions": len(outcomes),
        "hit@1": _share(sum(r == 1 for r in ranks), len(ranks)),
        "hit@3": _share(sum(0 < r <= 3 for r in ranks), len(ranks)),
        "mrr": _share(sum(1 / r for r in ranks if r), len(ranks)),
        "answer_accuracy": _share(sum(o.correct for o in single), len(single)),
        "answered_unsure": _share(sum(o.unsure for o in single), len(single)),
        "false_refusal_rate": _share(sum(o.refused for o in answerable), len(answerable)),
        "near_miss_declined": _share(sum(o.refused or o.unsure for o in near), len(near)),
        "near_miss_confident": _share(
            sum(not (o.refused or o.unsure) for o in near), len(near)),
        "off_topic_refused": _share(sum(o.refused for o in other), len(other)),
        "followup_accuracy": _share(sum(o.correct for o in later), len(later)),
        "citation_validity": _share(sum(c["verbatim"] for c in citations), len(citations)),
        "cited_answers": _share(sum(bool(o.citations) for o in answered), len(answered)),
    }
    totals: Counter[str] = Counter()
    for outcome in outcomes:
        totals.update(outcome.usage or {})
    if totals:
        cached = totals["cache_creation_input_tokens"] + totals["cache_read_input_tokens"]
        result["tokens_in"] = totals["input_tokens"] + cached
        result["tokens_out"] = totals["output_tokens"]
        result["cost_usd"] = cost(totals, model)
    return result


def cost(totals: Counter[str], model: str | None) -> float | None:
    """List-price cost of the scored turns, or None for a model family not in PRICES."""
    family = next((f for f in PRICES if model and f in model), None)
    if family is None:
        return None
    price_in, price_out = PRICES[family]
    cache = 1.25 * totals["cache_creation_input_tokens"] + 0.1 * totals["cache_read_input_tokens"]
    dollars = price_in * (totals["input_tokens"] + cache) + price_out * totals["output_tokens"]
    return dollars / 1_000_000


def missed_targets(numbers: dict[str, float | None], wanted: dict[str, float]) -> list[str]:
    """Names of the targets in `wanted` that `numbers` does not reach."""
    return [
        name
        for name, target in wanted.items()
        if (value := numbers.get(name)) is not None
        and ((value > target + 1e-9) if name in CEILINGS else (value < target - 1e-9))
    ]


def format_table(columns: dict[str, dict[str, float | None]],
                 wanted: dict[str, float] | None = None) -> str:
    """One row per metric, one column per run (a set, a split or a retrieval mode)."""
    header = ["metric", *columns] + (["target"] if wanted is not None else [])
    rows = [header]
    for name in dict.fromkeys(name for numbers in columns.values() for name in numbers):
        row = [name, *(_cell(name, numbers.get(name)) for numbers in columns.values())]
        if wanted is not None:
            target = wanted.get(name)
            sign = "≤" if name in CEILINGS else "≥"
            row.append("—" if target is None else f"{sign}{target:.2f}")
        rows.append(row)
    width = max(12, *(len(column) + 2 for column in columns))
    lines = [f"{row[0]:<20}" + "".join(f"{cell:>{width}}" for cell in row[1:]) for row in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def _cell(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    if name.startswith("tokens") or name == "questions":
        return f"{value:,.0f}"
    return f"${value:.4f}" if name == "cost_usd" else f"{value:.3f}"
