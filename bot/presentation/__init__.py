"""Stage 5, presentation: the chat turn and the web page around it.

- `chat`: one chat turn (rate limit, rendering, friendly errors), with no gradio;
- `webapp`: the Gradio page; `style` its look;
- `server`: how it is served (bind, login, concurrency).

`build_demo` and `serve` are imported on first use, so `bot.presentation.Chat`
can be used (and tested) without loading gradio.
"""

from typing import Any

from .chat import (
    APOLOGY,
    NOTICE,
    Chat,
    RateLimiter,
    conversation,
    from_literal_markdown,
    inert_markdown,
    literal_markdown,
    plain_answer,
    render_answer,
)

__all__ = [
    "APOLOGY",
    "NOTICE",
    "Chat",
    "RateLimiter",
    "build_demo",
    "conversation",
    "from_literal_markdown",
    "inert_markdown",
    "literal_markdown",
    "plain_answer",
    "render_answer",
    "serve",
]


def __getattr__(name: str) -> Any:
    if name == "build_demo":
        from .webapp import build_demo

        return build_demo
    if name == "serve":
        from .server import serve

        return serve
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
