"""`python -m bot bench`: how fast the bot retrieves, indexes, starts and scales.

Prints Markdown tables of medians and ratios; nothing passes or fails. Timings that
are compared run interleaved, question by question, in this one process, so a noisy
machine slows both sides alike. Everything is indexed into a temporary folder; the
user's own index is not touched.

- Retrieval on the article: a bare forward pass of the model at the question's own
  length (the floor), `bot.retrieve()`, and Chroma's own default query path (its
  embedding function, pointed at the same model folder, plus `collection.query`).
- Indexing the article from scratch with the model loaded, and reopening it.
- Start-up in fresh processes and the way to Claude (see `bench_start`).
- `--sizes`: synthetic knowledge bases of that many sections (see `bench_scale`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..settings import PROJECT_ROOT, Settings, get_settings
from .timing import BareForward, interleave, median, ms, p95

if TYPE_CHECKING:
    from ..store import Embedder, SyncReport

QUESTIONS_FILE = PROJECT_ROOT / "eval" / "questions.jsonl"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--questions", type=int, default=100,
                        help="distinct questions per measurement (default 100)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="repeats of the indexing and start-up runs (default 3)")
    parser.add_argument("--no-start", dest="start", action="store_false",
                        help="skip the start-up runs in fresh processes")
    parser.add_argument("--sizes", default="", help="synthetic sizes, e.g. 1000,10000,100000")
    parser.add_argument("--per-sentence-up-to", type=int, default=10_000, metavar="N",
                        help="larger synthetic sizes store one vector per section, not one "
                        "per sentence too (default 10000)")
    # One step of one size, run by the scaling benchmark in a fresh process.
    parser.add_argument("--scale-step", choices=["index", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--scale-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scale-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--one-vector", action="store_true", help=argparse.SUPPRESS)


def run_command(args: argparse.Namespace) -> int:
    if args.scale_step is not None:
        from .bench_scale import measure_step

        print(measure_step(args.scale_step, args.scale_one, args.scale_dir,
                           not args.one_vector, args.questions))
        return 0
    with tempfile.TemporaryDirectory(prefix="bot-bench-") as scratch:
        run(Path(scratch), args)
    return 0


def run(scratch: Path, args: argparse.Namespace) -> None:
    settings = get_settings().with_changes(data_dir=scratch / "data")
    print(machine())
    questions = article_questions(settings, args.questions)
    retrieval = article_retrieval(settings, questions)
    print(retrieval.table)
    print(offline_answers(settings, questions))
    print(article_indexing(settings, scratch, args.rounds))
    from . import bench_start

    print(bench_start.claude_request(settings, questions, retrieval.forward))
    if args.start:
        print(bench_start.start_up(scratch, questions, args.rounds))
    if args.sizes:
        from .bench_scale import scale_table

        sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
        print(scale_table(sizes, args.questions, args.per_sentence_up_to))


def machine() -> str:
    import chromadb
    import onnxruntime

    cpu = platform.processor() or platform.machine()
    try:
        names = [line for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0].split(":", 1)[1].strip()
    except (OSError, IndexError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"## Machine\n\n{cpu}, {os.cpu_count()} cores, load average {load:.1f} at the start; "
        f"Python {platform.python_version()}, onnxruntime {onnxruntime.__version__}, "
        f"chromadb {chromadb.__version__}\n"
    )


def article_questions(settings: Settings, limit: int) -> list[str]:
    """Distinct questions from the eval set (every turn of its conversations too), then
    the knowledge base's own headings, which are what a question is about."""
    from ..knowledge import load_sections

    found: dict[str, None] = {}
    if QUESTIONS_FILE.is_file():
        for line in QUESTIONS_FILE.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                for question in [item.get("question"), *(t.get("question") for t in
                                                         item.get("turns", []))]:
                    if question:
                        found.setdefault(question.strip())
    for section in load_sections(Path(settings.knowledge_dir)):
        found.setdefault(section.title)
    return list(found)[: max(limit, 1)]


@dataclass(frozen=True)
class ArticleRetrieval:
    table: str
    forward: BareForward  # ready for the questions asked


def chroma_default_query(settings: Settings, embedder: Embedder) -> Callable[[str], object]:
    """Chroma's default path: its embedding function (inputs padded to 256 tokens) plus
    `collection.query`, over the same texts as the bot's own collection. The texts go in
    with the bot's vectors, which are Chroma's (tests/test_embedding.py), to save the
    seconds Chroma's function would take; only the query path is timed."""
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    from ..retrieval import get_retriever
    from ..store import open_client, vector_texts

    function = ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])
    # Chroma reads its model cache folder from this attribute; no download is tried.
    function.DOWNLOAD_PATH = embedder.model_dir.parent  # type: ignore[misc]
    sections = get_retriever(settings).sections
    ids = [f"{s.id}#{n}" for s in sections for n, _ in enumerate(vector_texts(s))]
    texts = [text for s in sections for text in vector_texts(s)]
    # A folder of its own: a write to the bot's database makes it re-read its vectors.
    client = open_client(settings.with_changes(data_dir=Path(settings.data_dir) / "default"))
    collection = client.get_or_create_collection(
        "bench-chroma-default", embedding_function=function,  # type: ignore[arg-type]
        configuration={"hnsw": {"space": "cosine"}})
    collection.upsert(ids=ids, documents=texts, embeddings=embedder.embed(texts))
    return lambda question: collection.query(query_texts=[question], n_results=settings.top_k)


def article_retrieval(settings: Settings, questions: Sequence[str]) -> ArticleRetrieval:
    from ..answering import retrieve as retrieve_passages
    from ..retrieval import get_retriever

    def retrieve(question: str) -> object:
        return retrieve_passages(question, settings=settings)

    retrieve("Is the index ready?")  # opens, indexes and warms up; not counted
    embedder = get_retriever(settings).embedder  # the session bot.retrieve() runs
    assert embedder is not None, "the embedding model is missing: see BOT_EMBEDDING_MODEL_DIR"
    forward = BareForward(embedder, [*questions, "warm up"])
    forward("warm up")
    chroma = chroma_default_query(settings, embedder)
    chroma("warm up")
    # Two rotations: Chroma's 256-token passes leave threads and caches that slow whatever
    # runs next, so the floor is compared without them, and Chroma with them.
    pair = interleave(questions, {"bare": forward, "retrieve": retrieve})
    three = interleave(questions, {"bare": forward, "retrieve": retrieve, "chroma": chroma})
    bare, ours = median(pair["bare"]), median(pair["retrieve"])
    paired = median(r / b for r, b in zip(pair["retrieve"], pair["bare"], strict=True))
    faster = median(three["chroma"]) / median(three["retrieve"])

    def row(label: str, alone: list[float] | None, mixed: list[float]) -> str:
        first = (f"{ms(median(alone))} | {ms(p95(alone))} | {median(alone) / bare:.2f}"
                 if alone else "— | — | —")
        last = f"{ms(median(mixed))} | {median(mixed) / median(three['bare']):.2f}"
        return f"| {label} | {first} | {last} |"

    lines = [
        f"## Retrieval on the article ({len(questions)} distinct questions, interleaved; "
        "each asked once per rotation, and nothing on the way caches a result)\n",
        "| path | median ms | p95 ms | × bare forward | with Chroma's path in the rotation: "
        "median ms | × bare forward |", "|---|---:|---:|---:|---:|---:|",
        row("bare model forward, question's own length", pair["bare"], three["bare"]),
        row("`bot.retrieve()`: embed + Chroma store + BM25 + fusion", pair["retrieve"],
            three["retrieve"]),
        row("Chroma's default query path: its embedding function + query", None,
            three["chroma"]),
        "",
        f"`bot.retrieve()` is {ours / bare:.2f}× a bare forward (median of per-question ratios "
        f"{paired:.2f}×; target ≤ 1.25×), and Chroma's default query path takes {faster:.1f}× "
        "as long as `bot.retrieve()` in the same rotation (target ≥ 9×).\n",
    ]
    return ArticleRetrieval("\n".join(lines), forward)


def offline_answers(settings: Settings, questions: Sequence[str]) -> str:
    """The offline answerer's whole answer, question to cited answer, on the article:
    once cold (each question new to the per-sentence caches) and once warm."""
    from ..answering import answer

    def ask(question: str) -> object:
        return answer(question, backend="offline", settings=settings)

    ask("Is the offline answerer ready?")
    cold = interleave(questions, {"answer": ask})["answer"]
    warm = interleave(questions, {"answer": ask})["answer"]
    return "\n".join([
        f"## Offline answers on the article ({len(questions)} distinct questions)\n",
        "| run | median ms | p95 ms |", "|---|---:|---:|",
        f"| first time each question is asked (target < 50 ms p50) | {ms(median(cold))} "
        f"| {ms(p95(cold))} |",
        f"| asked again | {ms(median(warm))} | {ms(p95(warm))} |",
        "",
    ])


def article_indexing(settings: Settings, scratch: Path, rounds: int) -> str:
    from ..knowledge import load_sections
    from ..retrieval import Retriever
    from ..store import Embedder, SectionStore, open_client

    embedder = Embedder.from_settings(settings)
    embedder.embed(["The model is loaded and warm."])
    open_client(settings.with_changes(data_dir=scratch / "warm"))  # Chroma's first client

    def index(folder: Settings) -> tuple[float, SyncReport, int]:
        started = time.perf_counter()
        sections = load_sections(Path(folder.knowledge_dir))
        store = SectionStore.open(folder)
        report = store.sync(sections, lambda: embedder)
        Retriever(sections, store=store, embedder=embedder, sync_report=report)
        return time.perf_counter() - started, report, store.size

    runs = []
    for round_ in range(rounds):
        folder = settings.with_changes(data_dir=scratch / f"index-{round_}")
        runs.append((index(folder), index(folder)))
    (_, first, vectors), (_, again, _) = runs[0]
    return "\n".join([
        f"## Indexing the article (model loaded; median of {rounds}, each in a new folder)\n",
        "| step | seconds | sections embedded |", "|---|---:|---:|",
        f"| from scratch: {first.embedded} sections, {vectors} vectors, store + BM25 "
        f"(target ≤ 1 s) | {median(r[0][0] for r in runs):.2f} | {first.embedded} |",
        f"| reopening the unchanged index | {median(r[1][0] for r in runs):.2f} "
        f"| {again.embedded} |",
        "",
    ])
