"""OTLP/HTTP straight from the app: POST /v1/traces, answered as the specification says.

The server is the standard library's ThreadingHTTPServer: a loopback receiver for one app or
a few needs no more, and it adds no dependency (an ASGI server would bring an event loop
and a framework into the console for one route). Each request is read and decoded in its
own thread (console.sources.otlp_http); its records are offered to the OtlpInbox, which
the ingest loop writes to the store like tailed lines. What a client hears:

- 200 and an ExportTraceServiceResponse (partial_success naming spans that could not be
  read, which are kept as rejected lines) once the export's records are in the store;
- 400 with the reason for a body that is not an export (nothing of it is stored), 413 for
  a body over the limit, 415 for another Content-Type or Content-Encoding, 411 without a
  Content-Length, 404 and 405 for other paths and methods;
- 401 without the token, when one is required: bound off loopback it always is (a token is
  generated unless given), compared in constant time (hmac.compare_digest);
- 503 with Retry-After when the inbox is full or the store has not taken the export within
  ACK_WAIT_S, and when more than MAX_CONCURRENT requests are being read: backpressure, never
  an unbounded queue. OTLP exporters retry on 503 after Retry-After.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from console.live.otlp_inbox import OtlpInbox
from console.sources.otlp import DEFAULT_OPTIONS, OtlpOptions
from console.sources.otlp_http import JSON, MAX_BODY_BYTES, PayloadRefused, export_response, media_type, read_export

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 4318  # OTLP/HTTP's registered port
TRACES_PATH = "/v1/traces"
ACK_WAIT_S = 10.0  # how long a request waits for its records to be committed before a 503
RETRY_AFTER_S = 1
MAX_CONCURRENT = 16  # requests read and decoded at once; more are answered 503 at once
READ_TIMEOUT_S = 30.0  # a client that stops sending its body is dropped


class ReceiverError(Exception):
    """The receiver cannot start (the port is taken, the address is not this machine's)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


class OtlpReceiver:
    """An OTLP/HTTP receiver bound to host:port (port 0: any free one), feeding `inbox`.

    Off loopback a token is required: `token`, else one generated (token_generated is then
    True: say it to the user). start() serves in a daemon thread; close() stops it."""

    def __init__(
        self, inbox: OtlpInbox, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, token: str | None = None,
        options: OtlpOptions = DEFAULT_OPTIONS, max_body_bytes: int = MAX_BODY_BYTES, ack_wait_s: float = ACK_WAIT_S,
    ) -> None:  # fmt: skip
        self.inbox, self.options = inbox, options
        self.max_body_bytes, self.ack_wait_s = max_body_bytes, ack_wait_s
        self.token_generated = token is None and not is_loopback(host)
        self.token = secrets.token_urlsafe(24) if self.token_generated else token
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        self._counting = threading.Lock()
        self.busy = 0  # exports answered 503 (the app resends them)
        self.refused = 0  # exports refused for good (400, 401, 404, 411, 413, 415: nothing stored)
        host = host.strip("[]")
        try:
            self._server = (_Server6 if ":" in host else _Server)((host, port), _Handler)
        except OSError as exc:
            raise ReceiverError(f"cannot receive OTLP on {host}:{port}: {exc.strerror or exc}") from None
        self._server.receiver = self
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def endpoint(self) -> str:
        """What an app sets OTEL_EXPORTER_OTLP_ENDPOINT to."""
        host, port = self.address
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def start(self) -> OtlpReceiver:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.2,), name="otlp-receiver", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def authorised(self, header: str | None) -> bool:
        if self.token is None:
            return True
        given = (header or "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), self.token.encode())

    def count_refusal(self, status: int) -> None:
        with self._counting:
            if status == 503:
                self.busy += 1
            else:
                self.refused += 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    receiver: OtlpReceiver

    def handle_error(self, request, client_address) -> None:  # a client gone mid-request: not ours to print
        pass


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK exporters reuse their connection
    server: _Server
    timeout = READ_TIMEOUT_S

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # the console's screen and `receive`'s output are not an access log

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self._body_read = False
        receiver = self.server.receiver
        if self.path.split("?", 1)[0] != TRACES_PATH:
            return self._refuse(404, f"only {TRACES_PATH} is served here (traces; not metrics or logs)")
        if not receiver.authorised(self.headers.get("Authorization")):
            return self._refuse(401, "a token is required: send 'Authorization: Bearer <token>'")
        if not receiver._slots.acquire(blocking=False):
            return self._refuse(503, "busy: too many exports at once", retry=True)
        try:
            self._export(receiver)
        finally:
            receiver._slots.release()

    def _export(self, receiver: OtlpReceiver) -> None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return self._refuse(411, "a Content-Length is required (chunked bodies are not read)")
        if int(length) > receiver.max_body_bytes:
            return self._refuse(413, f"the body is {int(length):,} bytes, over the {receiver.max_body_bytes:,} accepted")
        body = self.rfile.read(int(length))
        self._body_read = len(body) == int(length)
        try:
            kind = media_type(self.headers.get("Content-Type"))
            parsed = read_export(body, kind, self.headers.get("Content-Encoding"), receiver.options,
                                 receiver.max_body_bytes)  # fmt: skip
        except PayloadRefused as exc:
            return self._refuse(exc.status, exc.reason)
        export = receiver.inbox.offer(parsed, self.client_address[0])
        if export is None:
            return self._refuse(503, "busy: the receiver holds as many spans as it may until the store takes them",
                                retry=True)  # fmt: skip
        if not export.stored.wait(receiver.ack_wait_s):
            return self._refuse(503, "the store has not taken the spans yet; send them again (they are not doubled)",
                                retry=True)  # fmt: skip
        message = "; ".join(parsed.errors[:3]) + (f" (and {len(parsed.errors) - 3} more)" if len(parsed.errors) > 3 else "")
        self._answer(200, export_response(kind, len(parsed.errors), message), kind)

    def do_GET(self) -> None:  # noqa: N802
        self._body_read = "Content-Length" not in self.headers
        self._refuse(405, f"POST OTLP exports to {TRACES_PATH}")

    do_PUT = do_DELETE = do_PATCH = do_GET  # noqa: N815

    def _refuse(self, status: int, reason: str, retry: bool = False) -> None:
        self.server.receiver.count_refusal(status)
        if not self._body_read:  # its unread body would be taken for the next request
            self.close_connection = True
        headers = {"Retry-After": str(RETRY_AFTER_S)} if retry else {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        kind = JSON if "json" in (self.headers.get("Content-Type") or "") else "text/plain"
        body = (json.dumps({"code": status, "message": reason}) if kind == JSON else reason + "\n").encode()
        self._answer(status, body, f"{kind}; charset=utf-8", headers)

    def _answer(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
