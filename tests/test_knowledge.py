"""The knowledge folder: the article file is faithful to its source, and the loader
splits documents into sections whose text is an exact slice of the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.knowledge import load_sections

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
ARTICLE = KNOWLEDGE / "amazon-anthropic-deal.md"
SOURCE = ROOT.parent / "shared" / "source" / "amazon-anthropic-deal.txt"
TITLE = "Amazon’s new multi-billion dollar investment in Anthropic"


def _source_lines() -> tuple[list[str], list[str]]:
    """(headings, paragraphs) of the source: every paragraph ends with a full stop."""
    lines = [line for line in SOURCE.read_text(encoding="utf-8").splitlines() if line.strip()]
    headings = [line for line in lines if not line.endswith(".")]
    paragraphs = [line for line in lines if line.endswith(".")]
    return headings, paragraphs


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_article_file_keeps_every_source_paragraph_verbatim_on_its_own_line() -> None:
    _, paragraphs = _source_lines()
    article_lines = ARTICLE.read_text(encoding="utf-8").splitlines()
    assert len(paragraphs) == 12
    for paragraph in paragraphs:
        assert paragraph in article_lines


def test_article_file_has_every_source_heading_as_a_markdown_heading_in_order() -> None:
    headings, _ = _source_lines()
    article_headings = [
        line.lstrip("#").strip()
        for line in ARTICLE.read_text(encoding="utf-8").splitlines()
        if line.startswith(("## ", "### "))
    ]
    assert len(headings) == 13
    assert article_headings == headings


def test_article_loads_into_eleven_sections_with_their_heading_paths_in_reading_order() -> None:
    faq = "Frequently Asked Questions"
    assert [s.heading_path for s in load_sections(KNOWLEDGE) if s.source == ARTICLE.name] == [
        ("Summary",),
        ("Main Impact",),
        ("Key Details", "What Happened"),
        ("Key Details", "Important Numbers and Facts"),
        ("Background and Context",),
        ("Public or Industry Reaction",),
        ("What This Means Going Forward",),
        ("Final Take",),
        (faq, "How much money is Amazon investing in Anthropic?"),
        (faq, "What are Trainium chips?"),
        (faq, "What is Claude?"),
    ]


def test_every_section_text_is_the_exact_slice_of_its_file() -> None:
    for section in load_sections(KNOWLEDGE):
        file_text = (KNOWLEDGE / section.source).read_bytes().decode("utf-8")
        assert file_text[section.start : section.end] == section.text
        assert section.text == section.text.strip() and section.text


def test_section_texts_are_the_source_paragraphs_and_background_keeps_both_of_its() -> None:
    _, paragraphs = _source_lines()
    sections = {s.title: s for s in load_sections(KNOWLEDGE)}
    assert sections["Background and Context"].text == "\n\n".join(paragraphs[4:6])
    assert sections["Summary"].text == paragraphs[0]


def test_faq_question_and_answer_are_one_section_titled_by_the_question() -> None:
    section = next(s for s in load_sections(KNOWLEDGE) if s.title == "What are Trainium chips?")
    assert section.text.startswith("Trainium chips are special computer hardware")
    assert section.text.endswith("more efficiently than standard chips.")
    assert section.id == "amazon-anthropic-deal/frequently-asked-questions/what-are-trainium-chips"


def test_front_matter_title_names_the_document_and_the_title_heading_is_not_in_paths() -> None:
    sections = load_sections(KNOWLEDGE)
    assert {s.document for s in sections} == {TITLE}
    assert all(TITLE not in s.heading_path for s in sections)


def test_headings_that_only_hold_subsections_give_no_section() -> None:
    titles = [s.title for s in load_sections(KNOWLEDGE)]
    assert "Key Details" not in titles
    assert "Frequently Asked Questions" not in titles


def test_ids_are_the_same_on_every_load_and_unique() -> None:
    first = [s.id for s in load_sections(KNOWLEDGE)]
    assert first == [s.id for s in load_sections(KNOWLEDGE)]
    assert len(set(first)) == len(first)
    assert first[2] == "amazon-anthropic-deal/key-details/what-happened"


def test_without_front_matter_the_first_h1_names_the_document_else_the_file_name(
    tmp_path: Path,
) -> None:
    _write(tmp_path, "with-title.md", "# Release notes\n\nIntro line.\n\n## Fixes\n\nA fix.\n")
    _write(tmp_path, "shipping_rules.md", "## Costs\n\nFree over $50.\n")
    by_source = {s.source: s for s in load_sections(tmp_path) if s.title != "Release notes"}
    assert by_source["with-title.md"].document == "Release notes"
    assert by_source["with-title.md"].heading_path == ("Fixes",)
    assert by_source["shipping_rules.md"].document == "Shipping rules"


def test_text_under_the_title_heading_becomes_an_introduction_section(tmp_path: Path) -> None:
    _write(tmp_path, "notes.md", "# Release notes\n\nIntro line.\n\n## Fixes\n\nA fix.\n")
    intro, fixes = load_sections(tmp_path)
    assert (intro.title, intro.text) == ("Release notes", "Intro line.")
    assert intro.id == "notes/release-notes"
    assert fixes.id == "notes/fixes"


def test_a_txt_without_headings_splits_into_paragraph_blocks_with_exact_offsets(
    tmp_path: Path,
) -> None:
    text = (
        "\n\nFirst block, line one.\nStill the first block.\n\n  \n\n"
        "Second block has many more words than eight in it.\n"
    )
    _write(tmp_path, "plain.txt", text)
    first, second = load_sections(tmp_path)
    assert first.text == "First block, line one.\nStill the first block."
    assert second.text == "Second block has many more words than eight in it."
    assert [text[s.start : s.end] for s in (first, second)] == [first.text, second.text]
    assert second.title == "Second block has many more words than eight…"
    assert [first.id, second.id] == ["plain/p1", "plain/p2"]


def test_crlf_files_still_give_exact_offsets(tmp_path: Path) -> None:
    text = (
        "---\r\ntitle: Windows notes\r\n---\r\n# Windows notes\r\n\r\n"
        "## Setup\r\n\r\nStep one.\r\nStep two.\r\n\r\n## Use\r\n\r\nRun it.\r\n"
    )
    _write(tmp_path, "win.md", text)
    setup, use = load_sections(tmp_path)
    assert setup.document == "Windows notes"
    assert setup.text == "Step one.\r\nStep two."
    assert use.text == "Run it."
    assert [text[s.start : s.end] for s in (setup, use)] == [setup.text, use.text]


def test_repeated_headings_get_distinct_ids(tmp_path: Path) -> None:
    _write(tmp_path, "faq.md", "## Price\n\nTen.\n\n## Price\n\nEleven.\n\n## Price\n\nTwelve.\n")
    assert [s.id for s in load_sections(tmp_path)] == ["faq/price", "faq/price-2", "faq/price-3"]


def test_a_hash_line_inside_a_code_fence_is_not_a_heading(tmp_path: Path) -> None:
    _write(tmp_path, "cli.md", "## Install\n\n```sh\n# not a heading\npip install bot\n```\n")
    (section,) = load_sections(tmp_path)
    assert section.title == "Install"
    assert "# not a heading" in section.text


def test_hidden_files_and_other_file_types_are_ignored(tmp_path: Path) -> None:
    _write(tmp_path, ".draft.md", "## Secret\n\nNot ready.\n")
    _write(tmp_path, "data.json", '{"a": 1}\n')
    _write(tmp_path, "real.md", "## Kept\n\nYes.\n")
    assert [s.id for s in load_sections(tmp_path)] == ["real/kept"]


def test_invalid_utf8_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("Café prices".encode("latin-1"))
    with pytest.raises(KnowledgeError, match=r"latin1\.txt.*not valid UTF-8"):
        load_sections(tmp_path)


def test_an_empty_folder_names_the_folder_and_the_setting(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError) as caught:
        load_sections(tmp_path)
    assert str(tmp_path) in caught.value.message
    assert "BOT_KNOWLEDGE_DIR" in caught.value.message


def test_a_missing_folder_names_the_folder_and_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(KnowledgeError, match="does not exist") as caught:
        load_sections(missing)
    assert str(missing) in caught.value.message
    assert "BOT_KNOWLEDGE_DIR" in caught.value.message


def test_files_with_nothing_but_headings_count_as_no_sections(tmp_path: Path) -> None:
    _write(tmp_path, "empty.md", "# Title only\n\n## Nothing here\n")
    with pytest.raises(KnowledgeError, match="no sections"):
        load_sections(tmp_path)


def test_two_files_with_the_same_name_stem_are_refused_rather_than_mixing_ids(
    tmp_path: Path,
) -> None:
    _write(tmp_path, "notes.md", "## A\n\nOne.\n")
    _write(tmp_path, "notes.txt", "Two.\n")
    with pytest.raises(KnowledgeError, match=r"notes\.md and notes\.txt"):
        load_sections(tmp_path)
