"""Keeps the configured secrets out of every text a reader is shown, whoever wrote it.

Every `Settings` registers its secrets here (the API key, the Bedrock bearer token,
the Chroma token, the login password). `redact` blanks them, and anything shaped
like an Anthropic key, out of a text: an error message, a log line, Claude's answer.
A text that is still growing (a streamed answer) is redacted with `partial=True`,
which also holds back a tail that more text could still turn into a secret; so
each redacted snapshot is a prefix of the next, and no snapshot shows the first
half of a key. `scrub` redacts an exception and everything chained to it, and
`RedactingFilter` redacts what a log handler writes.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 6  # shorter values would blank out ordinary words
_KEY_PREFIX = "sk-ant-"
_KEY_PATTERN = re.compile(r"sk-ant-[A-Za-z0-9_\-]+")
_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(secret: str | None) -> None:
    """Redact `secret` from every text `redact` sees from now on."""
    if secret and len(secret) >= MIN_SECRET_CHARS:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str, *secrets: str | None, partial: bool = False) -> str:
    """`text` without the registered secrets, `secrets`, or anything shaped like an
    Anthropic key, each replaced by "[redacted]".

    With `partial=True` the text may still grow: a tail that could become a secret
    is left off, and the result is a prefix of what the longer text redacts to.
    """
    known = _known(secrets)
    if _KEY_PREFIX not in text and not any(secret in text for secret in known):
        return text[:_held_from(text, known)] if partial else text
    return _scan(text, known, partial)


def _known(extra: tuple[str | None, ...]) -> tuple[str, ...]:
    with _secrets_lock:
        found = set(_secrets)
    found.update(s for s in extra if s and len(s) >= MIN_SECRET_CHARS)
    return tuple(sorted(found, key=len, reverse=True))


def _could_become_secret(tail: str, known: tuple[str, ...]) -> bool:
    """True when more text after `tail` could make it a secret (or a key) that starts there."""
    return _KEY_PREFIX.startswith(tail) or any(
        len(secret) > len(tail) and secret.startswith(tail) for secret in known)


def _longest(known: tuple[str, ...]) -> int:
    return max(len(_KEY_PREFIX), max((len(secret) for secret in known), default=0))


def _held_from(text: str, known: tuple[str, ...]) -> int:
    """Where the tail held back from a growing text starts (its length if none is)."""
    firsts = {secret[0] for secret in (*known, _KEY_PREFIX)}
    for start in range(max(0, len(text) - _longest(known)), len(text)):
        if text[start] in firsts and _could_become_secret(text[start:], known):
            return start
    return len(text)


def _scan(text: str, known: tuple[str, ...], partial: bool) -> str:
    """Left to right, the longest secret or key starting at each place is replaced.

    Each decision depends only on the text from that place on and is taken only once
    more text could not change it, which is what keeps a growing text's redactions
    prefixes of one another.
    """
    firsts = re.compile("[" + re.escape("".join({s[0] for s in (*known, _KEY_PREFIX)})) + "]")
    hold_within = _longest(known) if partial else 0
    out: list[str] = []
    done = 0
    while (candidate := firsts.search(text, done)) is not None:
        at = candidate.start()
        if len(text) - at <= hold_within and _could_become_secret(text[at:], known):
            out.append(text[done:at])
            return "".join(out)
        length = max((len(s) for s in known if text.startswith(s, at)), default=0)
        if (key := _KEY_PATTERN.match(text, at)) is not None:
            length = max(length, key.end() - at)
        if length:
            out += [text[done:at], REDACTED]
            done = at + length
        else:
            out.append(text[done:at + 1])
            done = at + 1
    out.append(text[done:])
    return "".join(out)


def scrub(error: BaseException, *secrets: str | None) -> None:
    """Redact `error` and every exception chained to it, in place.

    SDK exceptions quote the upstream reply verbatim, and a proxy may echo the key
    back; a traceback logged or printed later must not carry it.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.args = tuple(
            redact(arg, *secrets) if isinstance(arg, str) else arg for arg in current.args
        )
        if isinstance(getattr(current, "message", None), str):
            # A read-only property (like BotError.message) is already redacted.
            with contextlib.suppress(AttributeError):
                current.message = redact(current.message, *secrets)  # type: ignore[attr-defined]
        pending += [current.__cause__, current.__context__]


class RedactingFilter(logging.Filter):
    """On a handler: redacts each record's message, traceback and stack before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def redact_logs(logger: logging.Logger | None = None) -> None:
    """Put a `RedactingFilter` on each handler of `logger` (default: the root logger)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
