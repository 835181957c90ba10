"""A cheap start: `import bot` loads none of the heavy libraries, and everything that
does not depend on the question is built on the first question only."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bot
from bot.retrieval import KeywordIndex, reset_retrievers
from bot.store import Embedder, SectionStore

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("gradio", "chromadb", "anthropic", "onnxruntime", "bm25s", "numpy")


def test_importing_bot_loads_none_of_the_heavy_libraries() -> None:
    code = f"import sys, bot; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str,
                counts: Counter[str]) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts[name] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)


def test_only_the_first_question_loads_the_model_opens_chroma_and_builds_bm25(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counts: Counter[str] = Counter()
    count_calls(monkeypatch, Embedder, "from_settings", counts)
    count_calls(monkeypatch, SectionStore, "open", counts)
    count_calls(monkeypatch, KeywordIndex, "__init__", counts)
    reset_retrievers()
    try:
        bot.retrieve("How much is Amazon investing?")
        assert counts == {"from_settings": 1, "open": 1, "__init__": 1}
        for question in ("What are Trainium chips?", "Who created ChatGPT?", "What is Claude?"):
            assert bot.retrieve(question)
        assert counts == {"from_settings": 1, "open": 1, "__init__": 1}
    finally:
        reset_retrievers()
