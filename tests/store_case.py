"""What the section-store tests share: a recording model, a few small sections."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.knowledge import Section
from bot.store import Embedder


class RecordingEmbedder(Embedder):
    """The real model, remembering every text it was asked to embed."""

    def __init__(self, model_dir: Path) -> None:
        super().__init__(model_dir)
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts, batch_size)


def section(slug: str, heading: tuple[str, ...], text: str, start: int = 0) -> Section:
    return Section(
        id="deal/" + slug,
        document="The deal",
        document_slug="deal",
        title=heading[-1],
        heading_path=heading,
        text=text,
        source="deal.md",
        start=start,
        end=start + len(text),
    )


SECTIONS = [
    section("money", ("FAQ", "How much is Amazon investing?"),
            "Amazon is investing an immediate $5 billion, up to $25 billion in total."),
    section("chips", ("FAQ", "What are Trainium chips?"),
            "Trainium chips are computer hardware designed by Amazon to train AI models."),
    section("power", ("Key Details", "Numbers"),
            "Anthropic will secure up to 5 gigawatts of power capacity for its data centers."),
    section("chatgpt", ("Background",),
            "Most people know ChatGPT, which was created by OpenAI with Microsoft's money."),
]


def no_model() -> Embedder:
    raise AssertionError("the model was asked for although nothing changed")
