"""Test-wide setup: offline, no key, the shared model folder, a throwaway data folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from stand_in import forget_configuration, point_at
from upstream import Upstream

ROOT = Path(__file__).resolve().parent.parent
SHARED_MODEL = ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2" / "onnx"

os.environ.setdefault("BOT_EMBEDDING_MODEL_DIR", str(SHARED_MODEL))
os.environ.pop("ANTHROPIC_API_KEY", None)
for _name in ("AWS_BEARER_TOKEN_BEDROCK", "ANTHROPIC_BEDROCK_BASE_URL", "CHROMA_HOST"):
    os.environ.pop(_name, None)
# botocore's credential chain would otherwise ask the EC2 metadata address, off loopback.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ.pop("BOT_BACKEND", None)
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session", autouse=True)
def _session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test session indexes into its own folder, never the user's."""
    path = tmp_path_factory.mktemp("bot-data")
    os.environ["BOT_DATA_DIR"] = str(path)
    return path


@pytest.fixture
def model_dir() -> Path:
    return Path(os.environ["BOT_EMBEDDING_MODEL_DIR"])


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A stand-in Messages API on loopback; see tests/upstream.py."""
    with Upstream() as server:
        yield server


@pytest.fixture
def claude_api(upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> Iterator[Upstream]:
    """The stand-in reached through `bot.answer(..., backend="claude")` with a fake key."""
    point_at(monkeypatch, upstream.base_url)
    yield upstream
    forget_configuration()
