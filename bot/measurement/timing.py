"""Timing and memory helpers shared by the benchmarks: interleaved timers, medians,
a bare model forward (the floor), and fresh child processes with their peak memory."""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..settings import PROJECT_ROOT

if TYPE_CHECKING:
    import numpy as np

    from ..store import Embedder

Timers = dict[str, Callable[[str], object]]
PEAK_MARK = "bench-peak-rss-kb="
# Runs `-m module` or `-c code` and writes its peak RSS to stderr at exit. The child
# must read its own: a forked child's ru_maxrss counts the parent's memory too.
LAUNCHER = f"""
import atexit, runpy, sys
def peak():
    try:
        lines = open('/proc/self/status').read().splitlines()
    except OSError:
        return
    for line in lines:
        if line.startswith('VmHWM:'):
            sys.stderr.write('\\n{PEAK_MARK}' + line.split()[1] + '\\n')
atexit.register(peak)
kind, target, sys.argv = sys.argv[1], sys.argv[2], sys.argv[2:]
if kind == '-c':
    exec(compile(target, '<probe>', 'exec'), {{'__name__': '__main__'}})
else:
    runpy.run_module(target, run_name='__main__', alter_sys=True)
"""



def interleave(items: Sequence[str], timers: Timers) -> dict[str, list[float]]:
    """Seconds per item for each timer, the timers in a new random order for each item:
    a fixed rotation would give each timer the same predecessor every time."""
    names = list(timers)
    shuffle = random.Random(len(items)).shuffle
    samples: dict[str, list[float]] = {name: [] for name in names}
    for item in items:
        shuffle(names)
        for name in names:
            started = time.perf_counter()
            timers[name](item)
            samples[name].append(time.perf_counter() - started)
    return samples


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}" if seconds < 10 else f"{seconds * 1000:.0f}"


def median(samples: Iterable[float]) -> float:
    return statistics.median(list(samples))


def p95(samples: Sequence[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


class BareForward:
    """One forward pass of the model at a question's own length: the floor. It runs on
    the session the bot itself uses (no second set of threads competing with the first);
    the questions are tokenized before the clock starts."""

    def __init__(self, embedder: Embedder, questions: Iterable[str]) -> None:
        import numpy as np

        self.session = embedder.session
        self.feeds: dict[str, dict[str, np.ndarray]] = {}
        for question in questions:
            ids = np.array([embedder.tokenizer.encode(question).ids], dtype=np.int64)
            self.feeds[question] = {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                    "token_type_ids": np.zeros_like(ids)}

    def __call__(self, question: str) -> object:
        return self.session.run(None, self.feeds[question])


def child(args: Sequence[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Seconds from spawn to exit, peak RSS in MB, and stdout of `python <args>`, where
    args start with `-m module` or `-c code`."""
    if args[0] not in ("-m", "-c"):
        raise ValueError("child() runs `-m module ...` or `-c code ...`")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", LAUNCHER, *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed: {done.stderr[-2000:]}")
    peaks = [line for line in done.stderr.splitlines() if line.startswith(PEAK_MARK)]
    peak = int(peaks[-1][len(PEAK_MARK):]) / 1024 if peaks else float("nan")
    return seconds, peak, done.stdout


def peak_rss_mb(pid: int | str = "self") -> float:
    """The peak resident memory of a process (default: this one), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
