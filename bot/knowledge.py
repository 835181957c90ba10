"""Reads the knowledge folder and splits each document into sections by heading.

(Skeleton: the loader is being written; the `Section` shape is the contract.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


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


def load_sections(folder: Path) -> list[Section]:
    raise NotImplementedError


def knowledge_version(sections: list[Section]) -> str:
    """A short hash of everything in the folder that answers are grounded on."""
    digest = hashlib.sha256()
    for section in sorted(sections, key=lambda s: s.id):
        digest.update(section.id.encode() + b"\0" + section.content_hash.encode() + b"\0")
    return digest.hexdigest()[:12]
