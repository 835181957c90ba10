"""The index is derived data: whatever happens to BOT_DATA_DIR, the bot rebuilds it
from the knowledge folder, says so in the log, and keeps answering.

Some tests run real processes: two starting at once against one folder, and a
read-only or full folder made with a private tmpfs mount (root only; skipped
where mounting is not allowed).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bot
from bot.errors import StoreError
from bot.retrieval import Retriever, reset_retrievers
from bot.settings import Settings, reset_settings

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SECTIONS = 11  # in knowledge/amazon-anthropic-deal.md
TRAINIUM = "amazon-anthropic-deal/frequently-asked-questions/what-are-trainium-chips"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(knowledge_dir=KNOWLEDGE, data_dir=tmp_path / "data",
                    embedding_model_dir=Path(os.environ["BOT_EMBEDDING_MODEL_DIR"]))


@pytest.fixture
def retriever(settings: Settings) -> Retriever:
    opened = Retriever.open(settings)
    assert opened.sync_report.embedded == SECTIONS
    return opened


def searches_semantically(retriever: Retriever) -> bool:
    result = retriever.retrieve("What are Trainium chips?")
    return result.passages[0].id == TRAINIUM and bool(result.dense) and not result.warnings


def warnings_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def corrupt(folder: Path, pattern: str = "*") -> None:
    for file in (folder / "chroma").rglob(pattern):
        if file.is_file():
            file.write_bytes(b"this is not an index " * 64)


def test_index_files_deleted_under_a_running_retriever_are_rebuilt_on_the_next_question(
    retriever: Retriever, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    shutil.rmtree(settings.data_dir)
    with caplog.at_level(logging.WARNING):
        assert searches_semantically(retriever)

    assert any("rebuilding it" in m and "files are gone" in m for m in warnings_logged(caplog))
    assert (settings.data_dir / "chroma" / "chroma.sqlite3").is_file()
    assert Retriever.open(settings).sync_report.unchanged == SECTIONS  # really on disk again


def test_an_emptied_data_folder_is_rebuilt_on_the_next_start_with_a_log_line(
    retriever: Retriever, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    for child in settings.data_dir.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    with caplog.at_level(logging.INFO, logger="bot"):
        again = Retriever.open(settings)

    assert again.sync_report.embedded == SECTIONS and searches_semantically(again)
    assert any("empty or missing: building it" in r.getMessage() for r in caplog.records)


def test_a_corrupted_index_is_discarded_and_rebuilt_on_the_next_start(
    retriever: Retriever, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    corrupt(settings.data_dir)
    with caplog.at_level(logging.WARNING):
        again = Retriever.open(settings)

    assert again.sync_report.embedded == SECTIONS and searches_semantically(again)
    assert any("cannot be used" in m and "building it again" in m
               for m in warnings_logged(caplog))


@pytest.mark.slow
def test_corrupted_vector_files_beside_a_sound_database_still_search_on_the_next_start(
    retriever: Retriever, settings: Settings
) -> None:
    segments = [p for p in (settings.data_dir / "chroma").iterdir() if p.is_dir()]
    assert segments, "the vector index is expected in a folder beside chroma.sqlite3"
    for segment in segments:
        corrupt(settings.data_dir, f"{segment.name}/*")
    # A new process: this one keeps the vectors it loaded in memory.
    (result,) = run_processes(settings.data_dir, 1)

    # Chroma either reads past the damage or the index is rebuilt: semantic search works.
    assert result["top"] == TRAINIUM and result["dense"] > 0 and result["warnings"] == []


def test_an_index_corrupted_under_a_running_retriever_is_rebuilt_on_the_next_question(
    retriever: Retriever, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    corrupt(settings.data_dir)
    with caplog.at_level(logging.WARNING):
        assert searches_semantically(retriever)
    assert any("rebuilding it" in m for m in warnings_logged(caplog))


def test_an_index_that_stays_broken_falls_back_to_keywords_and_is_retried_only_now_and_then(
    retriever: Retriever, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    shutil.rmtree(settings.data_dir)
    settings.data_dir.write_text("a file where the data folder was")
    with caplog.at_level(logging.WARNING):
        results = [retriever.retrieve("What are Trainium chips?") for _ in range(3)]

    for result in results:
        assert result.passages[0].id == TRAINIUM and result.dense == {}
        assert any("keyword search only" in w and "BOT_DATA_DIR" in w for w in result.warnings)
    assert sum("rebuilding it" in m for m in warnings_logged(caplog)) == 1


def test_a_data_folder_that_cannot_be_created_is_a_store_error_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As root, permissions do not stop writes; a path under a regular file does.
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path / "a-file" / "data"))
    reset_settings()
    reset_retrievers()
    try:
        with pytest.raises(StoreError) as caught:
            bot.answer("What are Trainium chips?", backend="offline")
    finally:
        reset_settings()
        reset_retrievers()
    assert "BOT_DATA_DIR" in caught.value.message and "a-file" in caught.value.message


# Real processes.

OPEN_AND_SEARCH = """
import json, sys, time
from pathlib import Path
from bot.retrieval import Retriever
from bot.settings import Settings
settings = Settings(knowledge_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[2]),
                    embedding_model_dir=Path(sys.argv[3]))
start_at = float(sys.argv[4])
time.sleep(max(start_at - time.time(), 0))
try:
    retriever = Retriever.open(settings)
    result = retriever.retrieve("What are Trainium chips?")
    print(json.dumps({"embedded": retriever.sync_report.embedded, "top": result.passages[0].id,
                      "dense": len(result.dense), "warnings": list(result.warnings)}))
except Exception as error:
    print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
"""


def run_processes(data_dir: Path, count: int, prefix: list[str] | None = None) -> list[dict]:
    start_at = time.time() + 3  # time for every interpreter to import before the race
    args = [str(KNOWLEDGE), str(data_dir), os.environ["BOT_EMBEDDING_MODEL_DIR"], str(start_at)]
    processes = [
        subprocess.Popen([*(prefix or []), sys.executable, "-c", OPEN_AND_SEARCH, *args],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    results = []
    for process in processes:
        # Generous: proves that neither waits forever on the other.
        out, err = process.communicate(timeout=180)
        assert out.strip(), err[-2000:]
        results.append({**json.loads(out.strip().splitlines()[-1]), "log": err})
    return results


@pytest.mark.slow
def test_two_processes_starting_at_once_build_one_index_and_both_search_it(
    tmp_path: Path,
) -> None:
    results = run_processes(tmp_path / "data", 2)

    assert sorted(r.get("embedded") for r in results) == [0, SECTIONS], results
    for result in results:
        assert result["top"] == TRAINIUM and result["dense"] > 0 and result["warnings"] == []
    # Neither left the folder half-built: a third start finds everything in place.
    assert run_processes(tmp_path / "data", 1)[0]["embedded"] == 0


def mounting_allowed() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "mount", "-t", "tmpfs", "tmpfs", "/mnt"],
                           capture_output=True)
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(not mounting_allowed(),
                                 reason="needs root and a private mount namespace")


def in_private_tmpfs(mount_point: Path, options: str) -> list[str]:
    """A command prefix: run in a mount namespace of its own with a tmpfs at `mount_point`,
    so nothing is left mounted whatever happens."""
    mount_point.mkdir()
    script = f'mount -t tmpfs -o {options} tmpfs "{mount_point}" && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh"]


@pytest.mark.slow
@needs_mount
def test_a_read_only_data_folder_is_a_store_error_naming_the_setting(tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    (result,) = run_processes(mount / "data", 1, in_private_tmpfs(mount, "ro"))

    assert result["error"].startswith("StoreError")
    assert "BOT_DATA_DIR" in result["error"] and "Read-only file system" in result["error"]


@pytest.mark.slow
@needs_mount
def test_a_full_data_folder_is_a_store_error_naming_the_setting(tmp_path: Path) -> None:
    mount = tmp_path / "full"
    # Room for Chroma's empty database, not for the article's vectors.
    (result,) = run_processes(mount / "data", 1, in_private_tmpfs(mount, "size=300k"))

    assert result["error"].startswith("StoreError")
    assert "BOT_DATA_DIR" in result["error"] and "full" in result["error"]
