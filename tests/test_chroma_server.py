"""With CHROMA_HOST set, the index lives on a real Chroma server (started here on a
free loopback port): indexing, retrieval and answers work as with the embedded store,
two app processes answer side by side from it, and a restart of the server, or the
loss of its collection, is survived."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from chroma_server import ChromaServer, TokenProxy

from bot.errors import StoreError
from bot.retrieval import Retriever
from bot.settings import Settings
from bot.store import SectionStore, collection_name, open_client

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
pytestmark = pytest.mark.slow

DOC = """# Field notes

## Chips

Trainium chips are designed by Amazon to train AI models.

## Power

Anthropic will secure up to 5 gigawatts of power capacity.
"""

# A process of the app: the public entry point, several questions on threads at once.
APP = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
from bot import answering
questions = json.loads(sys.argv[1])
with ThreadPoolExecutor(len(questions)) as pool:
    answers = list(pool.map(answering.answer, questions))
print(json.dumps([[a.citations[0].section if a.citations else None, a.backend,
                   a.knowledge_version, list(a.warnings)] for a in answers]))
"""
QUESTIONS = {
    "What are Trainium chips?": "What are Trainium chips?",
    "How many gigawatts of power will Anthropic get?": "Important Numbers and Facts",
    "Who created ChatGPT?": "Background and Context",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with ChromaServer(tmp_path_factory.mktemp("chroma-server")) as running:
        yield running


def environment(server_port: int, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "CHROMA_"))}
    env.update(BOT_EMBEDDING_MODEL_DIR=os.environ["BOT_EMBEDDING_MODEL_DIR"],
               BOT_DATA_DIR=str(data_dir), BOT_KNOWLEDGE_DIR=str(KNOWLEDGE),
               BOT_BACKEND="offline", CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(server_port))
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def small_settings(tmp_path: Path, port: int, **changes: object) -> Settings:
    folder = tmp_path / "knowledge"
    folder.mkdir(exist_ok=True)
    (folder / "notes.md").write_text(DOC, encoding="utf-8")
    return Settings(knowledge_dir=folder, data_dir=tmp_path / "data",
                    embedding_model_dir=Path(os.environ["BOT_EMBEDDING_MODEL_DIR"]),
                    chroma_host="127.0.0.1", chroma_port=port).with_changes(**changes)


def test_the_index_command_fills_the_server_once_and_answers_cite_the_article(
    server: ChromaServer, tmp_path: Path
) -> None:
    env = environment(server.port, tmp_path / "host-a")
    first = run(["-m", "bot", "index"], env)
    again = run(["-m", "bot", "index"], env)
    asked = run(["-m", "bot", "ask", "--no-stream", "What are Trainium chips?"], env)

    assert first.returncode == 0, first.stderr
    assert " 0 embedded" not in first.stdout and "0 removed" in first.stdout
    assert " 0 embedded" in again.stdout, again.stdout
    assert asked.returncode == 0, asked.stderr
    assert "[1] What are Trainium chips?" in asked.stdout and "Warning" not in asked.stdout
    assert not (tmp_path / "host-a" / "chroma").exists()  # nothing was indexed locally


def test_two_app_processes_answer_side_by_side_from_the_one_server(
    server: ChromaServer, tmp_path: Path
) -> None:
    assert run(["-m", "bot", "index"], environment(server.port, tmp_path / "indexer")
               ).returncode == 0
    apps = [
        subprocess.Popen([sys.executable, "-c", APP, json.dumps(list(QUESTIONS))], cwd=ROOT,
                         env=environment(server.port, tmp_path / f"host-{n}"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(2)
    ]
    outputs = [app.communicate(timeout=300) for app in apps]

    assert [app.returncode for app in apps] == [0, 0], [err for _, err in outputs]
    results = [json.loads(out) for out, _ in outputs]
    assert results[0] == results[1]
    for (section, backend, _, warnings), wanted in zip(results[0], QUESTIONS.values(),
                                                        strict=True):
        assert (section, backend, warnings) == (wanted, "offline", [])
    store = SectionStore.open(Settings(knowledge_dir=KNOWLEDGE, data_dir=tmp_path / "check",
                                       chroma_host="127.0.0.1", chroma_port=server.port))
    assert {version for _, _, version, _ in results[0]} == {store.knowledge_version}


def test_a_restarted_server_is_used_again_after_a_clear_error_while_it_was_down(
    server: ChromaServer, tmp_path: Path
) -> None:
    settings = small_settings(tmp_path, server.port)
    retriever = Retriever.open(settings)
    before = retriever.retrieve("What are Trainium chips?", k=2)
    assert before.warnings == ()

    server.stop()
    try:
        degraded = retriever.retrieve("What are Trainium chips?", k=2)
        fresh = run(["-m", "bot", "ask", "What are Trainium chips?"],
                    environment(server.port, tmp_path / "fresh",
                                BOT_KNOWLEDGE_DIR=str(settings.knowledge_dir)))
    finally:
        server.start()
    after = retriever.retrieve("What are Trainium chips?", k=2)

    # A running process answers from keyword search and says why.
    assert any(f"Chroma server at {server.url}" in w for w in degraded.warnings)
    assert degraded.passages[0].id == before.passages[0].id
    # A process starting meanwhile stops with one line naming the server and the settings.
    assert fresh.returncode == 2 and fresh.stdout == ""
    assert fresh.stderr.startswith(f"error: Cannot reach the Chroma server at {server.url}")
    assert "CHROMA_HOST" in fresh.stderr and "Traceback" not in fresh.stderr
    assert after.warnings == () and after.passages == before.passages
    assert after.dense == before.dense


def test_a_collection_lost_from_the_server_is_rebuilt_on_the_next_question(
    server: ChromaServer, tmp_path: Path
) -> None:
    settings = small_settings(tmp_path, server.port)
    retriever = Retriever.open(settings)
    size = SectionStore.open(settings).size
    open_client(settings).delete_collection(collection_name(settings.knowledge_dir))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: retriever.retrieve("How much power?", k=1), range(4)))

    assert all(r.warnings == () and r.passages[0].section == "Power" for r in results)
    assert SectionStore.open(settings).size == size


def test_a_token_reaches_the_server_in_the_header_its_auth_proxy_checks(
    server: ChromaServer, tmp_path: Path
) -> None:
    with TokenProxy(server.port, "X-Chroma-Token", "s3cret-token") as proxy:
        settings = small_settings(tmp_path, proxy.port, chroma_auth_token="s3cret-token",
                                  chroma_auth_header="X-Chroma-Token")
        found = Retriever.open(settings).retrieve("What are Trainium chips?", k=1)
        wrong = settings.with_changes(chroma_auth_token="not-the-token")
        with pytest.raises(StoreError, match="refused the token") as refused:
            SectionStore.open(wrong)

    assert found.warnings == () and found.passages[0].section == "Chips"
    assert proxy.rejected >= 1 and "CHROMA_AUTH_TOKEN" in refused.value.message
    assert "\n" not in refused.value.message and "not-the-token" not in refused.value.message


def test_an_unknown_auth_header_name_is_refused_when_settings_are_read() -> None:
    from bot.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="CHROMA_AUTH_HEADER"):
        Settings.from_env({"CHROMA_AUTH_HEADER": "X-Api-Key"})

