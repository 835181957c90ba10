"""The chat page in a real Chromium: `python app.py` offline, driven like a person would."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_process import AppProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ANSWER_SECONDS = 30_000  # ms Playwright waits for an answer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]

sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright")
Page = sync_api.Page
expect = sync_api.expect


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    env = {"BOT_BACKEND": "offline", "BOT_DATA_DIR": str(tmp_path_factory.mktemp("app-data"))}
    with AppProcess(env=env) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of every alert/confirm/prompt the page opened."""
    return []


@pytest.fixture
def page(browser: sync_api.Browser, app: AppProcess, dialogs: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()

    def dismiss(dialog: sync_api.Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(app.url)
    page.locator("#question textarea").wait_for()
    yield page
    context.close()


def ask(page: Page, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def answers(page: Page) -> sync_api.Locator:
    return page.locator("#chat [data-testid='bot']")


def test_the_app_prints_its_address_and_binds_to_loopback(app: AppProcess) -> None:
    assert app.printed(f"Chat is running at http://127.0.0.1:{app.port}/")
    assert "Warning" not in "".join(app.output)


def test_the_page_shows_the_article_title_and_offline_status(page: Page) -> None:
    header = page.locator("#header")
    expect(header).to_contain_text("Amazon’s new multi-billion dollar investment in Anthropic")
    expect(header).to_contain_text(
        "offline mode: answers are quoted from the documents; set ANTHROPIC_API_KEY for Claude",
        ignore_case=True,
    )


def test_on_a_phone_the_header_takes_at_most_a_seventh_of_the_screen(
    browser: sync_api.Browser, app: AppProcess
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(app.url)
    page.locator("#question textarea").wait_for()
    header = page.locator("#header").bounding_box()
    box = page.locator("#question textarea").bounding_box()
    page_width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert page_width <= 390  # nothing pushes the page wider than the phone
    assert header is not None and header["height"] <= 0.15 * 844, header
    assert box is not None and box["y"] + box["height"] <= 844  # the question box is on screen


def test_a_question_is_answered_with_the_figure_and_a_source_naming_its_section(
    page: Page, tmp_path: Path
) -> None:
    ask(page, "How much is Amazon investing in Anthropic?")
    answer = answers(page).last
    expect(answer).to_contain_text("$5 billion", timeout=ANSWER_SECONDS)
    expect(answer).to_contain_text("[1]")
    sources = answer.locator("details.sources")
    expect(sources.locator("summary")).to_have_text("Sources (1)")
    sources.locator("summary").click()
    section = sources.locator(".source-section").first
    expect(section).to_be_visible()
    expect(section).to_have_text("How much money is Amazon investing in Anthropic?")
    expect(sources.locator(".source-quote").first).to_contain_text("an immediate $5 billion")
    shot = Path(os.environ.get("BOT_SCREENSHOT", tmp_path / "screenshot.png"))
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_clicking_an_example_asks_it(page: Page) -> None:
    page.get_by_role("button", name="What are Trainium chips?").click()
    expect(page.locator("#chat [data-testid='user']").last).to_have_text(
        "What are Trainium chips?"
    )
    expect(answers(page).last).to_contain_text(
        "Trainium chips are special computer hardware designed by Amazon", timeout=ANSWER_SECONDS
    )


def test_a_follow_up_question_is_answered_from_the_conversation(page: Page) -> None:
    ask(page, "How much is Amazon investing in Anthropic?")
    expect(answers(page).last).to_contain_text("$5 billion", timeout=ANSWER_SECONDS)
    # Only the conversation says what "that" is; asked alone, the bot can't tell.
    ask(page, "When was that?")
    expect(answers(page)).to_have_count(2, timeout=ANSWER_SECONDS)
    expect(answers(page).last).to_contain_text("2023 and 2024", timeout=ANSWER_SECONDS)


def test_html_in_a_question_or_in_the_history_is_shown_as_text_and_never_runs(
    page: Page, dialogs: list[str]
) -> None:
    hostile = "<img src=x onerror=alert(1)> <script>window.__pwned = 1</script> *not bold*"
    ask(page, hostile)
    expect(answers(page)).to_have_count(1, timeout=ANSWER_SECONDS)
    # A second turn sends the hostile question back as history and renders it again.
    ask(page, "How much is Amazon investing in Anthropic?")
    expect(answers(page).last).to_contain_text("$5 billion", timeout=ANSWER_SECONDS)
    question = page.locator("#chat [data-testid='user']").first
    expect(question).to_have_text(hostile)
    assert question.locator("img, script, em").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
