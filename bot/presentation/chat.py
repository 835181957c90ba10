"""The chat turn behind the web page: a question in, rendered answer snapshots out.

`Chat.reply` is what the Gradio page and its /chat endpoint call. It checks the
per-client rate limit, hands the question and the plain conversation to the
answerer (`bot.stream_answer` unless a test gives another), and turns every
`Answer` snapshot into the Markdown the chat shows: the answer text with its
[n] markers, then a collapsible "Sources" list of each cited section and quote.
Failures become chat messages too: a `BotError` says what to do, anything else
is logged and shown as a short apology.

Everything the page shows that came from a person or from a document is
escaped here, so no text of theirs can become markup. Nothing here imports gradio.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ..errors import BotError, redact
from ..settings import Settings, get_settings
from ..types import Answer, Citation

log = logging.getLogger(__name__)

Answerer = Callable[[str, list[dict]], Iterator[Answer]]

APOLOGY = (
    "Sorry, something went wrong on our side while answering. Please try again; "
    "if it keeps happening, the server log has the details."
)
# Everything the bot appends after an answer's text starts with this; the text itself
# is escaped, so it can never contain it, and history is cut there.
FOOTER = '\n\n<div class="answer-footer">'
NOTICE = '<div class="bot-notice">'
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LIVE_MARKDOWN = re.compile(r"([\\`*_~\[\]()<>!&:@#|.])")
_ESCAPED_PUNCTUATION = re.compile(r"\\([!-/:-@\[-`{-~])")


def literal_markdown(text: str) -> str:
    """Markdown that displays `text` exactly as typed: every ASCII punctuation mark escaped."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def inert_markdown(text: str) -> str:
    """Markdown that shows `text` with nothing live: no image, link, autolink, HTML or
    emphasis. Escapes only the marks that make them (dots for "www." autolinks), each
    on its own, so a streamed answer's Markdown still grows by appending only."""
    return _LIVE_MARKDOWN.sub(r"\\\1", text)


def from_literal_markdown(markdown: str) -> str:
    """The text `literal_markdown` (or `inert_markdown`) was given."""
    return _ESCAPED_PUNCTUATION.sub(r"\1", markdown)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _one_line(text: str) -> str:
    # A blank line would end the HTML block and let Markdown loose inside it.
    return " ".join(text.split())


def render_sources(citations: Sequence[Citation]) -> str:
    """A collapsible list: marker number, section title and the quoted sentence of each citation."""
    items = "".join(
        f'<li><span class="source-section">{_escape(_one_line(c.section))}</span>'
        f'<q class="source-quote">{_escape(_one_line(c.quote))}</q></li>'
        for c in citations
    )
    return (
        f'<details class="sources"><summary>Sources ({len(citations)})</summary>'
        f'<ol class="source-list">{items}</ol></details>'
    )


def render_answer(answer: Answer, known_warnings: Sequence[str] = ()) -> str:
    """The chat message for one snapshot; warnings already shown on the page are left out."""
    # Markdown-escaped, not only HTML-escaped: a document (or a reply an injected
    # document steered) may hold ![x](https://…) or a bare URL, which would fetch or link.
    body = inert_markdown(answer.text.strip()) or "…"
    footer = []
    if answer.citations and not answer.refused:
        footer.append(render_sources(answer.citations))
    for warning in answer.warnings:
        if warning not in known_warnings:
            footer.append(f'<p class="answer-warning">⚠️ {_escape(_one_line(warning))}</p>')
    if not footer:
        return body
    return body + FOOTER + "".join(footer) + "</div>"


def render_notice(text: str) -> str:
    """A message from the bot that is not an answer (an error, the rate limit)."""
    return f"{NOTICE}{_escape(_one_line(text))}</div>"


def plain_answer(message: str) -> str:
    """The answer text of a rendered answer, as the answerer wrote it, without Sources."""
    return from_literal_markdown(message.split(FOOTER, 1)[0]).strip()


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        text = content.get("text")
        return text if isinstance(text, str) else ""
    if isinstance(content, Sequence):
        return "\n".join(filter(None, (_text_of(part) for part in content)))
    return ""


def conversation(history: Sequence[Mapping[str, Any]] | None) -> list[dict]:
    """The chat history as plain user/assistant turns for `stream_answer`.

    Rendered Sources are cut from answers, and a question the bot could not
    answer is dropped with its notice, so the answerer sees only real exchanges.
    """
    turns: list[dict] = []
    for message in history or ():
        role = message.get("role")
        text = _text_of(message.get("content"))
        if role == "user":
            turns.append({"role": "user", "content": text})
        elif role == "assistant":
            if text.startswith(NOTICE):
                if turns and turns[-1]["role"] == "user":
                    turns.pop()
                continue
            turns.append({"role": "assistant", "content": plain_answer(text)})
    return turns


class RateLimiter:
    """At most `per_minute` questions per client in any 60 seconds; 0 turns it off."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._asked: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_time(self, client: str) -> float:
        """0 when `client` may ask now (and counts the question), else seconds to wait."""
        if self.per_minute <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            # Forget idle clients, so a long-running server doesn't keep every address.
            for key in [k for k, times in self._asked.items() if times[-1] <= now - 60]:
                del self._asked[key]
            times = self._asked.setdefault(client, deque())
            while times and times[0] <= now - 60:
                times.popleft()
            if len(times) >= self.per_minute:
                return max(times[0] + 60 - now, 0.1)
            times.append(now)
            return 0.0


class Chat:
    """One chat service for the whole server; safe to call from many threads at once."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        answerer: Answerer | None = None,
        known_warnings: Sequence[str] = (),
    ) -> None:
        self.settings = settings or get_settings()
        self.answerer = answerer or self._stream_answer
        self.limiter = RateLimiter(self.settings.rate_limit)
        self.known_warnings = tuple(known_warnings)

    def reply(
        self, message: str, history: Sequence[Mapping[str, Any]] | None, client: str
    ) -> Iterator[str]:
        """Yield the growing answer as chat Markdown; the last message is the whole answer."""
        wait = self.limiter.wait_time(client)
        if wait:
            limit = self.limiter.per_minute
            yield render_notice(
                f"You've asked {limit} question{'s' if limit != 1 else ''} in the last minute, "
                f"the most this chat allows. Please wait {wait:.0f} seconds and ask again."
            )
            return
        shown: Answer | None = None
        snapshots: Iterator[Answer] | None = None
        try:
            snapshots = self.answerer(message, conversation(history))
            for shown in snapshots:
                yield render_answer(shown, self.known_warnings)
            if shown is None:
                raise RuntimeError("the answerer produced no answer")
        except BotError as error:
            yield self._failure(shown, f"Sorry, I couldn't answer that. {error.message}")
        except Exception as error:
            # Formatted here so the key is redacted from the traceback too.
            details = "".join(traceback.format_exception(error))
            log.error("Unexpected error while answering:\n%s", redact(details))
            yield self._failure(shown, APOLOGY)
        finally:
            close = getattr(snapshots, "close", None)
            if close is not None:
                # A stopped chat closes this generator; the upstream stream must stop too.
                close()

    def _stream_answer(self, question: str, history: list[dict]) -> Iterator[Answer]:
        from ..answering import stream_answer

        return stream_answer(question, history, backend=self.settings.backend)

    def _failure(self, shown: Answer | None, text: str) -> str:
        if shown is None or not shown.text.strip():
            return render_notice(text)
        # Keep what was already written, and say why it stops there.
        partial = render_answer(shown, self.known_warnings)
        note = f'<p class="answer-warning">⚠️ {_escape(_one_line(text))}</p>'
        if FOOTER in partial:
            return partial.removesuffix("</div>") + note + "</div>"
        return partial + FOOTER + note + "</div>"
