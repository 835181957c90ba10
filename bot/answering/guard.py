"""Checks and cleans what users send before anything else sees it.

Questions and history arrive from browsers and code: they may be empty, huge,
full of control characters, lone surrogates, bidi overrides, or written to
hijack the answerer. Everything past this module gets clean text and a
history that alternates user/assistant, starts with the user, ends with the
assistant, and fits the token budget.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from ..errors import InvalidHistoryError, InvalidQuestionError
from ..settings import Settings
from ..types import Turn

# Bidi embeddings/overrides/isolates can make text display differently from what it says.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_CHARS_PER_TOKEN = 4  # a conservative estimate for English; only used to trim history

_INJECTION = re.compile(
    r"""
    \b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instruction|instructions|prompt|rules|guidelines|above|previous|prior)\b
    | \b(system|developer|hidden|initial|original)\s+(prompt|message|instructions?)\b
    | \b(reveal|print|show|repeat|output|tell\s+me)\b.{0,30}\b(prompt|instructions|rules)\b
    | \byou\s+are\s+now\b | \bpretend\s+(to\s+be|you)\b | \bjailbreak\b
    | (^|\n)\s*(system|assistant|developer)\s*: | <\|?(system|im_start)\|?>
    """,
    re.IGNORECASE | re.VERBOSE,
)


def clean_text(text: str) -> str:
    """Drop what can't be shown or sent: lone surrogates, NUL/control chars, bidi controls."""
    # Surrogate halves that pair up become their character; lone ones are dropped.
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")
    text = text.translate(_BIDI_CONTROLS)
    text = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )
    return unicodedata.normalize("NFC", text).strip()


def validate_question(question: object, settings: Settings) -> str:
    """Return the cleaned question, or raise `InvalidQuestionError` saying what to change."""
    if not isinstance(question, str):
        raise InvalidQuestionError(
            f"The question must be text, not {type(question).__name__}.", reason="type"
        )
    limit = settings.max_question_chars
    # Checked before cleaning too, so a huge input costs no work.
    if len(question) > limit * 4:
        raise _too_long(len(question), limit)
    cleaned = clean_text(question)
    if not cleaned:
        raise InvalidQuestionError(
            "The question is empty: type a question about the documents.",
            reason="empty",
        )
    if len(cleaned) > limit:
        raise _too_long(len(cleaned), limit)
    return cleaned


def _too_long(length: int, limit: int) -> InvalidQuestionError:
    return InvalidQuestionError(
        f"The question is {length:,} characters long; the limit is {limit:,} "
        "(BOT_MAX_QUESTION_CHARS). Please shorten it.",
        reason="too_long",
    )


def _content_text(content: Any, index: int) -> str:
    if isinstance(content, str):
        return content
    # Gradio may send multimodal content as a list of parts; only text parts count.
    if isinstance(content, list):
        parts = [
            part.get("text", "") if isinstance(part, dict) else part
            for part in content
            if isinstance(part, str) or (isinstance(part, dict) and part.get("type") == "text")
        ]
        if all(isinstance(part, str) for part in parts):
            return "\n".join(parts)
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    raise InvalidHistoryError(
        f"History entry {index} has content of type {type(content).__name__}; expected text.",
        index=index,
    )


def validate_history(history: object, settings: Settings) -> tuple[Turn, ...]:
    """Check roles and shapes, then return alternating turns that fit the token budget."""
    if history is None:
        return ()
    if not isinstance(history, Sequence) or isinstance(history, (str, bytes)):
        raise InvalidHistoryError("history must be a list of {'role': ..., 'content': ...} dicts.")
    budget_chars = settings.history_token_budget * _CHARS_PER_TOKEN
    turns: list[Turn] = []
    for index, entry in enumerate(history):
        if not isinstance(entry, dict) or "role" not in entry or "content" not in entry:
            raise InvalidHistoryError(
                f"History entry {index} must be a dict with 'role' and 'content'.", index=index
            )
        role = entry["role"]
        if role not in ("user", "assistant"):
            raise InvalidHistoryError(
                f"History entry {index} has role {str(role)[:20]!r}; only 'user' and "
                "'assistant' are allowed.",
                index=index,
            )
        raw = _content_text(entry["content"], index)
        # Only a turn's last budget's worth can survive trimming: clean no more than that.
        content = clean_text(raw[max(len(raw) - budget_chars, 0):] if budget_chars else "")
        if not content:
            continue
        if turns and turns[-1].role == role:
            turns[-1] = Turn(role, turns[-1].content + "\n\n" + content)
        else:
            turns.append(Turn(role, content))
    while turns and turns[0].role != "user":
        turns.pop(0)
    # A trailing unanswered question adds nothing the new question doesn't carry.
    if turns and turns[-1].role == "user":
        turns.pop()
    return _trim_to_budget(turns, settings.history_token_budget)


def _trim_to_budget(turns: list[Turn], budget_tokens: int) -> tuple[Turn, ...]:
    """Keep the most recent whole user/assistant pairs that fit; clip a single huge pair."""
    budget = budget_tokens * _CHARS_PER_TOKEN
    kept: list[Turn] = []
    used = 0
    for i in range(len(turns) - 2, -1, -2):
        pair = turns[i : i + 2]
        size = sum(len(turn.content) for turn in pair)
        if used + size > budget:
            if not kept and budget > 0:
                share = budget // 2
                kept = [Turn(turn.role, turn.content[-share:]) for turn in pair]
            break
        kept = pair + kept
        used += size
    return tuple(kept)


def looks_like_injection(text: str) -> bool:
    """True for text that tries to change the bot's instructions or role."""
    # Fullwidth letters and zero-width characters read the same to a model but not
    # to a regular expression; fold them before matching.
    folded = "".join(ch for ch in unicodedata.normalize("NFKC", text)
                     if unicodedata.category(ch) != "Cf")
    return bool(_INJECTION.search(folded))


def previous_user_question(history: Sequence[Turn]) -> str | None:
    for turn in reversed(history):
        if turn.role == "user":
            return turn.content
    return None
