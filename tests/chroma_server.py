"""A real Chroma server for tests, and a token-checking proxy to put in front of it.

`ChromaServer` runs the `chroma run` command the chromadb package ships, on a free
loopback port and a folder of the test's, and can be stopped and started again on
the same port and folder, as a restarted server would be.

`TokenProxy` forwards to it only requests that carry the token in the header Chroma's
token auth uses; Chroma 1.x has no auth of its own, so a deployment puts one in front.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from app_process import free_port

CHROMA = Path(sys.executable).parent / "chroma"


class ChromaServer:
    """``with ChromaServer(folder) as server: ... server.port ... server.stop()``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ChromaServer:
        command = [str(CHROMA), "run", "--path", str(self.folder),
                   "--host", "127.0.0.1", "--port", str(self.port)]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self._process.returncode}")
            with socket.socket() as attempt:
                if attempt.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the Chroma server did not listen within {timeout:g} s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> ChromaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TokenProxy:
    """Forwards to `target_port` the requests whose `header` holds `expected`; 401 else."""

    def __init__(self, target_port: int, header: str, expected: str) -> None:
        self.rejected = 0
        self._server = ThreadingHTTPServer(
            ("127.0.0.1", 0), _proxy_handler(self, target_port, header.lower(), expected))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def __enter__(self) -> TokenProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _proxy_handler(proxy: TokenProxy, target_port: int, header: str,
                   expected: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.headers.get(header) != expected:
                proxy.rejected += 1
                self._reply(401, b'{"error":"Unauthorized","message":"bad token"}', {})
                return
            upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
            hop = {"connection", "keep-alive", "transfer-encoding", "host"}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            kept = {k: v for k, v in response.getheaders()
                    if k.lower() not in hop | {"content-length"}}
            upstream.close()
            self._reply(response.status, data, kept)

        def _reply(self, status: int, data: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if not any(name.lower() == "content-type" for name in headers):
                self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

    return Handler
