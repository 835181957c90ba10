"""The Gradio page: a streaming ChatInterface around `bot.chat`, and how it is served.

`build_demo()` warms the retriever up, works out the status line and the
examples, and returns the page; its chat endpoint is /chat. `serve()` launches
it on loopback (or GRADIO_SERVER_NAME / GRADIO_SERVER_PORT), with Gradio's
login when BOT_AUTH is set, and answers BOT_CONCURRENCY questions side by side.
This is the only module of `bot` that imports gradio; `import bot` does not.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

# Before gradio is imported, so that it reads it; an explicit setting still wins.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from ..answering import get_backend
from ..errors import BotError
from ..knowledge import load_sections
from ..settings import Settings, get_settings
from .chat import Chat, from_literal_markdown, literal_markdown

log = logging.getLogger(__name__)

TITLE = "Amazon’s new multi-billion dollar investment in Anthropic"
DESCRIPTION = (
    "Ask about the deal: every answer comes from the article and cites the sections it quotes."
)
OFFLINE_STATUS = (
    "Offline mode: answers are quoted from the article; set ANTHROPIC_API_KEY for Claude."
)
# Questions the bot answers well beyond the article's own FAQ.
EXTRA_EXAMPLES = (
    "How much will Anthropic spend on Amazon's cloud?",
    "What are the conditions for the extra $20 billion?",
    "How many gigawatts of power will Anthropic get?",
    "Who are Amazon's rivals in AI?",
    "What will AWS users see in the coming years?",
)
MAX_EXAMPLES = 6

CSS = """
.gradio-container { max-width: 920px !important; margin: 0 auto !important; }
#header h1 { font-size: 1.5rem; margin: 0.6rem 0 0.25rem; text-align: center; }
#header p { text-align: center; margin: 0.15rem 0; }
#header .status { color: var(--body-text-color-subdued); font-size: 0.9rem; }
#header .status-warning { color: var(--color-accent); font-size: 0.85rem; }
.answer-footer { margin-top: 0.6rem; }
details.sources { border-top: 1px solid var(--border-color-primary); padding-top: 0.4rem; }
details.sources summary { cursor: pointer; font-weight: 600; font-size: 0.9rem; }
.source-list { margin: 0.4rem 0 0 1.2rem; padding: 0; font-size: 0.9rem; }
.source-list li { margin: 0.35rem 0; }
.source-section { display: block; font-weight: 600; }
.source-quote { display: block; color: var(--body-text-color-subdued); font-style: italic; }
.answer-warning { font-size: 0.85rem; color: var(--body-text-color-subdued); margin: 0.4rem 0 0; }
#chat .example { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
    background: var(--background-fill-secondary); }
#chat .example:hover { border-color: var(--color-accent); }
.bot-notice { border-left: 3px solid var(--color-accent); padding-left: 0.6rem; }
"""


def literal_chatbot(**options: Any) -> gr.Chatbot:
    """A Chatbot that shows what people type as typed: their messages are never Markdown
    or HTML on the page, and come back to Python unchanged."""
    chatbot = gr.Chatbot(**options)
    preprocess, postprocess = chatbot.preprocess, chatbot.postprocess

    def from_page(payload: Any) -> list[Any]:
        messages = preprocess(payload)
        for message in messages:
            if message["role"] == "user":
                for part in message["content"]:
                    if part.get("type") == "text":
                        part["text"] = from_literal_markdown(part["text"])
        return messages

    def to_page(value: Any) -> Any:
        data = postprocess(value)
        for message in data.root:
            if message.role == "user":
                for part in message.content:
                    if getattr(part, "type", None) == "text":
                        part.text = literal_markdown(part.text)
        return data

    # Wrapped on the instance: a Component subclass would make gradio write a .pyi
    # file next to this module.
    chatbot.preprocess = from_page  # type: ignore[method-assign]
    chatbot.postprocess = to_page  # type: ignore[method-assign]
    return chatbot


def warm_up(settings: Settings) -> tuple[str, ...]:
    """Open the shared retriever now, so the first question doesn't pay for indexing;
    returns what the page should warn about."""
    try:
        from ..retrieval import get_retriever

        return tuple(get_retriever(settings).warnings)
    except BotError as error:
        log.error("The knowledge base could not be opened: %s", error)
        return (error.message,)


def backend_status(settings: Settings) -> str:
    """Which backend answers, in one sentence for the page."""
    try:
        backend = get_backend(settings=settings)
    except BotError as error:
        return f"⚠️ {error.message}"
    if backend.name == "offline":
        return OFFLINE_STATUS
    model = backend.model or "its default model"
    where = " on Amazon Bedrock" if backend.name == "bedrock" else ""
    return f"Answers are written by Claude{where} ({model}) and cite the article."


def examples(settings: Settings) -> list[str]:
    """The article's own FAQ questions first, then a few more the bot answers well."""
    try:
        faq = [s.title for s in load_sections(settings.knowledge_dir) if s.title.endswith("?")]
    except BotError:
        faq = []
    chosen: list[str] = []
    for question in [*faq, *EXTRA_EXAMPLES]:
        if question not in chosen:
            chosen.append(question)
    return chosen[:MAX_EXAMPLES]


def header_html(status: str, warnings: Sequence[str]) -> str:
    lines = [
        f"<h1>{html.escape(TITLE)}</h1>",
        f"<p>{html.escape(DESCRIPTION)}</p>",
        f'<p class="status">{html.escape(status)}</p>',
        *(f'<p class="status-warning">⚠️ {html.escape(w)}</p>' for w in warnings),
    ]
    return "\n".join(lines)


def client_key(request: gr.Request | None) -> str:
    """Who is asking, for the rate limit: the login name, else the client address."""
    if request is None:
        return "anonymous"
    if request.username:
        return f"user:{request.username}"
    if request.client is not None and request.client.host:
        return f"host:{request.client.host}"
    return f"session:{request.session_hash}"


def build_demo(settings: Settings | None = None, chat: Chat | None = None) -> gr.Blocks:
    """The chat page; `chat` replaces the real answerer (tests)."""
    settings = settings or get_settings()
    warnings = warm_up(settings)
    chat = chat or Chat(settings, known_warnings=warnings)

    def respond(message: str, history: list[dict], request: gr.Request):
        """Answer a question about the article; the reply ends with its sources."""
        yield from chat.reply(message, history, client_key(request))

    with gr.Blocks(title="Amazon × Anthropic FAQ", fill_height=True) as demo:
        gr.HTML(header_html(backend_status(settings), warnings), elem_id="header")
        gr.ChatInterface(
            respond,
            chatbot=literal_chatbot(
                label="Chat",
                elem_id="chat",
                show_label=False,
                placeholder="Ask anything about the deal, or pick a question below.",
                latex_delimiters=[],
                buttons=["copy"],
                feedback_options=None,
                scale=1,
            ),
            textbox=gr.Textbox(
                placeholder="Ask about Amazon’s investment in Anthropic…",
                show_label=False,
                submit_btn=True,
                stop_btn=True,
                autofocus=True,
                max_lines=6,
                elem_id="question",
            ),
            examples=examples(settings),
            cache_examples=False,
            api_name="chat",
            api_description="Answer a question about the article; the reply ends with its sources.",
            concurrency_limit=settings.concurrency,
            fill_height=True,
        )
    # Every event of the page, not only the answers, runs side by side.
    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """BOT_AUTH as Gradio's (user, password); `Settings.check` has made sure it has both."""
    if auth is None:
        return None
    user, _, password = auth.partition(":")
    return user.strip(), password


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_warning(host: str, auth: tuple[str, str] | None) -> str | None:
    """What to warn about before serving on `host`."""
    if is_loopback(host) or auth is not None:
        return None
    return (
        f"Warning: serving on {host}, reachable from other machines, with no login. "
        "Set BOT_AUTH=user:password to require one, or bind to 127.0.0.1."
    )


def serve(
    demo: gr.Blocks,
    settings: Settings | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    block: bool = True,
) -> str:
    """Launch `demo` and print its address; returns the local URL.

    `host` and `port` default to GRADIO_SERVER_NAME / GRADIO_SERVER_PORT as Settings
    read them (127.0.0.1:7860). With `block=False` it returns once the server is up.
    """
    settings = settings or get_settings()
    host = host or settings.server_name
    port = port or settings.server_port
    auth = parse_auth(settings.auth)
    if (warning := bind_warning(host, auth)) is not None:
        print(warning, file=sys.stderr, flush=True)
    demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="Sign in to ask about Amazon’s investment in Anthropic.",
        # Room for every concurrent answer, plus the page's small events.
        max_threads=max(40, 3 * settings.concurrency),
        prevent_thread_lock=True,
        quiet=True,
        footer_links=["api"],
        theme=gr.themes.Soft(
            primary_hue="orange",
            neutral_hue="slate",
            # System fonts: the page then asks no third party for anything.
            font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
            font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
        ),
        css=CSS,
    )
    url = demo.local_url or f"http://{host}:{port}/"
    print(f"Chat is running at {url} (press Ctrl+C to stop)", flush=True)
    if block:
        demo.block_thread()
    return url
