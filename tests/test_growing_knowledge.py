"""A knowledge folder that grows: a second document written here is indexed on its own
(by `python -m bot index`, or by the next question of a running process), answered
with citations that name it, and every answer carries the knowledge version kept with
the collection."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from upstream import Upstream

from bot.answering import answer, reset_backends
from bot.cli import main
from bot.knowledge import load_sections
from bot.retrieval import Retriever, reset_retrievers
from bot.settings import get_settings, reset_settings
from bot.store import SectionStore

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "knowledge" / "amazon-anthropic-deal.md"
SECOND = """---
title: Project Rainier site notes
---

# Project Rainier site notes

## Where is it?

Project Rainier is a cluster of data centers in Indiana built for training Claude.

## How many chips?

The Indiana site runs close to half a million Trainium2 chips.
"""
QUESTION = "Where is the Project Rainier cluster?"


class Terminal(io.StringIO):
    """What a person's terminal is to the CLI: a stream that says it is a TTY."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A knowledge folder holding the article, configured through the environment."""
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    shutil.copy(ARTICLE, knowledge)
    monkeypatch.setenv("BOT_KNOWLEDGE_DIR", str(knowledge))
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path / "data"))
    for forget in (reset_settings, reset_retrievers, reset_backends):
        forget()
    yield knowledge
    for forget in (reset_settings, reset_retrievers, reset_backends):
        forget()


def index(*args: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["index", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.slow
def test_a_second_document_is_indexed_alone_and_answered_with_its_own_citations(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article_sections = len(load_sections(folder))
    first = index(capsys=capsys)
    (folder / "rainier.md").write_text(SECOND, encoding="utf-8")
    second = index(capsys=capsys)

    assert f"{article_sections} embedded, 0 unchanged" in first
    assert f"Indexed {article_sections + 2} sections" in second
    assert f"2 embedded, {article_sections} unchanged, 0 removed" in second
    new = answer(QUESTION, backend="offline")
    (citation,) = new.citations
    assert (citation.document, citation.source) == ("Project Rainier site notes", "rainier.md")
    assert citation.quote == ("Project Rainier is a cluster of data centers in Indiana built "
                              "for training Claude.")
    text = (folder / "rainier.md").read_text(encoding="utf-8")
    assert text[citation.start:citation.end] == citation.quote
    old = answer("What are Trainium chips?", backend="offline")
    assert {c.source for c in old.citations} == {ARTICLE.name}


def test_a_running_process_picks_up_a_new_document_at_the_next_question(
    folder: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-growing-01")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", upstream.base_url)
    reset_settings()
    before = answer(QUESTION, backend="offline")
    (folder / "rainier.md").write_text(SECOND, encoding="utf-8")
    after = answer(QUESTION)  # Claude, through the stand-in, quoting its first result

    assert "Indiana" not in before.text
    assert not any(p.source == "rainier.md" for p in before.passages)
    assert after.backend == "claude" and after.citations[0].source == "rainier.md"
    assert after.citations[0].document == "Project Rainier site notes"
    results = upstream.requests[0].body["messages"][-1]["content"][:-1]
    assert results[0]["title"].startswith("Project Rainier site notes")
    assert before.knowledge_version != after.knowledge_version
    kept = SectionStore.open(get_settings()).knowledge_version
    assert after.knowledge_version == kept


def test_an_edit_that_only_moves_text_changes_the_version_but_re_embeds_nothing(
    folder: Path,
) -> None:
    (folder / "rainier.md").write_text(SECOND, encoding="utf-8")
    first = answer(QUESTION, backend="offline")
    (folder / "rainier.md").write_text(SECOND.replace("\n## Where", "\n\n\n## Where"),
                                       encoding="utf-8")
    moved = answer(QUESTION, backend="offline")

    retriever = Retriever.open(get_settings())
    assert retriever.sync_report.embedded == 0
    assert moved.knowledge_version != first.knowledge_version
    assert moved.citations[0].start == first.citations[0].start + 2
    text = (folder / "rainier.md").read_text(encoding="utf-8")
    assert text[moved.citations[0].start:moved.citations[0].end] == moved.citations[0].quote


def test_rebuild_embeds_everything_again_and_a_removed_document_is_forgotten(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.remove(folder / ARTICLE.name)
    (folder / "rainier.md").write_text(SECOND, encoding="utf-8")
    index(capsys=capsys)
    rebuilt = index("--rebuild", capsys=capsys)
    (folder / "notes.txt").write_text("Plain notes: the first paragraph.\n", encoding="utf-8")
    os.remove(folder / "rainier.md")
    shrunk = index(capsys=capsys)

    assert "2 embedded, 0 unchanged, 0 removed" in rebuilt
    assert "1 embedded, 0 unchanged, 2 removed" in shrunk


def test_the_index_command_draws_a_progress_bar_on_a_terminal_only(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    os.remove(folder / ARTICLE.name)
    many = "\n".join(f"## Topic {n}\n\nFact number {n} is about chips.\n" for n in range(40))
    (folder / "many.md").write_text(f"# Many topics\n\n{many}", encoding="utf-8")
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    index(capsys=capsys)
    (folder / "many.md").write_text(f"# Many topics\n\n{many}\n## One more\n\nA new fact.\n",
                                    encoding="utf-8")
    plain = io.StringIO()
    monkeypatch.setattr("sys.stderr", plain)
    index(capsys=capsys)

    drawn = terminal.getvalue()
    steps = [line.rsplit(" ", 1)[-1] for line in drawn.strip().split("\r") if line]
    assert steps == ["0/40", "16/40", "32/40", "40/40"]
    assert drawn.endswith("] 40/40\n") and "[" + "#" * 30 + "]" in drawn
    assert plain.getvalue() == ""  # a log or a pipe gets the summary line only



def test_an_edit_that_keeps_the_files_size_and_mtime_is_still_noticed(folder: Path) -> None:
    path = folder / ARTICLE.name
    before = answer("What are Trainium chips?", backend="offline")
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    at = text.rindex("Trainium")  # in the last section's text, not the front matter
    edited = text[:at] + "Trainiun" + text[at + len("Trainium"):]
    assert len(edited.encode()) == stat.st_size
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as a restoring tool would
    after = answer("What are Trainium chips?", backend="offline")
    assert after.knowledge_version != before.knowledge_version


def test_a_file_that_is_not_utf8_is_skipped_with_a_warning_and_the_rest_answers(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (folder / "menu.txt").write_bytes("Café opening hours: nine to five.".encode("latin-1"))
    with caplog.at_level("WARNING"):
        reply = answer("How much is Amazon investing in Anthropic?", backend="offline")
    assert "$5 billion" in reply.text
    warning = "Skipped menu.txt: it is not valid UTF-8 (byte 3): save it as UTF-8"
    assert any(warning in w for w in reply.warnings)
    assert str(folder) not in " ".join(reply.warnings)  # the server's path stays in the log
    assert any("menu.txt" in record.getMessage() and str(folder) in record.getMessage()
               for record in caplog.records)
