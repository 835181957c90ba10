"""The scaling part of `python -m bot bench --sizes 1000,10000,100000`.

Each size runs in two fresh processes, so each one's peak memory is its own. The
first generates that many synthetic sections (`synthetic`) and indexes them from
scratch with the loaded model (batched embedding, then Chroma). The second is the
bot serving them: it reopens the unchanged index (embedding nothing), builds the BM25
index once, and times the retriever on distinct synthetic questions, interleaved with
a bare forward pass of the model on the same question.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from .timing import BareForward, child, interleave, median, ms, p95, peak_rss_mb


def _open(size: int, folder: Path, per_sentence: bool) -> tuple[Any, Any, Any, Any]:
    from ..settings import get_settings
    from ..store import Embedder, SectionStore
    from .synthetic import synthetic_sections

    settings = get_settings().with_changes(
        knowledge_dir=folder / f"synthetic-{size}", data_dir=folder / "data")
    embedder = Embedder.from_settings(settings)
    embedder.embed(["The model is loaded and warm."])
    store = SectionStore.open(settings, per_sentence=per_sentence)
    return settings, synthetic_sections(size), embedder, store


def index_size(size: int, folder: Path, per_sentence: bool) -> dict[str, Any]:
    """Index `size` synthetic sections from scratch, the model already loaded."""
    _, sections, embedder, store = _open(size, folder, per_sentence)
    started = time.perf_counter()
    report = store.sync(sections, lambda: embedder)
    return {"index_seconds": time.perf_counter() - started, "embedded": report.embedded,
            "vectors": store.size, "index_rss_mb": peak_rss_mb()}


def serve_size(size: int, folder: Path, per_sentence: bool, questions: int) -> dict[str, Any]:
    """Reopen the index `index_size` built and time retrieval over it."""
    from ..retrieval import CANDIDATE_DEPTH, Retriever
    from .synthetic import synthetic_questions

    settings, sections, embedder, store = _open(size, folder, per_sentence)
    started = time.perf_counter()
    report = store.sync(sections, lambda: embedder)
    reopened = time.perf_counter()
    retriever = Retriever(sections, store=store, embedder=embedder, sync_report=report)
    keyword_seconds = time.perf_counter() - reopened
    retriever.retrieve("Is everything ready?")
    serving_rss = peak_rss_mb()
    asked = synthetic_questions(questions)
    forward = BareForward(embedder, [*asked, "warm up"])
    forward("warm up")
    samples = interleave(asked, {
        "bare": forward,
        "retrieve": lambda question: retriever.retrieve(question, k=settings.top_k),
    })
    return {
        "reopen_seconds": reopened - started, "reopen_embedded": report.embedded,
        "keyword_seconds": keyword_seconds, "serving_rss_mb": serving_rss,
        "search": "exact, in memory" if store.in_memory else
        f"Chroma HNSW, {CANDIDATE_DEPTH * 8} nearest vectors",
        "bare_median": median(samples["bare"]),
        "retrieve_median": median(samples["retrieve"]),
        "retrieve_p95": p95(samples["retrieve"]),
    }


def measure_step(step: str, size: int, folder: Path, per_sentence: bool, questions: int) -> str:
    if step == "index":
        return json.dumps(index_size(size, folder, per_sentence))
    return json.dumps(serve_size(size, folder, per_sentence, questions))


def scale_table(sizes: list[int], questions: int, per_sentence_up_to: int) -> str:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    rows = []
    for size in sizes:
        per_sentence = size <= per_sentence_up_to
        result: dict[str, Any] = {"sections": size,
                                  "layout": "section + sentences" if per_sentence else "section"}
        with tempfile.TemporaryDirectory(prefix="bot-bench-scale-") as folder:
            for step in ("index", "serve"):
                args = ["-m", "bot", "bench", "--scale-step", step, "--scale-one", str(size),
                        "--scale-dir", folder, "--questions", str(questions)]
                wall, _, out = child([*args, *([] if per_sentence else ["--one-vector"])], env)
                result.update(json.loads(out.strip().splitlines()[-1]), **{f"{step}_wall": wall})
        rows.append(result)
    lines = [
        f"## Scale: synthetic article-like sections ({questions} distinct questions each)\n",
        "| sections | vectors of | vectors | index from scratch s | sections/s | vectors/s "
        "| peak RSS indexing MB | reopen s (embedded) | BM25 build s | dense search "
        "| retrieve p50 ms | p95 ms | × bare forward | peak RSS serving MB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        seconds = r["index_seconds"]
        lines.append(
            f"| {r['sections']:,} | {r['layout']} | {r['vectors']:,} | {seconds:.1f} "
            f"| {r['sections'] / seconds:.1f} | {r['vectors'] / seconds:.0f} "
            f"| {r['index_rss_mb']:.0f} | {r['reopen_seconds']:.1f} ({r['reopen_embedded']}) "
            f"| {r['keyword_seconds']:.1f} | {r['search']} | {ms(r['retrieve_median'])} "
            f"| {ms(r['retrieve_p95'])} | {r['retrieve_median'] / r['bare_median']:.2f} "
            f"| {r['serving_rss_mb']:.0f} |"
        )
    return "\n".join([*lines, ""])
