"""Stage 5, presentation: the chat turn and the web page around it.

- `chat`: one chat turn (rate limit, rendering, friendly errors), with no gradio;
- `webapp`: the Gradio page and how it is served (bind, login, concurrency).

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
    "literal_markdown",
    "plain_answer",
    "render_answer",
    "serve",
]


def __getattr__(name: str) -> Any:
    if name in ("build_demo", "serve"):
        from . import webapp

        return getattr(webapp, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
