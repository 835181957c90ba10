"""The embedder gives Chroma's vectors, at each text's own length, and says clearly
when the model files are not where the settings point."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2
from tokenizers import Encoding

from bot.errors import EmbeddingModelError
from bot.knowledge import load_sections
from bot.settings import Settings
from bot.store import Embedder, resolve_model_dir, vector_texts

SENTENCES = [
    "How much money is Amazon investing in Anthropic?",
    "Trainium chips are special computer hardware designed by Amazon.",
    "Anthropic will also secure up to 5 gigawatts of power capacity.",
    "Most people know ChatGPT, which was created by OpenAI.",
    "",
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(Path(os.environ["BOT_EMBEDDING_MODEL_DIR"]))


def chroma_function(model_dir: Path) -> ONNXMiniLM_L6_V2:
    function = ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])
    # Chroma reads its cache folder from this attribute; the shared folder has its layout.
    function.DOWNLOAD_PATH = model_dir.parent  # type: ignore[misc]
    assert model_dir.name == function.EXTRACTED_FOLDER_NAME
    return function


def test_vectors_match_chromas_default_embedding_function(embedder: Embedder) -> None:
    ours = embedder.embed(SENTENCES)
    theirs = np.array(chroma_function(embedder.model_dir)(SENTENCES), dtype=np.float32)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() > 0.999, cosines


def test_a_question_alone_embeds_like_the_same_question_in_a_batch(embedder: Embedder) -> None:
    alone = embedder.embed_query(SENTENCES[0])
    batched = embedder.embed(SENTENCES, batch_size=3)[0]
    assert float(alone @ batched) > 0.9999


def test_vectors_are_unit_length_float32_rows_in_input_order(embedder: Embedder) -> None:
    vectors = embedder.embed(SENTENCES, batch_size=2)
    assert vectors.shape == (len(SENTENCES), 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    alone = np.stack([embedder.embed_query(text) for text in SENTENCES])
    assert (vectors * alone).sum(axis=1).min() > 0.9999


def test_related_sentences_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    trainium, power, chatgpt = embedder.embed(SENTENCES[1:4])
    chips = embedder.embed_query("What are Trainium chips?")
    assert float(chips @ trainium) > float(chips @ power)
    assert float(chips @ trainium) > float(chips @ chatgpt)


def test_long_sections_among_short_sentences_embed_each_as_it_would_alone(
    embedder: Embedder,
) -> None:
    texts = [*("Amazon invests in Anthropic. " * n for n in (1, 30, 2, 12, 1, 60)), *SENTENCES]
    together = embedder.embed(texts)
    alone = np.stack([embedder.embed_query(text) for text in texts])
    assert (together * alone).sum(axis=1).min() > 0.9999


class PaddingCounter(Embedder):
    """The real model, counting the tokens each forward pass runs, padding included."""

    padded = 0

    def _forward(self, encodings: Sequence[Encoding]) -> np.ndarray:
        self.padded += len(encodings) * max(len(e.ids) for e in encodings)
        return super()._forward(encodings)


def test_indexing_the_article_spends_little_work_on_padding(model_dir: Path) -> None:
    counter = PaddingCounter(model_dir)
    sections = load_sections(Path(__file__).resolve().parent.parent / "knowledge")
    texts = [text for section in sections for text in vector_texts(section)]
    real = sum(len(e.ids) for e in counter._tokenizer.encode_batch(texts))
    counter.embed(texts)
    # Sorted batches of 32 ran 2.5 times the real tokens: long sections padded short sentences.
    assert counter.padded < 1.3 * real


def test_texts_longer_than_256_tokens_are_truncated_not_rejected(embedder: Embedder) -> None:
    long_text = "Amazon invests in Anthropic. " * 200
    vector = embedder.embed([long_text])
    assert vector.shape == (1, 384)
    assert np.isfinite(vector).all()


def test_no_texts_give_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, 384)


def test_a_model_folder_without_the_model_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}")
    settings = Settings(embedding_model_dir=tmp_path)
    with pytest.raises(EmbeddingModelError, match="BOT_EMBEDDING_MODEL_DIR") as caught:
        Embedder.from_settings(settings)
    assert "model.onnx" in str(caught.value)
    assert caught.value.setting == "BOT_EMBEDDING_MODEL_DIR"


def test_a_corrupt_model_file_is_reported_as_a_model_error(tmp_path: Path, model_dir: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"not an onnx model")
    (tmp_path / "tokenizer.json").write_bytes((model_dir / "tokenizer.json").read_bytes())
    with pytest.raises(EmbeddingModelError, match="BOT_EMBEDDING_MODEL_DIR"):
        Embedder(tmp_path)


def test_the_configured_model_folder_is_used_as_given(model_dir: Path) -> None:
    assert resolve_model_dir(Settings(embedding_model_dir=model_dir)) == model_dir


def test_without_a_setting_chromas_cache_is_tried_and_a_failed_download_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An empty cache and an unreachable download address: what a machine offline sees.
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "DOWNLOAD_PATH", tmp_path / "cache" / "all-MiniLM-L6-v2")
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "MODEL_DOWNLOAD_URL", "http://127.0.0.1:9/onnx.tar.gz")
    with pytest.raises(EmbeddingModelError, match="BOT_EMBEDDING_MODEL_DIR"):
        resolve_model_dir(Settings(embedding_model_dir=None))


def test_without_a_setting_a_filled_chroma_cache_is_used(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "DOWNLOAD_PATH", model_dir.parent)
    assert resolve_model_dir(Settings(embedding_model_dir=None)) == model_dir
