"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions API, scripted per test.

`POST /v1/chat/completions` answers with the next scripted `Reply` (JSON, or SSE chunks when the
request has `"stream": true`); `POST /v1/embeddings` answers with small deterministic vectors.
Every request is recorded (path, headers, body) so a test can assert on what the server
received. A reply can be an HTTP error with headers (429 + Retry-After), or be delayed (to make
the client time out). Use the `llm_server` fixture: `llm_server.reply("text")`, then point the
product at `llm_server.url`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before anything is sent
    chunk_size: int = 12  # characters per SSE chunk when streamed
    stall_after: int | None = None  # streamed: stop sending (hang) after this many chunks


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """Everything the request carried as text (messages or embedding inputs)."""
        if "messages" in self.body:
            return "\n".join(str(m.get("content", "")) for m in self.body["messages"])
        inp = self.body.get("input", "")
        return "\n".join(inp) if isinstance(inp, list) else str(inp)


class ScriptedLLMServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        """`host`: the address to listen on (a non-loopback address of this machine makes it a
        server the product must treat as not on this machine)."""
        self.script: deque[Reply] = deque()
        self.default: Reply | None = None  # answered when the script is empty
        self.requests: list[Received] = []
        self._closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                server.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                try:
                    if self.path.endswith("/embeddings"):
                        server._embeddings(self, body)
                    elif self.path.endswith("/chat/completions"):
                        server._chat(self, body)
                    else:
                        server._send_json(self, 404, {"error": {"message": f"no route {self.path}"}})
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to do

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    # -- scripting ------------------------------------------------------------------------------
    def reply(self, content: str | dict | None = "", **kw: Any) -> ScriptedLLMServer:
        text = json.dumps(content, ensure_ascii=False) if isinstance(content, dict) else (content or "")
        self.script.append(Reply(content=text, **kw))
        return self

    def always(self, content: str | dict = "", **kw: Any) -> ScriptedLLMServer:
        """The reply to give whenever the script is empty."""
        text = json.dumps(content, ensure_ascii=False) if isinstance(content, dict) else content
        self.default = Reply(content=text, **kw)
        return self

    def error(self, status: int, headers: dict[str, str] | None = None, message: str = "scripted error") -> ScriptedLLMServer:
        self.script.append(Reply(content=message, status=status, headers=headers or {}))
        return self

    @property
    def chat_requests(self) -> list[Received]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def all_text(self) -> str:
        return "\n".join(r.text for r in self.requests)

    def close(self) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- answering ------------------------------------------------------------------------------
    def _next(self) -> Reply:
        if not self.script:
            return self.default or Reply(content="no scripted reply left for this request", status=500)
        return self.script.popleft()

    def _send_json(self, h: BaseHTTPRequestHandler, status: int, data: dict, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        h.send_response(status)
        h.send_header("content-type", "application/json")
        h.send_header("content-length", str(len(payload)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(payload)

    def _chat(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        reply = self._next()
        if reply.delay and self._closing.wait(reply.delay):
            return
        if reply.status != 200:
            self._send_json(h, reply.status, {"error": {"message": reply.content, "type": "scripted"}}, reply.headers)
            return
        model = body.get("model", "scripted")
        if not body.get("stream"):
            self._send_json(h, 200, {
                "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.content},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }, reply.headers)
            return
        h.send_response(200)
        h.send_header("content-type", "text/event-stream")
        h.send_header("cache-control", "no-cache")
        h.send_header("connection", "close")
        h.end_headers()
        pieces = [reply.content[i : i + reply.chunk_size] for i in range(0, len(reply.content), reply.chunk_size)]
        base = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
        first = {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
        h.wfile.write(f"data: {json.dumps(first)}\n\n".encode())
        for n, piece in enumerate(pieces):
            if reply.stall_after is not None and n >= reply.stall_after:
                h.wfile.flush()
                self._closing.wait(30)
                return
            chunk = {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            h.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            h.wfile.flush()
        last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        h.wfile.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())
        h.wfile.flush()
        h.close_connection = True

    def _embeddings(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        inputs = body.get("input", [])
        inputs = inputs if isinstance(inputs, list) else [inputs]
        data = []
        for i, text in enumerate(inputs):
            digest = hashlib.sha256(str(text).encode()).digest()
            data.append({"object": "embedding", "index": i, "embedding": [b / 255 for b in digest[:8]]})
        self._send_json(h, 200, {"object": "list", "data": data, "model": body.get("model", "scripted"),
                                 "usage": {"prompt_tokens": 1, "total_tokens": 1}})


def point_at(monkeypatch: pytest.MonkeyPatch, server: ScriptedLLMServer, retries: int = 0,
             timeout: float = 30) -> ScriptedLLMServer:
    """Configure the product (through its environment variables) to use `server`. The timeout is
    long enough that a reply is never late on a busy machine (a 1 s one failed under load); a test
    of a timeout sets a short one (`timeout=1`, or DEROGATION_LLM_TIMEOUT) with a reply delayed
    well past it."""
    monkeypatch.setenv("DEROGATION_LLM", "openai-compatible")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("DEROGATION_LLM_MODEL", "scripted-model")
    monkeypatch.setenv("DEROGATION_LLM_TIMEOUT", f"{timeout:g}")
    monkeypatch.setenv("DEROGATION_LLM_MAX_RETRIES", str(retries))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return server


@pytest.fixture
def llm_server():
    server = ScriptedLLMServer()
    yield server
    server.close()


def machine_address() -> str | None:
    """An address of this machine that is not a loopback one (None when it has none): a server
    listening there is, for the product, a server elsewhere. No packet is sent to find it."""
    import ipaddress
    import socket

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # a documentation address: only the route is looked up
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if ipaddress.ip_address(address).is_loopback or address == "0.0.0.0" else address


@pytest.fixture
def remote_llm_server():
    """The scripted server on a non-loopback address of this machine: not 'local' for the product."""
    address = machine_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to serve from")
    server = ScriptedLLMServer(address)
    yield server
    server.close()
