"""How long redacting one streamed snapshot takes: `.venv/bin/python tests/bench_redaction.py`.

A 3000-character answer with four registered secrets, redacted as a growing text (the
way the Claude backend redacts every snapshot); the median of 7 runs, each the best of 3.
"""

from __future__ import annotations

import statistics
import timeit

from bot.redaction import redact, register_secret

SECRETS = ("sk-ant-api03-" + "x" * 90, "bedrock-token-3c9d1e7a", "chroma-token-5b8e2f4d",
           "login-pass-6a1f")
ANSWER = ("Amazon is investing $5 billion now, says the article. " * 60)[:3000]


def microseconds(text: str, number: int = 200) -> float:
    """The median over 7 runs of the time one partial redaction of `text` takes."""
    def once() -> str:
        return redact(text, partial=True)

    runs = [min(timeit.repeat(once, number=number, repeat=3)) / number * 1e6 for _ in range(7)]
    return statistics.median(runs)


def main() -> None:
    for secret in SECRETS:
        register_secret(secret)
    cases = (("no secret in it", ANSWER), ("an sk-ant- key in it", ANSWER + " sk-ant-x"))
    for label, text in cases:
        print(f"3000-char snapshot, {label}: median {microseconds(text):.0f} µs per redaction")


if __name__ == "__main__":
    main()
