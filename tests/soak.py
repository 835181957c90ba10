"""Soak test: many simulated users asking the running chat app, Claude failing now and then.

    python tests/soak.py                      # 50 users x 10 questions (about a minute)
    python tests/soak.py --users 10 --questions 5

Starts `python app.py` on a free loopback port with the Claude backend pointed at
the stand-in API (tests/upstream.py), which answers after 0.2-1 s and fails 5% of
the requests (429, 500, 529, a 400, a stream cut mid-answer). Every user is a
thread with its own gradio_client asking its questions one after another. Prints
what each request ended in, p50/p95 latency, and the app's RSS before and after,
and exits non-zero when a request ended in anything but an answer or a clear
message, the app died, or the key showed up anywhere. All traffic stays on
127.0.0.1; every wait is bounded, so the run stops by itself.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))

from app_process import AppProcess  # noqa: E402
from upstream import Reply, Upstream, answer_events, echo_events, error_reply  # noqa: E402

KEY = "sk-ant-test-soak-0123456789abcdefghijklmnop"
QUESTIONS = [
    "How much is Amazon investing in Anthropic?",
    "What are Trainium chips?",
    "How many gigawatts of power will Anthropic get?",
    "What are the conditions for the extra $20 billion?",
    "How much will Anthropic spend on Amazon's cloud?",
    "What is Claude?",
    "Who are Amazon's rivals in AI?",
    "Had Amazon invested in Anthropic before?",
    "What does the deal mean for AWS customers?",
    "Why is the deal a big deal?",
]
ANSWERED = "Sources ("  # a cited answer's footer
CLEAR_MESSAGES = ("Sorry, I couldn't answer that.", "cut short", "I couldn't find that in")
APOLOGY = "Sorry, something went wrong on our side"


class FlakyUpstream(Upstream):
    """The stand-in, slow (0.2-1 s) and failing a share of the requests."""

    def __init__(self, fault_rate: float, seed: int = 7) -> None:
        super().__init__()
        self.fault_rate = fault_rate
        self.random = random.Random(seed)
        self.faults: dict[str, int] = {}

    def _next_reply(self, body: Any) -> Reply:
        with self._lock:
            delay = self.random.uniform(0.2, 1.0)
            failing = self.random.random() < self.fault_rate
            fault = self.random.choice(list(FAULTS)) if failing else ""
            if fault:
                self.faults[fault] = self.faults.get(fault, 0) + 1
        if not fault:
            return Reply(events=echo_events(body, model=self.model), delay=delay)
        reply = FAULTS[fault]()
        reply.delay = delay
        return reply


def _cut_stream() -> Reply:
    events = answer_events([("Amazon is investing five billion dollars now, and more later.", [])])
    return Reply(events=events, cut_after=5)


FAULTS = {
    # Retried by the SDK: the user mostly never sees them.
    "429": lambda: error_reply(429, "rate_limit_error", "Slow down", {"retry-after-ms": "100"}),
    "500": lambda: error_reply(500, "api_error", "Internal error", {"retry-after-ms": "100"}),
    "529": lambda: error_reply(529, "overloaded_error", "Overloaded", {"retry-after-ms": "100"}),
    # Not retried: the user sees a clear message, or what arrived marked incomplete.
    "400": lambda: error_reply(400, "invalid_request_error", f"bad request for {KEY}"),
    "cut": _cut_stream,
}


@dataclass
class Outcome:
    kind: str  # answered, message, apology, error
    seconds: float
    detail: str = ""


@dataclass
class Report:
    users: int
    questions: int
    outcomes: list[Outcome] = field(default_factory=list)
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0
    rss_peak_mb: float = 0.0
    wall_seconds: float = 0.0
    upstream_requests: int = 0
    upstream_faults: dict[str, int] = field(default_factory=dict)
    app_alive: bool = False
    key_leaked: bool = False
    answered_after: bool = False

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
        return counts

    def latency(self, quantile: int) -> float:
        times = sorted(o.seconds for o in self.outcomes)
        if len(times) < 2:
            return times[0] if times else 0.0
        return statistics.quantiles(times, n=100, method="inclusive")[quantile - 1]

    @property
    def ok(self) -> bool:
        counts = self.counts()
        ended_well = counts.get("answered", 0) + counts.get("message", 0)
        return (ended_well == self.users * self.questions and self.app_alive
                and not self.key_leaked and self.answered_after)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.users * self.questions, "outcomes": self.counts(),
            "p50_s": round(self.latency(50), 3), "p95_s": round(self.latency(95), 3),
            "rss_before_mb": round(self.rss_before_mb, 1),
            "rss_after_mb": round(self.rss_after_mb, 1), "rss_peak_mb": round(self.rss_peak_mb, 1),
            "wall_s": round(self.wall_seconds, 1), "upstream_requests": self.upstream_requests,
            "upstream_faults": self.upstream_faults, "app_alive": self.app_alive,
            "key_leaked": self.key_leaked, "answered_after": self.answered_after,
            "failures": [o.detail[:200] for o in self.outcomes
                         if o.kind in ("apology", "error")][:5],
        }


def classify(reply: str) -> str:
    if APOLOGY in reply:
        return "apology"
    if any(message in reply for message in CLEAR_MESSAGES):
        return "message"
    return "answered" if ANSWERED in reply else "error"


def ask(url: str, question: str, timeout: float) -> str:
    from gradio_client import Client

    return str(Client(url, verbose=False).submit(question, api_name="/chat").result(timeout))


def run_user(url: str, n: int, questions: int, report: Report, lock: threading.Lock,
             deadline: float, timeout: float) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    for q in range(questions):
        question = f"{QUESTIONS[(n + q) % len(QUESTIONS)]} (user {n}, question {q})"
        started = time.perf_counter()
        if time.monotonic() > deadline:
            outcome = Outcome("error", 0.0, "not asked: the soak ran out of time")
        else:
            try:
                reply = str(client.submit(question, api_name="/chat").result(timeout=timeout))
                outcome = Outcome(classify(reply), time.perf_counter() - started, reply)
            except Exception as error:  # the client's view of a crash or a hang
                outcome = Outcome("error", time.perf_counter() - started, repr(error))
        with lock:
            report.outcomes.append(outcome)


def soak(users: int = 50, questions: int = 10, fault_rate: float = 0.05,
         budget_seconds: float = 110.0, timeout: float = 60.0) -> Report:
    """Run the soak and return what happened; nothing here raises for a failed request."""
    report = Report(users, questions)
    with FlakyUpstream(fault_rate) as upstream:
        env = {"BOT_BACKEND": "claude", "ANTHROPIC_API_KEY": KEY,
               "ANTHROPIC_BASE_URL": upstream.base_url, "BOT_TIMEOUT": "10",
               "BOT_RATE_LIMIT": "0", "BOT_CONCURRENCY": "16"}
        with AppProcess(env=env) as app:
            ask(app.url, "How much is Amazon investing?", timeout)  # warm: index, model, client
            report.rss_before_mb = report.rss_peak_mb = app.rss_mb()
            lock = threading.Lock()
            deadline = time.monotonic() + budget_seconds
            threads = [threading.Thread(
                target=run_user,
                args=(app.url, n, questions, report, lock, deadline, timeout), daemon=True)
                for n in range(users)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                report.rss_peak_mb = max(report.rss_peak_mb, app.rss_mb())
                if time.monotonic() > deadline + timeout + 10:
                    break  # a stuck client thread is daemonic; the report shows it
                time.sleep(0.5)
            report.wall_seconds = time.perf_counter() - started
            report.app_alive = app.process.poll() is None
            if report.app_alive:
                report.rss_after_mb = app.rss_mb()
                report.answered_after = classify(
                    ask(app.url, "What are Trainium chips?", timeout)) == "answered"
        report.upstream_requests = len(upstream.requests)
        report.upstream_faults = dict(upstream.faults)
    report.key_leaked = KEY in "".join(app.output) or any(KEY in o.detail for o in report.outcomes)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    args = parser.parse_args(argv)
    report = soak(args.users, args.questions, args.fault_rate)
    print(json.dumps(report.summary(), indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
