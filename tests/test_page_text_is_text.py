"""In a real Chromium: Markdown and HTML inside a document stay text on the page.

A knowledge document carries an image, a link, a `javascript:` link, raw HTML and a
bare URL, all pointing at a logging server on loopback. The offline answerer quotes
those sentences; the page must show them as text and never fetch, link or run them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from app_process import AppProcess
from test_app_browser import ANSWER_SECONDS, CHROMIUM, CHROMIUM_ARGS, answers, ask

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright")
expect = sync_api.expect


class LoggingServer:
    """Records the path of every request that reaches it."""

    def __init__(self) -> None:
        seen = self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def logger() -> Iterator[LoggingServer]:
    server = LoggingServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, logger: LoggingServer) -> Iterator[AppProcess]:
    folder = tmp_path_factory.mktemp("hostile-knowledge")
    u = logger.url
    (folder / "lighthouse.md").write_text(
        "# Lighthouse museum notes\n\n## Opening hours\n\n"
        f"The lighthouse museum opens at ten every morning ![pixel]({u}/image) "
        f"and closes at five <img src=\"{u}/html-image\">.\n\n"
        "## Tickets\n\n"
        f"A lighthouse museum ticket costs four pounds, see [the price list]({u}/link) "
        f"or [this](javascript:fetch('{u}/script')) or {u}/bare for details.\n",
        encoding="utf-8",
    )
    env = {"BOT_BACKEND": "offline", "BOT_KNOWLEDGE_DIR": str(folder),
           "BOT_DATA_DIR": str(tmp_path_factory.mktemp("hostile-data"))}
    with AppProcess(env=env) as running:
        yield running


def test_markdown_and_html_in_a_document_are_shown_as_text_and_fetch_nothing(
    app: AppProcess, logger: LoggingServer
) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(app.url)
        page.locator("#question textarea").wait_for()
        ask(page, "When does the lighthouse museum open?")
        expect(answers(page).last).to_contain_text("opens at ten", timeout=ANSWER_SECONDS)
        ask(page, "How much does a lighthouse museum ticket cost?")
        expect(answers(page).last).to_contain_text("four pounds", timeout=ANSWER_SECONDS)
        for details in page.locator("#chat details").all():
            details.evaluate("d => d.open = true")
        page.wait_for_timeout(500)
        chat = page.locator("#chat")
        shown = chat.inner_text()
        links = chat.locator("a").evaluate_all("links => links.map(a => a.href)")
        images = chat.locator("img").evaluate_all("images => images.map(i => i.src)")
        browser.close()
    assert logger.requests == []
    assert not [href for href in links if logger.url in href or href.startswith("javascript:")]
    assert not [src for src in images if logger.url in src]
    # The quoted text still reads as the document wrote it.
    assert f"![pixel]({logger.url}/image)" in shown
    assert "[the price list](" in shown
