"""The start-up and Claude parts of `python -m bot bench`.

Start-up runs each command in a fresh process from this checkout and times it from
spawn to exit (or, for the app, to its page answering), with the process's peak
resident memory. The way to Claude is timed in this process against the tests'
loopback stand-in of the Messages API: from the `answer()` call to the request having
arrived there, which is all of the bot's own work before Claude could start.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from ..settings import PROJECT_ROOT, Settings
from .timing import child, interleave, median, ms, p95, peak_rss_mb

STAND_IN = PROJECT_ROOT / "tests" / "upstream.py"
HEAVY = ("gradio", "chromadb", "anthropic", "onnxruntime", "bm25s", "numpy")
IMPORT_PROBE = f"import sys, bot; print([m for m in {HEAVY!r} if m in sys.modules])"


def load_stand_in() -> ModuleType | None:
    """tests/upstream.py, when this is a checkout of the repository."""
    if not STAND_IN.is_file():
        return None
    spec = importlib.util.spec_from_file_location("bench_upstream", STAND_IN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def claude_request(
    settings: Settings, questions: Sequence[str], forward: Callable[[str], object]
) -> str:
    """The bot's own work before Claude: `answer()` called to request arrived, interleaved
    with a bare forward and `bot.retrieve()` on the same questions."""
    from ..answering import answer, get_backend, retrieve

    title = "## The way to Claude (loopback stand-in of the Messages API)\n"
    stand_in = load_stand_in()
    if stand_in is None:
        return f"{title}\nSkipped: {STAND_IN} is not in this checkout.\n"
    delays: list[float] = []
    with stand_in.Upstream() as upstream:
        claude = settings.with_changes(
            backend="claude", anthropic_base_url=upstream.base_url, api_key="bench-not-a-key")
        backend = get_backend(settings=claude)
        answer("Warm-up: is the client ready?", backend=backend, settings=claude)

        def to_claude(question: str) -> None:
            before = len(upstream.requests)
            started = time.perf_counter()
            answer(question, backend=backend, settings=claude)
            delays.append(upstream.requests[before].received - started)

        samples = interleave(questions, {
            "bare": forward,
            "retrieve": lambda question: retrieve(question, settings=settings),
            "claude": to_claude,
        })
    rest = median(delays) - median(samples["retrieve"])
    return "\n".join([
        f"{title}\n{len(questions)} distinct questions, interleaved.\n",
        "| | median ms | p95 ms |", "|---|---:|---:|",
        f"| `answer()` called → request arrived (target < 10 ms) | {ms(median(delays))} "
        f"| {ms(p95(delays))} |",
        f"| `bot.retrieve()` alone | {ms(median(samples['retrieve']))} "
        f"| {ms(p95(samples['retrieve']))} |",
        f"| bare model forward alone | {ms(median(samples['bare']))} "
        f"| {ms(p95(samples['bare']))} |",
        f"| the rest: guard, prompt, SDK, loopback (difference of medians) | {ms(rest)} | |",
        "",
    ])


def start_up(scratch: Path, questions: Sequence[str], rounds: int) -> str:
    env = {**os.environ, "BOT_DATA_DIR": str(scratch / "start"), "PYTHONUNBUFFERED": "1"}
    env.pop("BOT_BACKEND", None)
    ask = ["-m", "bot", "ask", "--no-stream", questions[0]]
    probe = [child(["-c", IMPORT_PROBE], env) for _ in range(rounds)]
    heavy = ast.literal_eval(probe[0][2].strip())
    rows = [("`python -c 'import bot'`", median(p[0] for p in probe), max(p[1] for p in probe))]
    first = child([*ask, "--backend", "offline"], env)
    rows.append(("`python -m bot ask` offline, first run: indexes the article", *first[:2]))
    again = [child([*ask, "--backend", "offline"], env) for _ in range(rounds)]
    rows.append(("`python -m bot ask` offline, index on disk",
                 median(a[0] for a in again), max(a[1] for a in again)))
    stand_in = load_stand_in()
    if stand_in is not None:
        with stand_in.Upstream() as upstream:
            claude_env = {**env, "ANTHROPIC_BASE_URL": upstream.base_url,
                          "ANTHROPIC_API_KEY": "bench-not-a-key"}
            runs = [child([*ask, "--backend", "claude"], claude_env) for _ in range(rounds)]
        rows.append(("`python -m bot ask` Claude (stand-in), index on disk",
                     median(r[0] for r in runs), max(r[1] for r in runs)))
    rows.extend(app_rows(env, questions[:5]))
    loaded = f"loads {', '.join(heavy)}" if heavy else f"loads none of {', '.join(HEAVY)}"
    return "\n".join([
        f"## Start-up (fresh processes; median of {rounds}, peak RSS the highest)\n",
        "| command | seconds | peak RSS MB |", "|---|---:|---:|",
        *(f"| {label} | {seconds:.2f} | {rss:.0f} |" for label, seconds, rss in rows), "",
        f"`import bot` {loaded}.\n",
    ])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as page:
            return bool(page.status == 200)
    except OSError:
        return False


def app_rows(env: dict[str, str], questions: Sequence[str]) -> list[tuple[str, float, float]]:
    """`python app.py` until its page answers, then after answering a few questions."""
    if not (PROJECT_ROOT / "app.py").is_file():
        return []
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    app = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT,
                           env={**env, "GRADIO_SERVER_PORT": str(port)},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if app.poll() is not None:
                raise RuntimeError("app.py exited before serving its page")
            if _answers(url):
                break
            time.sleep(0.05)
        rows = [("`python app.py` until its page answers", time.perf_counter() - started,
                 peak_rss_mb(app.pid))]
        try:
            from gradio_client import Client
        except ImportError:
            return rows
        client = Client(url, verbose=False)
        asked = time.perf_counter()
        for question in questions:
            client.predict(question, api_name="/chat")
        rows.append((f"the app after {len(questions)} answers (seconds per answer)",
                     (time.perf_counter() - asked) / len(questions), peak_rss_mb(app.pid)))
        return rows
    finally:
        app.terminate()
        app.wait(timeout=30)
