"""`faq-bot eval --calibrate`: fits the offline answerer's confidence on the dev split.

For every dev question that the documents answer (and whose answer is among the
retrieved sentences) and every dev near miss, it takes the features of the sentence
the answerer ranks first (`choosing.Scored.features`) and fits a logistic model:
answerable 1, near miss 0. It prints the weights to copy into `choosing.CONFIDENCE`
and, for a few thresholds, how many dev answers would be given and how many near
misses declined. The test split is never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..answering import validate_question
from ..answering.backends.offline.choosing import CONFIDENCE, Chooser
from ..answering.backends.offline.reading import Question, read_sentences
from ..retrieval import get_retriever
from ..settings import get_settings
from .cases import discover_sets, missing_facts

L2 = 0.01
STEPS = 100  # Newton steps; it converges in a handful


def collect(sets: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features of the best sentence, and labels, for the dev questions."""
    rows, labels = [], []
    for eval_set in discover_sets():
        if sets and eval_set.name not in sets:
            continue
        settings = get_settings().with_changes(knowledge_dir=Path(eval_set.knowledge_dir))
        retriever = get_retriever(settings)
        for case in eval_set.cases():
            single = case.kind == "answerable" or case.category == "near-miss"
            if case.split != "dev" or not single:
                continue
            turn = case.turns[-1]
            asked = validate_question(turn.question, settings)
            found = retriever.retrieve(asked, k=settings.top_k)
            vocabulary = found.evidence.vocabulary if found.evidence else None
            question = Question.read(asked, vocabulary)
            sentences = read_sentences(found.passages, found.evidence)
            if not sentences or len(question.parts()) > 1:
                continue
            scored = Chooser(sentences, found.evidence, (), asked).scored(question, None)
            if case.kind == "answerable":
                if not any(not missing_facts(x.sentence.text, turn.facts[:1]) for x in scored):
                    continue  # retrieval missed it: no confidence could help
                labels.append(1.0)
            else:
                labels.append(0.0)
            rows.append(scored[0].features(question.kind))
    return np.array(rows, dtype=float), np.array(labels)


def fit(features: np.ndarray, labels: np.ndarray) -> tuple[float, ...]:
    """Logistic regression by Newton's method, a little L2 on the weights, the near
    misses weighted up to count as much in all as the answerable questions."""
    design = np.hstack([np.ones((len(features), 1)), features])
    balance = np.where(labels == 1, 1.0, labels.sum() / max(len(labels) - labels.sum(), 1))
    penalty = L2 * len(labels) * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    weights = np.zeros(design.shape[1])
    for _ in range(STEPS):
        predicted = 1 / (1 + np.exp(-design @ weights))
        gradient = design.T @ (balance * (predicted - labels)) + penalty @ weights
        hessian = (design * (balance * predicted * (1 - predicted))[:, None]).T @ design
        step = np.linalg.solve(hessian + penalty, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return tuple(round(float(w), 2) for w in weights)


def report(features: np.ndarray, labels: np.ndarray, weights: Sequence[float]) -> str:
    scores = np.array([_confidence(weights, row) for row in features])
    lines = [f"{int(labels.sum())} answerable and {int(len(labels) - labels.sum())} near misses "
             "(dev split)", "threshold  answers given  near misses declined"]
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        given = float((scores[labels == 1] >= threshold).mean())
        declined = float((scores[labels == 0] < threshold).mean())
        lines.append(f"{threshold:9.1f}  {given:13.3f}  {declined:20.3f}")
    return "\n".join(lines)


def _confidence(weights: Sequence[float], row: np.ndarray) -> float:
    bias, *rest = weights
    return float(1 / (1 + np.exp(-(bias + float(np.dot(rest, row))))))


def run(sets: Sequence[str] | None = None) -> int:
    features, labels = collect(sets)
    if not len(labels):
        print("No dev questions to calibrate on.")
        return 2
    print("Current weights:", CONFIDENCE)
    print(report(features, labels, CONFIDENCE))
    weights = fit(features, labels)
    print("\nFitted weights, for choosing.CONFIDENCE:", weights)
    print(report(features, labels, weights))
    return 0
