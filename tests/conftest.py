"""Test-wide setup: offline, no key, the shared model folder, a throwaway data folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from bedrock_upstream import ACCESS_KEY, REGION, SECRET_KEY, BedrockUpstream
from claude_case import ARTICLE, HAPPENED, NUMBERS
from stand_in import forget_configuration, point_at
from store_case import RecordingEmbedder
from upstream import Upstream

from bot.settings import Settings
from bot.types import Passage

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


@pytest.fixture
def article(tmp_path: Path) -> str:
    """The Claude and Bedrock tests' small article (tests/claude_case.py), on disk."""
    (tmp_path / "deal.md").write_text(ARTICLE, encoding="utf-8")
    return ARTICLE


@pytest.fixture
def passages(article: str) -> tuple[Passage, ...]:
    """Its two sections as retrieved passages, offsets into the file."""
    result = []
    for pid, heading in ((HAPPENED, "What Happened"), (NUMBERS, "Important Numbers")):
        after = article.index(f"## {heading}\n") + len(f"## {heading}\n")
        end = article.find("\n## ", after)
        end = len(article) if end == -1 else end
        start = after + len(article[after:end]) - len(article[after:end].lstrip())
        body = article[start:end].rstrip()
        result.append(Passage(pid, "Amazon invests in Anthropic", heading, body, 1.0,
                              "deal.md", start, start + len(body)))
    return tuple(result)


@pytest.fixture
def api(upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> Upstream:
    """The stand-in, reached through ANTHROPIC_BASE_URL as a deployment would."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", upstream.base_url)
    return upstream


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS credentials and region in the environment, and no AWS files of the user's."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK",
                 "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture
def bedrock(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[BedrockUpstream]:
    """The Bedrock stand-in (tests/bedrock_upstream.py), reached through
    ANTHROPIC_BEDROCK_BASE_URL with those credentials."""
    with BedrockUpstream() as server:
        monkeypatch.setenv("ANTHROPIC_BEDROCK_BASE_URL", server.base_url)
        yield server


@pytest.fixture(scope="session")
def recording_model() -> RecordingEmbedder:
    """The real model, remembering what it embeds (tests/store_case.py)."""
    return RecordingEmbedder(Path(os.environ["BOT_EMBEDDING_MODEL_DIR"]))


@pytest.fixture
def recorder(recording_model: RecordingEmbedder) -> RecordingEmbedder:
    recording_model.texts.clear()
    return recording_model


@pytest.fixture
def fresh_settings(tmp_path: Path) -> Settings:
    """An empty knowledge folder and a data folder of the test's own."""
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    return Settings(knowledge_dir=knowledge, data_dir=tmp_path / "data")
