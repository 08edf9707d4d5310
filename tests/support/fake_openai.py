"""A scriptable OpenAI-compatible HTTP server on loopback, for driving the real `openai` client.

It speaks the `/v1/chat/completions` wire protocol as the client reads it: a JSON request in,
a JSON `chat.completion` object out (or an error status with its headers). Each test scripts
the replies in order and reads back the requests the server received.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer: status, headers, raw body, and how long to stall first."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: Mapping[str, str]
    body: dict[str, Any]

    def message_text(self) -> str:
        """Every message's content joined: what the model would have read."""
        return "\n".join(str(message.get("content")) for message in self.body["messages"])


def completion(
    content: str | None,
    *,
    refusal: str | None = None,
    prompt_tokens: int = 120,
    completion_tokens: int = 30,
    finish_reason: str = "stop",
    model: str = "fake-model",
) -> Reply:
    payload = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    return Reply(body=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})


def answer(action: str, reasoning: str = "signals look fine", **extra: Any) -> Reply:
    """A well-formed judge answer as the model's JSON content."""
    return completion(json.dumps({"action": action, "reasoning": reasoning, **extra}))


def error(status: int, headers: Mapping[str, str] | None = None, message: str = "error") -> Reply:
    body = json.dumps({"error": {"message": message, "type": "server_error", "code": None}})
    return Reply(
        status=status,
        body=body.encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class FakeOpenAI:
    """The server plus its script; `base_url` is what the client is pointed at."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        # response_format types answered with HTTP 500 as llama-cpp-python's server does,
        # before and without using up a scripted reply.
        self.refused_formats: set[str] = set()
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval keeps `stop()` (and so each test's teardown) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # wake handlers stalled on a delay so shutdown does not wait
        self._server.shutdown()
        self._server.server_close()

    def _next_reply(self, body: Mapping[str, Any]) -> Reply:
        requested = (body.get("response_format") or {}).get("type")
        if requested in self.refused_formats:
            return error(500, message=f"response_format type {requested!r} is not supported")
        with self._lock:
            if self._script:
                return self._script.pop(0)
        return error(500, message="the fake server has no scripted reply left")

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake._record(ReceivedRequest(self.path, dict(self.headers.items()), body))
                reply = fake._next_reply(body)
                if reply.delay_s and fake._released.wait(reply.delay_s):
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): exactly what a slow server sees

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output to what the tests assert on

        return Handler


def running_fake() -> Iterator[FakeOpenAI]:
    """Generator body for a pytest fixture: a started server, stopped afterwards."""
    fake = FakeOpenAI().start()
    try:
        yield fake
    finally:
        fake.stop()
