"""Sentence embeddings with all-MiniLM-L6-v2 on onnxruntime, vector for vector what
Chroma's default embedding function produces.

Unlike Chroma's function, texts are not padded to 256 tokens: a question is embedded
at its own length and a batch is padded to its longest member, which gives the same
vectors (padding is masked out of the pooling) for a fraction of the work.

The model folder comes from BOT_EMBEDDING_MODEL_DIR when set, else from Chroma's own
model cache, which Chroma's downloader fills for users with internet.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import EmbeddingModelError
from ..settings import Settings

if TYPE_CHECKING:
    import onnxruntime as ort
    from tokenizers import Encoding, Tokenizer

log = logging.getLogger(__name__)

MAX_TOKENS = 256  # sentence-transformers' and Chroma's limit for this model
BATCH_TOKENS = 512  # padded tokens per forward pass when embedding many texts
REQUIRED_FILES = ("model.onnx", "tokenizer.json")
_FIX = (
    "Set BOT_EMBEDDING_MODEL_DIR to a folder holding model.onnx and tokenizer.json of "
    "all-MiniLM-L6-v2 (the layout of Chroma's cache, ~/.cache/chroma/onnx_models/"
    "all-MiniLM-L6-v2/onnx), or run once with internet so Chroma can download it."
)


def chroma_model_dir() -> Path:
    """Where Chroma's default embedding function keeps (and downloads) this model."""
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    return Path(ONNXMiniLM_L6_V2.DOWNLOAD_PATH) / ONNXMiniLM_L6_V2.EXTRACTED_FOLDER_NAME


def _missing(folder: Path) -> list[str]:
    return [name for name in REQUIRED_FILES if not (folder / name).is_file()]


def resolve_model_dir(settings: Settings) -> Path:
    """The folder to load the model from; downloads into Chroma's cache if need be."""
    if settings.embedding_model_dir is not None:
        folder = Path(settings.embedding_model_dir).expanduser()
        if missing := _missing(folder):
            raise EmbeddingModelError(
                f"BOT_EMBEDDING_MODEL_DIR={folder} has no {' or '.join(missing)}. "
                "Point it at the folder holding model.onnx and tokenizer.json of "
                "all-MiniLM-L6-v2, or unset it to use Chroma's model cache."
            )
        return folder
    folder = chroma_model_dir()
    if not _missing(folder):
        return folder
    log.info("Embedding model not in %s; asking Chroma to download it", folder)
    try:
        from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

        ONNXMiniLM_L6_V2()._download_model_if_not_exists()
    except Exception as error:
        raise EmbeddingModelError(
            f"The embedding model is not in {folder} and could not be downloaded "
            f"({type(error).__name__}: {error}). {_FIX}"
        ) from error
    if missing := _missing(folder):
        raise EmbeddingModelError(
            f"Chroma's download left no {' or '.join(missing)} in {folder}. {_FIX}"
        )
    return folder


def session_options() -> ort.SessionOptions:
    """How the model's onnxruntime session is set up (the benchmark's bare forward too)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return options


class Embedder:
    """all-MiniLM-L6-v2 on one onnxruntime session; safe to share between threads."""

    dimension = 384

    def __init__(self, model_dir: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        if missing := _missing(self.model_dir):
            raise EmbeddingModelError(
                f"The embedding model folder {self.model_dir} has no {' or '.join(missing)}. {_FIX}"
            )
        try:
            tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            # The shipped tokenizer.json pads everything to 128; we pad per batch.
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            session = ort.InferenceSession(
                str(self.model_dir / "model.onnx"),
                sess_options=session_options(),
                providers=["CPUExecutionProvider"],
            )
        except Exception as error:
            raise EmbeddingModelError(
                f"Could not load the embedding model from {self.model_dir} "
                f"({type(error).__name__}: {error}). {_FIX}"
            ) from error
        self._tokenizer = tokenizer
        self._session = session
        self._input_names = {i.name for i in session.get_inputs()}

    @property
    def session(self) -> ort.InferenceSession:
        """The onnxruntime session; the benchmark times bare forward passes on it."""
        return self._session

    @property
    def tokenizer(self) -> Tokenizer:
        """all-MiniLM-L6-v2's tokenizer, truncating at 256 tokens and never padding."""
        return self._tokenizer

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        return cls(resolve_model_dir(settings))

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One L2-normalised float32 row per text, in order; shape (len(texts), 384)."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; use embed_query() for one")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) == 1:
            return self.embed_query(texts[0])[None, :]
        encodings = self._tokenizer.encode_batch(list(texts))
        # Texts of similar length go together, and a batch ends before its padding grows:
        # the article's sentences and sections, 32 at a time, were 2.5x their real tokens.
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        vectors = np.empty((len(encodings), self.dimension), dtype=np.float32)
        rows: list[int] = []
        for i in order:
            padded = (len(rows) + 1) * len(encodings[i].ids)
            if rows and (len(rows) == batch_size or padded > BATCH_TOKENS):
                vectors[rows] = self._forward([encodings[j] for j in rows])
                rows = []
            rows.append(i)
        vectors[rows] = self._forward([encodings[j] for j in rows])
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        """One L2-normalised float32 vector, shape (384,)."""
        # No padding, mask or batch to handle: after a forward pass the caches are cold,
        # and each numpy call here cost several times what it costs in isolation.
        ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        # The mean's division by the length cancels in the normalisation; a sum will do.
        pooled = self._session.run(None, feeds)[0][0].sum(axis=0)
        return pooled / max(math.sqrt(float(pooled @ pooled)), 1e-12)

    def token_states(self, texts: Sequence[str]) -> list[tuple[list[str], np.ndarray]]:
        """Each text's word pieces and their contextual vectors, unit length, without the
        [CLS] and [SEP] around them: what the offline answerer aligns word by word."""
        return self.embed_with_states(texts)[1]

    def embed_with_states(
        self, texts: Sequence[str]
    ) -> tuple[np.ndarray, list[tuple[list[str], np.ndarray]]]:
        """`embed` and `token_states` from one forward pass."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        encodings = self._tokenizer.encode_batch(list(texts))
        hidden, attention = self._hidden(encodings)
        vectors = _pooled(hidden, attention)
        found = []
        for row, encoding in enumerate(encodings):
            states = hidden[row, 1 : len(encoding.ids) - 1]
            norms = np.linalg.norm(states, axis=1, keepdims=True)
            found.append((encoding.tokens[1:-1],
                          (states / np.maximum(norms, 1e-12)).astype(np.float32)))
        return vectors, found

    def _hidden(self, encodings: Sequence[Encoding]) -> tuple[np.ndarray, np.ndarray]:
        """The model's last hidden states for a padded batch, and its attention mask."""
        width = max(len(e.ids) for e in encodings)
        input_ids = np.zeros((len(encodings), width), dtype=np.int64)
        attention = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            input_ids[row, : len(encoding.ids)] = encoding.ids
            attention[row, : len(encoding.ids)] = encoding.attention_mask
        feeds = {"input_ids": input_ids, "attention_mask": attention}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        return self._session.run(None, feeds)[0], attention

    def _forward(self, encodings: Sequence[Encoding]) -> np.ndarray:
        return _pooled(*self._hidden(encodings))


def _pooled(hidden: np.ndarray, attention: np.ndarray) -> np.ndarray:
    """Attention-masked mean of the hidden states, L2-normalised: the sentence vector."""
    mask = attention[:, :, None].astype(np.float32)
    pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
