"""The app (or any Python program) in a child process on a free loopback port.

    with AppProcess() as app:            # `python app.py`
        httpx.get(app.url) ...
        app.printed("Chat is running")   # what it printed, stdout and stderr together

Shared by the API, browser, exposure, fault and soak tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    """A process's resident memory now, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class AppProcess:
    """`args` run with this Python in the project folder (default: app.py), serving on a
    free port: GRADIO_SERVER_PORT is set, and `{port}` in the arguments is replaced.
    `host` sets GRADIO_SERVER_NAME; None leaves the bind address to the app's default.
    Ready once its page answers (200, or 401 behind a login)."""

    def __init__(
        self,
        args: Sequence[str] = ("app.py",),
        env: dict[str, str] | None = None,
        *,
        host: str | None = "127.0.0.1",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.args = [arg.replace("{port}", str(self.port)) for arg in args]
        self.env = {**os.environ, **(env or {}), "GRADIO_SERVER_PORT": str(self.port),
                    "PYTHONUNBUFFERED": "1"}
        self.env.pop("GRADIO_SERVER_NAME", None)
        if host is not None:
            self.env["GRADIO_SERVER_NAME"] = host
        self.output: list[str] = []

    @property
    def printed_text(self) -> str:
        return "".join(self.output)

    def __enter__(self) -> AppProcess:
        self.process = subprocess.Popen(
            [sys.executable, *self.args], cwd=ROOT, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        reader = threading.Thread(target=self._read, daemon=True)
        reader.start()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                reader.join(timeout=5)
                raise RuntimeError("the app exited:\n" + self.printed_text[-4000:])
            try:
                if httpx.get(self.url, timeout=2).status_code in (200, 401):
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        self.__exit__()
        raise RuntimeError("the app did not start in time:\n" + self.printed_text[-4000:])

    def printed(self, text: str, timeout: float = 10) -> bool:
        """Whether the app prints `text` within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while text not in self.printed_text:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def __exit__(self, *exc_info: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
