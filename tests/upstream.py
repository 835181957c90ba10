"""A stand-in for the Messages API on loopback, for driving the real SDK in tests.

`Upstream` serves POST /v1/messages on 127.0.0.1 from a queue of scripted
`Reply` objects (a status, headers, and a JSON body or a list of server-sent
events, optionally cut off, delayed or hung) and records every request. With
an empty queue it answers every request with a short cited answer quoting the
first sentence of the request's first search result (or with what `respond=`
builds from the request), so it can serve any number of requests (give
`latency=` to slow each one down).

The event helpers below build the events in the wire format the SDK parses:
``answer_events([("Amazon is investing ", []), ("$5 billion.", [citation])])``.
"""

from __future__ import annotations

import itertools
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Event = tuple[str, Any]  # (SSE event name, data: a JSON-able value, or a str sent as it is)
_ids = itertools.count(1)


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None  # a JSON body; used when `events` is None
    events: list[Event] | None = None  # server-sent events
    cut_after: int | None = None  # send this many events, then drop the connection
    stall_after: int | None = None  # send this many events, then go silent until closed
    delay: float = 0.0  # seconds before the status line goes out
    hang: bool = False  # never answer (until the server closes)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any
    received: float = 0.0  # time.perf_counter() when the whole request had arrived


class Upstream:
    """Context manager: ``with Upstream() as up: ... up.base_url ... up.requests``."""

    def __init__(
        self, *, latency: float = 0.0, model: str = "claude-test",
        respond: Callable[[Any], list[Event]] | None = None,
    ) -> None:
        self.latency = latency
        self.model = model
        self.respond = respond  # the events for a request when no reply is queued
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.most_in_flight = 0  # the most requests it held open at the same moment
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        # A short poll keeps shutdown, and so each test's teardown, quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def enqueue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        with self._lock:
            self._replies.extend(replies)

    def start(self) -> Upstream:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Upstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The request handler; a stand-in for another API (Bedrock) overrides this."""
        return _handler_for(self)

    def _next_reply(self, body: Any) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        events = self.respond(body) if self.respond else echo_events(body, model=self.model)
        return Reply(events=events, delay=self.latency)


def error_reply(status: int, kind: str, message: str, headers: dict[str, str] | None = None,
                request_id: str = "req_test_error") -> Reply:
    """An API error response in the Messages API's JSON shape."""
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}
    return Reply(status=status, json=body, headers={"request-id": request_id, **(headers or {})})


def unused_port_url() -> str:
    """A loopback URL where nothing listens, so connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# Events, in the order a real stream sends them.

def message_start(model: str = "claude-test", *, input_tokens: int = 100, cache_read: int = 0,
                  cache_creation: int = 0) -> Event:
    return ("message_start", {"type": "message_start", "message": {
        "id": f"msg_test_{next(_ids)}", "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1,
                  "cache_creation_input_tokens": cache_creation,
                  "cache_read_input_tokens": cache_read}}})


def text_block_start(index: int) -> Event:
    return ("content_block_start", {"type": "content_block_start", "index": index,
                                    "content_block": {"type": "text", "text": ""}})


def text_delta(index: int, text: str) -> Event:
    return ("content_block_delta", {"type": "content_block_delta", "index": index,
                                    "delta": {"type": "text_delta", "text": text}})


def citations_delta(index: int, citation: dict[str, Any]) -> Event:
    return ("content_block_delta", {"type": "content_block_delta", "index": index,
                                    "delta": {"type": "citations_delta", "citation": citation}})


def search_result_citation(
    source: str, cited_text: str, *, search_result_index: int = 0, start: int = 0, end: int = 1,
    title: str | None = None,
) -> dict[str, Any]:
    return {"type": "search_result_location", "source": source, "title": title,
            "cited_text": cited_text, "search_result_index": search_result_index,
            "start_block_index": start, "end_block_index": end}


def char_citation(document_index: int, start: int, end: int, cited_text: str) -> dict[str, Any]:
    return {"type": "char_location", "document_index": document_index, "document_title": None,
            "start_char_index": start, "end_char_index": end, "cited_text": cited_text}


def block_stop(index: int) -> Event:
    return ("content_block_stop", {"type": "content_block_stop", "index": index})


def message_delta(stop_reason: str = "end_turn", output_tokens: int = 20) -> Event:
    return ("message_delta", {"type": "message_delta",
                              "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                              "usage": {"output_tokens": output_tokens}})


def message_stop() -> Event:
    return ("message_stop", {"type": "message_stop"})


def ping() -> Event:
    return ("ping", {"type": "ping"})


def error_event(kind: str = "overloaded_error", message: str = "Overloaded") -> Event:
    return ("error", {"type": "error", "error": {"type": kind, "message": message}})


CITATION_PLACES = ("before", "between", "after")


def answer_events(blocks: list[tuple[str, list[dict[str, Any]]]], *, model: str = "claude-test",
                  chunk: int = 12, citations: str = "before", input_tokens: int = 100,
                  output_tokens: int = 20, cache_read: int = 0, cache_creation: int = 0,
                  stop_reason: str = "end_turn", block_stops: bool = True) -> list[Event]:
    """A whole stream: one text block per (text, citations) pair, text sent in `chunk`-sized
    deltas. `citations` says where each block's citations_delta events go among its text
    deltas: "before" the first, "between" the first and the rest, or "after" the last;
    each block ends with a content_block_stop unless `block_stops` is False."""
    events = [message_start(model, input_tokens=input_tokens, cache_read=cache_read,
                            cache_creation=cache_creation), ping()]
    for index, (text, cited) in enumerate(blocks):
        cites = [citations_delta(index, citation) for citation in cited]
        texts = [text_delta(index, text[i:i + chunk]) for i in range(0, len(text), chunk)]
        at = {"before": 0, "between": min(1, len(texts)), "after": len(texts)}[citations]
        events += [text_block_start(index), *texts[:at], *cites, *texts[at:]]
        events += [block_stop(index)] if block_stops else []
    return [*events, message_delta(stop_reason, output_tokens), message_stop()]


def echo_events(body: Any, *, model: str = "claude-test") -> list[Event]:
    """The default answer: quote the first sentence of the first search result, cited."""
    first = _first_search_result(body)
    if first is None or not first.get("content"):
        return answer_events([("I couldn't find that in the article.", [])], model=model)
    sentence = first["content"][0]["text"]
    citation = search_result_citation(first["source"], sentence, title=first.get("title"))
    return answer_events([("According to the article: ", []), (sentence, [citation])], model=model)


def search_results(body: Any) -> list[dict[str, Any]]:
    """The search_result blocks a Messages request carries, in order."""
    found = []
    for message in (body or {}).get("messages", []):
        content = message.get("content")
        found += [block for block in content if block.get("type") == "search_result"] if (
            isinstance(content, list)) else []
    return found


def _first_search_result(body: Any) -> dict[str, Any] | None:
    return next(iter(search_results(body)), None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients drop keep-alive connections and give up on hung replies; that is expected.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            received = time.perf_counter()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            with upstream._lock:
                upstream.requests.append(RecordedRequest(
                    "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                    received))
            if self.path.split("?")[0] != "/v1/messages":
                self._send_json(404, {"type": "error", "error": {
                    "type": "not_found_error", "message": f"no route {self.path}"}}, {})
                return
            reply = upstream._next_reply(body)
            with upstream._lock:
                upstream.in_flight += 1
                upstream.most_in_flight = max(upstream.most_in_flight, upstream.in_flight)
            try:
                self._answer(reply)
            finally:
                with upstream._lock:
                    upstream.in_flight -= 1

        def _answer(self, reply: Reply) -> None:
            if reply.hang:
                upstream._closing.wait()
                self.close_connection = True
                return
            if reply.delay:
                time.sleep(reply.delay)
            if reply.events is None:
                self._send_json(reply.status, reply.json, reply.headers)
            else:
                self._send_events(reply)

        def _send_json(self, status: int, payload: Any, headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self._headers(headers)
            self.end_headers()
            self.wfile.write(data)

        def _send_events(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self._headers(reply.headers)
            self.end_headers()
            for count, (name, data) in enumerate(reply.events or []):
                if reply.cut_after is not None and count >= reply.cut_after:
                    # No terminating chunk: the client sees the body end mid-message.
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if reply.stall_after is not None and count >= reply.stall_after:
                    upstream._closing.wait()
                    self.close_connection = True
                    return
                payload = data if isinstance(data, str) else json.dumps(data)
                self._chunk(f"event: {name}\ndata: {payload}\n\n".encode())
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _headers(self, headers: dict[str, str]) -> None:
            names = {name.lower() for name in headers}
            if "request-id" not in names:
                self.send_header("request-id", f"req_test_{next(_ids)}")
            for name, value in headers.items():
                self.send_header(name, value)

    return Handler
