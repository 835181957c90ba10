"""The served app over HTTP: the /chat endpoint, login, the rate limit, a burst of users,
and the page's status, examples and bind checks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from app_process import AppProcess, free_port
from fakes import FakeBackend
from gradio_client import Client
from upstream import Upstream

from bot import retrieve
from bot.answering import AnswerRequest
from bot.errors import ConfigurationError
from bot.presentation import Chat
from bot.presentation.server import bind_warning, parse_auth, serve
from bot.presentation.webapp import (
    OFFLINE_STATUS,
    backend_status,
    build_demo,
    examples,
    header_html,
    warm_up,
)
from bot.settings import Settings
from bot.types import Answer

pytestmark = pytest.mark.filterwarnings(
    # gradio's queue statistics use pandas options that pandas 3 deprecates
    "ignore:.*(no_silent_downcasting|copy keyword).*"
)
USERS = 16
UPSTREAM_SECONDS = 1.0


TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def offline_settings(**changes: object) -> Settings:
    return Settings.from_env(backend="offline", **changes)


class Server:
    """A real Gradio server in this process, on a free loopback port."""

    def __init__(self, settings: Settings, chat: Chat | None = None) -> None:
        self.demo = build_demo(settings, chat)
        self.url = serve(self.demo, settings, port=free_port(), block=False)

    def close(self) -> None:
        self.demo.close()


@pytest.fixture(scope="module")
def offline_server() -> Iterator[Server]:
    server = Server(offline_settings())
    yield server
    server.close()


def test_the_chat_endpoint_returns_the_answer_with_its_sources(offline_server: Server) -> None:
    client = Client(offline_server.url, verbose=False)
    reply = client.predict("How much is Amazon investing in Anthropic?", api_name="/chat")
    assert "$5 billion" in reply
    assert "<summary>Sources (1)</summary>" in reply
    assert "How much money is Amazon investing in Anthropic?" in reply


def test_the_api_lists_one_endpoint_named_chat(offline_server: Server) -> None:
    endpoints = Client(offline_server.url, verbose=False).view_api(
        print_info=False, return_format="dict"
    )["named_endpoints"]
    assert list(endpoints) == ["/chat"]


def test_the_page_names_the_article_and_says_it_runs_offline(offline_server: Server) -> None:
    page = httpx.get(offline_server.url, follow_redirects=True).text
    assert "Amazon’s new multi-billion dollar investment in Anthropic" in page
    assert OFFLINE_STATUS in page


def test_with_bot_auth_the_page_needs_a_login() -> None:
    settings = offline_settings(auth="reader:s3cret-pass")
    server = Server(settings)
    try:
        assert httpx.get(server.url + "config").status_code == 401
        client = Client(server.url, auth=("reader", "s3cret-pass"), verbose=False)
        assert "$5 billion" in client.predict("How much is Amazon investing?", api_name="/chat")
    finally:
        server.close()


def test_a_client_over_the_rate_limit_is_told_to_wait() -> None:
    server = Server(offline_settings(rate_limit=1))
    try:
        client = Client(server.url, verbose=False)
        assert "$5 billion" in client.predict("How much is Amazon investing?", api_name="/chat")
        second = client.predict("What are Trainium chips?", api_name="/chat")
        assert "You've asked 1 question in the last minute" in second
    finally:
        server.close()


class SlowUpstream(FakeBackend):
    """A stand-in upstream that takes a second per answer, and says in each answer the most
    answers it has had in hand at once."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.writing = 0
        self.most_at_once = 0

    def stream(self, request: AnswerRequest) -> Iterator[Answer]:
        with self.lock:
            self.writing += 1
            self.most_at_once = max(self.most_at_once, self.writing)
        try:
            time.sleep(UPSTREAM_SECONDS)
            yield Answer(f"Answer to {request.question}; at once: {self.most_at_once}")
        finally:
            with self.lock:
                self.writing -= 1


def serve_with_slow_upstream(port: int) -> None:
    """The page with the real retriever and a slow stand-in for Claude (run in a child process)."""
    upstream = SlowUpstream()

    def answerer(question: str, history: list[dict]) -> Iterator[Answer]:
        return upstream.stream(AnswerRequest(question, (), tuple(retrieve(question))))

    settings = offline_settings(concurrency=USERS)
    serve(build_demo(settings, Chat(settings, answerer=answerer)), settings, port=port)


def ask_all_at_once(url: str, questions: list[str]) -> tuple[list[str], float]:
    """Each question from its own client at the same moment: the replies and the wall time."""
    # The client's own TLS setup per call would otherwise be most of what is measured.
    clients = [Client(url, verbose=False, ssl_verify=False) for _ in questions]
    start = threading.Barrier(len(questions) + 1)
    replies = [""] * len(questions)

    def ask(n: int) -> None:
        start.wait()
        replies[n] = clients[n].predict(questions[n], api_name="/chat")

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(len(questions))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=30)
    wall = time.perf_counter() - began
    print(f"\n{len(questions)} users, {UPSTREAM_SECONDS:g} s upstream: answered in {wall:.2f} s")
    return replies, wall


@pytest.mark.slow
def test_sixteen_users_asking_at_once_are_answered_side_by_side() -> None:
    code = "from test_app_api import serve_with_slow_upstream as s; s({port})"
    questions = [f"Question {n} about Trainium" for n in range(USERS)]
    with AppProcess(["-c", code], {"PYTHONPATH": str(TESTS)}) as app:
        replies, wall = ask_all_at_once(app.url, questions)
    assert [reply.split(";")[0] for reply in replies] == [f"Answer to {q}" for q in questions]
    assert max(int(reply.rsplit(" ", 1)[1]) for reply in replies) == USERS
    # Serial answering would take USERS seconds; the bound only has to rule that out on a
    # noisy machine. The measured wall time is printed (about 1.5 s here).
    assert wall < USERS * UPSTREAM_SECONDS / 2


@pytest.mark.slow
def test_sixteen_users_asking_claude_at_once_are_answered_side_by_side() -> None:
    key = "sk-ant-test-burst-key"
    with Upstream(latency=UPSTREAM_SECONDS) as api:
        env = {"BOT_BACKEND": "claude", "ANTHROPIC_API_KEY": key}
        env["ANTHROPIC_BASE_URL"] = api.base_url
        with AppProcess(env=env) as app:
            questions = [f"How much is Amazon investing? ({n})" for n in range(USERS)]
            replies, wall = ask_all_at_once(app.url, questions)
    assert len(api.requests) == USERS
    assert api.most_in_flight == USERS  # every question was with Claude at the same time
    # The stand-in quotes the first sentence of the best passage, cited.
    assert all(r.startswith("According to the article") and "Sources (1)" in r for r in replies)
    assert wall < USERS * UPSTREAM_SECONDS / 2
    assert key not in "".join(app.output)


def test_the_status_line_says_offline_mode_without_a_key() -> None:
    assert backend_status(offline_settings()) == OFFLINE_STATUS


def test_the_status_line_names_the_claude_model_when_a_key_is_set() -> None:
    settings = Settings.from_env(backend="claude", api_key="sk-ant-test-key", model="claude-x")
    status = backend_status(settings)
    assert status == "Answers are written by Claude (claude-x) and cite the documents."
    assert "sk-ant" not in status


def test_the_status_line_says_what_to_set_when_claude_has_no_key() -> None:
    assert "set ANTHROPIC_API_KEY" in backend_status(Settings.from_env(backend="claude"))


def test_the_page_warns_when_search_falls_back_to_keywords(tmp_path: Path) -> None:
    warnings, overview = warm_up(offline_settings(embedding_model_dir=tmp_path / "no-model"))
    assert any("keyword search only" in warning for warning in warnings)
    assert "keyword search only" in header_html(OFFLINE_STATUS, warnings, overview)


def test_gradio_analytics_are_off_unless_asked_for() -> None:
    code = "import bot.presentation.webapp, gradio; print(gradio.Blocks().analytics_enabled)"
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_ANALYTICS_ENABLED"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_the_examples_start_with_the_articles_own_faq_questions() -> None:
    _, overview = warm_up(offline_settings())
    shown = examples(overview)
    assert shown[:3] == [
        "How much money is Amazon investing in Anthropic?",
        "What are Trainium chips?",
        "What is Claude?",
    ]
    assert len(shown) > 3


def test_another_document_names_the_page_and_its_examples(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "library.md").write_text(
        "# Riverside library guide\n\n## Frequently asked questions\n\n"
        "### When does the library open?\n\nThe library opens at nine every weekday.\n\n"
        "### Can I renew a book online?\n\nBooks can be renewed online twice.\n",
        encoding="utf-8",
    )
    settings = offline_settings(knowledge_dir=folder, data_dir=tmp_path / "data")
    warnings, overview = warm_up(settings)
    header = header_html(backend_status(settings), warnings, overview)
    assert "<h1>Riverside library guide</h1>" in header
    assert "Amazon" not in header and "Anthropic" not in header and "article" not in header
    assert examples(overview) == ["When does the library open?", "Can I renew a book online?"]


def test_serving_beyond_loopback_without_a_login_warns() -> None:
    warning = bind_warning("0.0.0.0", None)
    assert warning is not None and "BOT_AUTH=user:password" in warning
    assert bind_warning("0.0.0.0", ("user", "pw")) is None
    assert bind_warning("127.0.0.1", None) is None
    assert bind_warning("localhost", None) is None
    assert bind_warning("::1", None) is None


@pytest.mark.parametrize("value", ["user:", ":pw", "nocolon", " :pw"])
def test_bot_auth_without_a_user_or_a_password_is_refused(value: str) -> None:
    assert parse_auth("user:pa:ss") == ("user", "pa:ss")
    with pytest.raises(ConfigurationError, match="user:password") as caught:
        Settings.from_env({"BOT_AUTH": value})
    assert caught.value.setting == "BOT_AUTH"


def test_a_file_that_is_not_utf8_is_named_in_the_page_status_without_its_path(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "notes.md").write_text("# Notes\n\n## Hours\n\nOpen at nine.\n", encoding="utf-8")
    (folder / "old.txt").write_bytes("Caf\xe9".encode("latin-1"))
    settings = offline_settings(knowledge_dir=folder, data_dir=tmp_path / "data")
    warnings, overview = warm_up(settings)
    header = header_html(backend_status(settings), warnings, overview)
    assert "Skipped old.txt: it is not valid UTF-8" in header
    assert str(tmp_path) not in header
