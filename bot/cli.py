"""The command line, `faq-bot` (or `python -m bot`): `ask`, `index`, `eval` and `bench`.

Errors the user can fix, a malformed setting first of all, are printed as one line
on stderr with exit code 2; nothing the user does ends in a traceback. Log lines
go through `bot.redaction`, so no configured secret reaches them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from .errors import BotError
from .redaction import redact_logs
from .settings import get_settings
from .types import Answer


def format_answer(answer: Answer) -> str:
    """The answer, then each citation as `[n] Section — "quote"`, then any warnings."""
    return f"{answer.text.strip()}\n\n{format_sources(answer)}"


def format_sources(answer: Answer) -> str:
    """What follows the answer's text: its sources, warnings, and who answered."""
    lines = []
    if answer.citations:
        lines.append("Sources:")
        for number, citation in enumerate(answer.citations, start=1):
            lines.append(f"  [{number}] {citation.section} ({citation.document})")
            lines.append(f"      \u201c{citation.quote}\u201d")
    elif not answer.refused:
        lines.append("(no citations)")
    for warning in answer.warnings:
        lines.append(f"Warning: {warning}")
    if not answer.complete:
        lines.append("Warning: the answer is incomplete.")
    label = answer.backend + (f" · {answer.model}" if answer.model else "")
    lines.append(f"— answered by {label}")
    return "\n".join(lines)


def _ask(args: argparse.Namespace) -> int:
    from .answering import get_backend, stream_answer

    backend = get_backend(args.backend)
    streaming = args.stream and backend.can_stream
    shown = ""
    final: Answer | None = None
    for final in stream_answer(args.question, backend=backend):
        # Each snapshot's text extends the last one's: print what it adds. Space at
        # either end waits, so the streamed text is exactly what --no-stream prints.
        text = final.text.strip()
        if streaming and not text.startswith(shown):
            streaming = False  # a backend broke that contract: the whole answer follows
            sys.stdout.write("\n\n")
        if streaming:
            sys.stdout.write(text[len(shown):])
            sys.stdout.flush()
            shown = text
    assert final is not None
    if streaming:
        print(f"\n\n{format_sources(final)}")
    else:
        print(format_answer(final))
    return 0


def progress_bar(stream: TextIO, width: int = 30) -> Callable[[int, int], None] | None:
    """A one-line bar redrawn in place on a terminal; None (no output) elsewhere, so
    logs and pipes get only the summary."""
    if not stream.isatty():
        return None

    def show(done: int, total: int) -> None:
        filled = width * done // max(total, 1)
        stream.write(f"\rEmbedding sections [{'#' * filled}{'.' * (width - filled)}] "
                     f"{done}/{total}" + ("\n" if done >= total else ""))
        stream.flush()

    return show


def _index(args: argparse.Namespace) -> int:
    from .retrieval import Retriever

    started = time.perf_counter()
    retriever = Retriever.open(
        get_settings(), rebuild=args.rebuild, progress=progress_bar(sys.stderr))
    report = retriever.sync_report
    print(
        f"Indexed {report.embedded + report.unchanged} sections from "
        f"{get_settings().knowledge_dir}: {report.embedded} embedded, "
        f"{report.unchanged} unchanged, {report.deleted} removed "
        f"({time.perf_counter() - started:.2f} s). Knowledge version {retriever.knowledge_version}."
    )
    for warning in retriever.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .answering import NAMES

    parser = argparse.ArgumentParser(prog="faq-bot", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True)

    ask = commands.add_parser("ask", help="answer one question from the knowledge base")
    ask.add_argument("question")
    ask.add_argument("--backend", choices=NAMES)
    ask.add_argument(
        "--no-stream",
        dest="stream",
        action="store_false",
        help="print only when the answer is complete",
    )
    ask.set_defaults(run=_ask)

    index = commands.add_parser("index", help="build or refresh the search index")
    index.add_argument("--rebuild", action="store_true", help="start the index over")
    index.set_defaults(run=_index)

    # Measurement is loaded only for its own commands' options, never to answer.
    from .measurement import bench, evaluation

    evaluate = commands.add_parser("eval", help="score retrieval and answers on the eval set")
    evaluation.add_arguments(evaluate)
    evaluate.set_defaults(run=evaluation.run_command)

    timing = commands.add_parser("bench", help="measure speed: retrieval, indexing, start, scale")
    bench.add_arguments(timing)
    timing.set_defaults(run=bench.run_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    redact_logs()
    try:
        get_settings()  # a malformed setting stops every command here, before any work
        return args.run(args)
    except BotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
