"""The Gradio page: a streaming ChatInterface around `chat.Chat`.

`build_demo()` warms the retriever up, works out the status line and the
examples, and returns the page; its chat endpoint is /chat. How it is served
(bind, login, limits) is `server`. Only the presentation stage imports gradio;
`import bot` does not.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Sequence
from typing import Any

# Before gradio is imported, so that it reads it; an explicit setting still wins.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from ..answering import get_backend
from ..errors import BotError
from ..knowledge import Overview
from ..settings import Settings, get_settings
from .chat import Chat, from_literal_markdown, literal_markdown
from .server import client_key

log = logging.getLogger(__name__)

OFFLINE_STATUS = (
    "Offline mode: answers are quoted from the documents; set ANTHROPIC_API_KEY for Claude."
)
UNTITLED = "the knowledge base"



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


def warm_up(settings: Settings) -> tuple[tuple[str, ...], Overview]:
    """Open the shared retriever now, so the first question doesn't pay for indexing;
    returns what the page should warn about, and what the knowledge folder holds."""
    try:
        from ..retrieval import get_retriever

        retriever = get_retriever(settings)
        return tuple(retriever.warnings), retriever.overview or Overview((), (), (), ())
    except BotError as error:
        log.error("The knowledge base could not be opened: %s", error)
        return (error.message,), Overview((), (), (), ())


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
    return f"Answers are written by Claude{where} ({model}) and cite the documents."


def page_title(overview: Overview) -> str:
    return overview.title if overview.titles else UNTITLED.capitalize()


def examples(overview: Overview) -> list[str]:
    """What the knowledge folder offers: its examples lists first, then its FAQ questions."""
    return list(overview.examples)


def header_html(status: str, warnings: Sequence[str], overview: Overview) -> str:
    where = "the document" if len(overview.titles) == 1 else "the documents"
    lines = [
        f"<h1>{html.escape(page_title(overview))}</h1>",
        f'<p class="tagline">Every answer comes from {where} and cites the sections it quotes.</p>',
        f'<p class="status" title="{html.escape(status)}">{html.escape(status)}</p>',
        *(f'<p class="status-warning" title="{html.escape(w)}">⚠️ {html.escape(w)}</p>'
          for w in warnings),
    ]
    return "\n".join(lines)


def build_demo(settings: Settings | None = None, chat: Chat | None = None) -> gr.Blocks:
    """The chat page; `chat` replaces the real answerer (tests)."""
    settings = settings or get_settings()
    warnings, overview = warm_up(settings)
    title = page_title(overview)
    chat = chat or Chat(settings, known_warnings=warnings)

    def respond(message: str, history: list[dict], request: gr.Request):
        """Answer a question from the knowledge base; the reply ends with its sources."""
        yield from chat.reply(message, history, client_key(request))

    with gr.Blocks(title=title, fill_height=True) as demo:
        gr.HTML(header_html(backend_status(settings), warnings, overview), elem_id="header")
        gr.ChatInterface(
            respond,
            chatbot=literal_chatbot(
                label="Chat",
                elem_id="chat",
                show_label=False,
                placeholder=f"Ask anything about “{title}”, or pick a question below.",
                latex_delimiters=[],
                buttons=["copy"],
                feedback_options=None,
                scale=1,
            ),
            textbox=gr.Textbox(
                placeholder="Ask a question…",
                show_label=False,
                submit_btn=True,
                stop_btn=True,
                autofocus=True,
                max_lines=6,
                elem_id="question",
            ),
            examples=examples(overview) or None,
            cache_examples=False,
            api_name="chat",
            api_description="Answer from the knowledge base; the reply ends with its sources.",
            concurrency_limit=settings.concurrency,
            fill_height=True,
        )
    # Every event of the page, not only the answers, runs side by side.
    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo
