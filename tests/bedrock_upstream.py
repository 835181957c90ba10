"""A stand-in for Amazon Bedrock's runtime API on loopback, for driving the real SDK.

`BedrockUpstream` is `Upstream` (same `Reply` queue, same default cited echo)
speaking Bedrock instead of the Messages API:

- POST /model/{model id}/invoke answers with the whole message as JSON;
- POST /model/{model id}/invoke-with-response-stream answers in the AWS
  event-stream binary framing (`application/vnd.amazon.eventstream`), each
  Messages API event base64-encoded in a `chunk` frame, every frame split over
  two HTTP chunks so the client's decoder has to reassemble it;
- an `exception_frame(...)` among a reply's events goes out as a Bedrock
  exception frame, which is how Bedrock reports a failure mid-stream;
- `bedrock_error(...)` is an HTTP error in Bedrock's shape: `{"message": ...}`
  with the exception named in `x-amzn-ErrorType`.

Responses carry `x-amzn-RequestId`, as Bedrock's do. Point the SDK here with
ANTHROPIC_BEDROCK_BASE_URL.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from upstream import Event, RecordedRequest, Reply, Upstream, _handler_for

STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"
# The credentials the tests sign with; one key for every test: the SDK caches its AWS session.
ACCESS_KEY = "AKIATESTBEDROCK00001"
SECRET_KEY = "test-secret-not-real"
REGION = "eu-central-1"
_STRING = 7  # the event-stream header value type for a UTF-8 string


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude (total length, headers length, CRC32),
    headers, payload, then the CRC32 of everything before it."""
    encoded = b""
    for name, value in headers.items():
        name_bytes, value_bytes = name.encode(), value.encode()
        encoded += struct.pack(">B", len(name_bytes)) + name_bytes
        encoded += struct.pack(">BH", _STRING, len(value_bytes)) + value_bytes
    prelude = struct.pack(">II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def chunk_frame(event: Any) -> bytes:
    """A Messages API event as Bedrock streams it: JSON, base64, in a `chunk` event."""
    data = event if isinstance(event, str) else json.dumps(event)
    body = {"bytes": base64.b64encode(data.encode()).decode(), "p": "abcdefghij"[: len(data) % 10]}
    headers = {":event-type": "chunk", ":content-type": "application/json",
               ":message-type": "event"}
    return encode_frame(headers, json.dumps(body).encode())


def exception_frame(kind: str = "throttlingException", message: str = "Too many requests") -> Event:
    """An event for a `Reply`'s list that goes out as a Bedrock exception frame."""
    return ("bedrock-exception", {"kind": kind, "message": message})


def bedrock_error(status: int, kind: str, message: str,
                  request_id: str = "bedrock-req-error") -> Reply:
    """An HTTP error in Bedrock's shape."""
    headers = {"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/",
               "x-amzn-RequestId": request_id}
    return Reply(status=status, json={"message": message}, headers=headers)


def message_from_events(events: list[Event]) -> dict[str, Any]:
    """The whole message a stream of events adds up to, as `invoke` returns it."""
    message: dict[str, Any] = {}
    for _, data in events:
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "message_start":
            message = json.loads(json.dumps(data["message"]))
        elif kind == "content_block_start":
            message["content"].append(dict(data["content_block"], citations=[]))
        elif kind == "content_block_delta":
            block, delta = message["content"][data["index"]], data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "citations_delta":
                block["citations"].append(delta["citation"])
        elif kind == "message_delta":
            message.update(data["delta"])
            message["usage"].update(data["usage"])
    return message


class BedrockUpstream(Upstream):
    """Context manager: ``with BedrockUpstream() as up: ... up.base_url ... up.requests``."""

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _bedrock_handler_for(self, _handler_for(self))


def _bedrock_handler_for(
    upstream: BedrockUpstream, base: type[BaseHTTPRequestHandler]
) -> type[BaseHTTPRequestHandler]:
    class Handler(base):  # type: ignore[misc, valid-type]
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            body = json.loads(raw) if raw else None
            with upstream._lock:
                upstream.requests.append(RecordedRequest(
                    "POST", unquote(self.path), {k.lower(): v for k, v in self.headers.items()},
                    body))
            parts = unquote(self.path.split("?")[0]).split("/")
            if len(parts) != 4 or parts[1] != "model" or parts[3] not in (
                    "invoke", "invoke-with-response-stream"):
                self._send_json(404, {"message": f"no route {self.path}"},
                                {"x-amzn-ErrorType": "UnknownOperationException"})
                return
            reply = upstream._next_reply(body)
            if reply.hang:
                upstream._closing.wait()
                self.close_connection = True
                return
            if reply.delay:
                time.sleep(reply.delay)
            if reply.events is None:
                self._send_json(reply.status, reply.json, reply.headers)
            elif parts[3] == "invoke":
                self._send_json(reply.status, message_from_events(reply.events), reply.headers)
            else:
                self._send_frames(reply)

        def _send_frames(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("content-type", STREAM_CONTENT_TYPE)
            self.send_header("x-amzn-bedrock-content-type", "application/json")
            self.send_header("transfer-encoding", "chunked")
            self._headers(reply.headers)
            self.end_headers()
            for count, (name, data) in enumerate(reply.events or []):
                if reply.cut_after is not None and count >= reply.cut_after:
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if name == "bedrock-exception":
                    frame = encode_frame(
                        {":exception-type": data["kind"], ":content-type": "application/json",
                         ":message-type": "exception"},
                        json.dumps({"message": data["message"]}).encode())
                else:
                    frame = chunk_frame(data)
                half = len(frame) // 2
                self._chunk(frame[:half])
                self._chunk(frame[half:])
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _headers(self, headers: dict[str, str]) -> None:
            if "x-amzn-requestid" not in {name.lower() for name in headers}:
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            for name, value in headers.items():
                self.send_header(name, value)

    return Handler
