"""A local stub of the OpenAI chat completions API (standard library only).

Used to generate the OTLP sample with the real `openai` client, and by the tests of
console/emit.py. It answers POST /v1/chat/completions on 127.0.0.1 with:

- a plain completion (usage with cached tokens in prompt_tokens_details);
- a stream of server-sent events when "stream": true (usage in a last chunk only when
  stream_options.include_usage is set, without cached-token details, as real servers do);
- an HTTP error: ``server.fail_next(status=500)`` (or POST /stub/fail-next from another
  process) makes the next request fail.

Answers are deterministic but for the ids: they count up after a prefix random per server
("chatcmpl-stub-1f2e3d4c-0001"), so two runs never share a request id. Token counts are
derived from the words of the messages.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERS = {
    "password": "Open Settings, then Security, then Reset password. A link arrives by email.",
    "refund": "Refunds go back to the original card within 5 to 10 business days.",
    "invoice": "Invoices are under Billing, then History; each one downloads as a PDF.",
}
DEFAULT_ANSWER = "Thanks for asking. A support agent will follow up on this shortly."


def answer_for(messages: list[dict]) -> str:
    text = " ".join(str(m.get("content", "")) for m in messages).lower()
    for word, answer in ANSWERS.items():
        if word in text:
            return answer
    return DEFAULT_ANSWER


def count_tokens(text: str) -> int:
    return max(1, round(len(text.split()) * 1.3))


class _Handler(BaseHTTPRequestHandler):
    server: StubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.path.rstrip("/").endswith("/stub/fail-next"):  # for a client in another process
            self.server.fail_next(int(body.get("status", 500)))
            return self._json(200, {"ok": True})
        self.server.requests.append(body)
        if self.path.rstrip("/").endswith("/embeddings"):
            return self._embeddings(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
        status = self.server.take_failure()
        if status:
            return self._json(status, {"error": {"message": "The server had an error while processing your request.",
                                                 "type": "server_error", "code": None}})
        time.sleep(self.server.delay)
        number = self.server.next_number()
        messages = body.get("messages") or []
        answer = answer_for(messages)
        prompt_tokens = sum(count_tokens(str(m.get("content", ""))) for m in messages) + 8
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": count_tokens(answer),
                 "total_tokens": prompt_tokens + count_tokens(answer)}
        base = {"id": f"chatcmpl-stub-{self.server.id_prefix}-{number:04d}", "created": 1_763_640_000 + number,
                "model": self.server.response_model(body.get("model", "")), "system_fingerprint": "fp_stub"}
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return self._stream(base, answer, usage if include_usage else None)
        usage["prompt_tokens_details"] = {"cached_tokens": self.server.cached_tokens(prompt_tokens)}
        usage["completion_tokens_details"] = {"reasoning_tokens": 0}
        choice = {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop",
                  "logprobs": None}
        tools = body.get("tools") or []
        if tools and not any(m.get("role") == "tool" for m in messages):  # call the first tool once
            name = tools[0].get("function", {}).get("name", "tool")
            call = {"id": f"call_stub_{number:04d}", "type": "function",
                    "function": {"name": name, "arguments": json.dumps({"order_id": "A-17"})}}
            choice = {"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                      "finish_reason": "tool_calls", "logprobs": None}
        self._json(200, {**base, "object": "chat.completion", "choices": [choice], "usage": usage})

    def _embeddings(self, body: dict) -> None:
        """POST /v1/embeddings: a 3-dimension vector per input, usage counting its words."""
        status = self.server.take_failure()
        if status:
            return self._json(status, {"error": {"message": "The server had an error while processing your request.",
                                                 "type": "server_error", "code": None}})
        time.sleep(self.server.delay)
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else list(texts or [])
        data = [{"object": "embedding", "index": i, "embedding": [0.25, -0.5, float(i)]} for i in range(len(texts))]
        tokens = sum(count_tokens(str(text)) for text in texts)
        self._json(200, {"object": "list", "model": body.get("model", ""), "data": data,
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, base: dict, answer: str, usage: dict | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        words = answer.split(" ")
        deltas = [{"role": "assistant", "content": ""}] + [
            {"content": word if i == 0 else " " + word} for i, word in enumerate(words)
        ]
        chunk = {**base, "object": "chat.completion.chunk"}
        for i, delta in enumerate(deltas):
            finish = "stop" if i == len(deltas) - 1 else None
            self._event({**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            time.sleep(self.server.chunk_delay)
        if usage is not None:
            self._event({**chunk, "choices": [], "usage": usage})
        self._send_chunk(b"data: [DONE]\n\n")
        self._send_chunk(b"")

    def _event(self, payload: dict) -> None:
        self._send_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


class StubServer(ThreadingHTTPServer):
    """`with StubServer() as server:` serves on 127.0.0.1 at `server.base_url` until exit."""

    daemon_threads = True

    def __init__(self, *, delay: float = 0.03, chunk_delay: float = 0.005) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay, self.chunk_delay = delay, chunk_delay
        self.id_prefix = secrets.token_hex(4)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._number = 0
        self._failures: list[int] = []
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def take_failure(self) -> int:
        with self._lock:
            return self._failures.pop(0) if self._failures else 0

    def next_number(self) -> int:
        with self._lock:
            self._number += 1
            return self._number

    @staticmethod
    def response_model(model: str) -> str:
        return {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4o": "gpt-4o-2024-08-06"}.get(model, model)

    @staticmethod
    def cached_tokens(prompt_tokens: int) -> int:
        return prompt_tokens // 2 // 16 * 16  # providers cache whole blocks of the prompt

    def __enter__(self) -> StubServer:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="openai-stub", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()
