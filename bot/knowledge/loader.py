"""Reads the knowledge folder and splits each document into sections by heading.

Every `.md` and `.txt` file is one document. Its ATX headings (`#`..`######`) give
each section a heading path; a heading with no body of its own (one that only holds
subsections) gives no section, and a question heading with its answer is one section.
A file without headings is split into paragraph blocks. Every section's text is an
exact slice of the file's text, so a quote taken from it is verbatim by construction.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import KnowledgeError
from .text import strip_span

log = logging.getLogger(__name__)

SUFFIXES = (".md", ".txt")
_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r" {0,3}(```|~~~)")
_FRONT_MATTER_FENCE = re.compile(r"---[ \t]*")
_LIST_ITEM = re.compile(r"[ \t]*-[ \t]+(.+)")
_EXCERPT_WORDS = 8


@dataclass(frozen=True)
class Section:
    id: str  # stable: "<document slug>/<heading slug>/<heading slug>..."
    document: str  # document title (front matter `title`, else first H1, else file stem)
    document_slug: str
    title: str  # the section's own heading (for a Q&A pair, the question)
    heading_path: tuple[str, ...]  # all headings from the top, this one last
    text: str  # verbatim body, == file text[start:end]
    source: str  # file name relative to the knowledge folder
    start: int
    end: int

    @property
    def content_hash(self) -> str:
        """Changes when what is embedded changes; offsets are not part of it, since an
        edit above a section moves it without changing its meaning."""
        payload = "\x1f".join((self.document, *self.heading_path, self.text))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Document:
    """One knowledge file: its title, its sections, and what its front matter offers."""

    title: str  # front matter `title`, else first H1, else the file name made readable
    slug: str
    source: str  # file name relative to the knowledge folder
    sections: tuple[Section, ...]
    examples: tuple[str, ...] = ()  # front matter `examples:`, questions to show readers


@dataclass(frozen=True)
class Knowledge:
    """Everything the knowledge folder holds, documents in file-name order."""

    documents: tuple[Document, ...]
    skipped: tuple[str, ...] = ()  # a warning for each file that could not be read

    @property
    def sections(self) -> list[Section]:
        return [section for document in self.documents for section in document.sections]

    @classmethod
    def of(cls, sections: Sequence[Section]) -> Knowledge:
        """The documents `sections` come from (without front matter), in order."""
        grouped: dict[str, list[Section]] = {}
        for section in sections:
            grouped.setdefault(section.document_slug, []).append(section)
        return cls(tuple(
            Document(group[0].document, slug, group[0].source, tuple(group))
            for slug, group in grouped.items()
        ))


def load_sections(folder: Path) -> list[Section]:
    """All sections of every document in `folder`, files in name order."""
    return load_knowledge(folder).sections


def load_knowledge(folder: Path) -> Knowledge:
    """Every document in `folder`, files in name order."""
    hint = "put .md or .txt files there, or point BOT_KNOWLEDGE_DIR at a folder that has them"
    if not folder.is_dir():
        raise KnowledgeError(
            f"Knowledge folder {folder} does not exist or is not a folder: {hint}.",
            path=str(folder),
        )
    files = sorted(
        path for path in folder.iterdir()
        if path.suffix.lower() in SUFFIXES and not path.name.startswith(".") and path.is_file()
    )
    documents: list[Document] = []
    skipped: list[str] = []
    owner: dict[str, str] = {}
    for path in files:
        try:
            text = _read(path)
        except KnowledgeError as error:
            # One bad file must not take the others down; the log has the full path,
            # the page only the file's name.
            log.warning("%s", error.message)
            skipped.append(f"Skipped {path.name}: {error.reason}; the other documents answer.")
            continue
        document = _parse_document(path.name, text)
        if not document.sections:
            continue
        # Two files with one slug would give clashing ids, and the index keys on ids.
        if document.slug in owner:
            raise KnowledgeError(
                f"{owner[document.slug]} and {path.name} in {folder} both give the document "
                f"id '{document.slug}': rename one of them.",
                path=str(path),
            )
        owner[document.slug] = path.name
        documents.append(document)
    if not documents:
        raise KnowledgeError(
            f"Knowledge folder {folder} has no sections to answer from: {hint}."
            + "".join(f" {warning}" for warning in skipped),
            path=str(folder),
        )
    return Knowledge(tuple(documents), tuple(skipped))


def _read(path: Path) -> str:
    # Decoding the bytes ourselves keeps CRLF as it is, so offsets index the real file.
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"it is not valid UTF-8 (byte {exc.start}): save it as UTF-8"
        raise KnowledgeError(f"Knowledge file {path}: {reason}.", path=str(path),
                             reason=reason) from exc
    except OSError as exc:
        reason = f"it cannot be read ({exc.strerror})"
        raise KnowledgeError(f"Knowledge file {path}: {reason}.", path=str(path),
                             reason=reason) from exc


def _lines(text: str, pos: int) -> Iterator[tuple[int, int, str]]:
    """(start, end, content) per line from `pos`; `end` includes the line break."""
    while pos < len(text):
        newline = text.find("\n", pos)
        end = len(text) if newline == -1 else newline + 1
        yield pos, end, text[pos:end].rstrip("\r\n")
        pos = end


def _front_matter(text: str, pos: int) -> tuple[dict[str, str | list[str]], int]:
    """Simple `key: value` lines between `---` fences at the very top, and where the body
    starts; a key with no value takes the `- item` lines below it as a list."""
    lines = _lines(text, pos)
    first = next(lines, None)
    if first is None or not _FRONT_MATTER_FENCE.fullmatch(first[2]):
        return {}, pos
    fields: dict[str, str | list[str]] = {}
    listing: list[str] | None = None
    for _, end, line in lines:
        if _FRONT_MATTER_FENCE.fullmatch(line):
            return fields, end
        if listing is not None and (item := _LIST_ITEM.fullmatch(line)):
            listing.append(_unquote(item.group(1)))
            continue
        key, colon, value = line.partition(":")
        listing = None
        if colon and key.strip():
            if value.strip():
                fields[key.strip().lower()] = _unquote(value)
            else:
                listing = fields.setdefault(key.strip().lower(), [])  # type: ignore[assignment]
    return {}, pos  # never closed: a thematic break, not front matter


def _unquote(value: str) -> str:
    return value.strip().strip("\"'").strip()


def _parse_document(source: str, text: str) -> Document:
    start = 1 if text.startswith("\ufeff") else 0
    fields, body_start = _front_matter(text, start)
    title = fields.get("title")
    listed = fields.get("examples")
    examples = tuple(e for e in listed if e) if isinstance(listed, list) else ()
    sections = _sections(source, text, body_start, title if isinstance(title, str) else None)
    document = sections[0].document if sections else _readable(Path(source).stem)
    return Document(document, _slug(Path(source).stem, "document"), source, tuple(sections),
                    examples)


def _sections(source: str, text: str, body_start: int, title: str | None) -> list[Section]:
    headings: list[tuple[int, str, int, int]] = []  # level, text, line start, line end
    in_fence = False
    for line_start, line_end, line in _lines(text, body_start):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := _HEADING.fullmatch(line)) and match.group(2):
            headings.append((len(match.group(1)), match.group(2), line_start, line_end))

    first_h1 = next((h[1] for h in headings if h[0] == 1), None)
    document = title or first_h1 or _readable(Path(source).stem)
    slug = _slug(Path(source).stem, "document")
    ids: dict[str, int] = {}

    def make(title: str, path: tuple[str, ...], span: tuple[int, int], id_tail: str) -> Section:
        section_id = f"{slug}/{id_tail}"
        ids[section_id] = ids.get(section_id, 0) + 1
        if ids[section_id] > 1:
            section_id = f"{section_id}-{ids[section_id]}"
        return Section(section_id, document, slug, title, path, text[span[0]:span[1]],
                       source, span[0], span[1])

    if not headings:
        sections = []
        for number, span in enumerate(_blocks(text, body_start), start=1):
            title = _excerpt(text[span[0]:span[1]])
            sections.append(make(title, (title,), span, f"p{number}"))
        return sections

    sections = []
    preamble = strip_span(text, body_start, headings[0][2])
    stack: list[tuple[int, str]] = []
    for index, (level, heading, _, line_end) in enumerate(headings):
        next_start = headings[index + 1][2] if index + 1 < len(headings) else len(text)
        span = strip_span(text, line_end, next_start)
        if index == 0 and level == 1 and heading == document:
            preamble = span  # text under the title heading introduces the whole document
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
        path = tuple(h for _, h in stack)
        if span[1] > span[0]:
            sections.append(make(heading, path, span, "/".join(_slug(h, "section") for h in path)))
    if preamble[1] > preamble[0]:
        sections.insert(0, make(document, (document,), preamble, _slug(document, "section")))
    return sections


def _blocks(text: str, pos: int) -> Iterator[tuple[int, int]]:
    """Spans of paragraph blocks: runs of lines separated by blank lines."""
    block_start = None
    for line_start, _, line in _lines(text, pos):
        if line.strip() and block_start is None:
            block_start = line_start
        elif not line.strip() and block_start is not None:
            yield strip_span(text, block_start, line_start)
            block_start = None
    if block_start is not None:
        yield strip_span(text, block_start, len(text))


def _slug(value: str, fallback: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or fallback


def _readable(stem: str) -> str:
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else stem


def _excerpt(block: str) -> str:
    words = block.split()
    if len(words) <= _EXCERPT_WORDS:
        return " ".join(words)
    return " ".join(words[:_EXCERPT_WORDS]) + "…"


def knowledge_version(sections: list[Section]) -> str:
    """A short hash of everything in the folder that answers are grounded on.

    Unlike `content_hash` it covers where each section sits in which file, so a
    stored answer's citation offsets hold for the version stamped on it.
    """
    digest = hashlib.sha256()
    for section in sorted(sections, key=lambda s: s.id):
        place = f"{section.source}\0{section.start}\0{section.end}"
        digest.update(f"{section.id}\0{section.content_hash}\0{place}\0".encode())
    return digest.hexdigest()[:12]


def folder_state(folder: Path) -> tuple[tuple[str, str], ...]:
    """Name and content hash of each knowledge file, different as soon as a document is
    added, edited or removed. The content, not size and mtime: an edit that keeps both
    (a tool that restores mtime, a same-length fix within one timestamp tick) would
    slip past a stat check. Reading and hashing the article takes ~40 µs."""
    state = []
    try:
        for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
            if entry.name.lower().endswith(SUFFIXES) and not entry.name.startswith("."):
                with open(entry.path, "rb") as file:
                    state.append((entry.name, hashlib.file_digest(file, "sha256").hexdigest()))
    except OSError:  # a missing folder, or a file removed mid-scan: reloading will tell
        return ()
    return tuple(state)
