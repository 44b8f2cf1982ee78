"""OTLP/HTTP straight from the app: the real OpenTelemetry SDK exporter posting to `receive`
and to the receiver the ingest loop writes from; refusals with reasons; backpressure; tokens."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from conftest import REPO
from console.ingest import IngestTotals, RetryingWriter, tail_and_write
from console.live.otlp_inbox import OtlpInbox
from console.live.otlp_receiver import OtlpReceiver
from console.sources.detect import LogTail
from console.store import Store

OPENAI_V2 = REPO / "sample_logs" / "otel" / "openai-v2" / "openai-v2.otlp.jsonl"


def send_spans(endpoint: str, count: int = 3, *, headers=None, compression=Compression.Gzip, model="gpt-4o-mini"):
    """`count` GenAI spans (and as many other spans) through the SDK's OTLP/HTTP exporter."""
    provider = TracerProvider(resource=Resource.create({"service.name": "support-chat", "gen_ai.prompt.name": "answer"}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", headers=headers, compression=compression, timeout=10)
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # each span exported as it ends
    tracer = provider.get_tracer("test")
    for i in range(count):
        with tracer.start_as_current_span("invoke_agent support"):
            with tracer.start_as_current_span(f"chat {model}") as span:
                span.set_attributes({"gen_ai.operation.name": "chat", "gen_ai.request.model": model,
                                     "gen_ai.usage.input_tokens": 100 + i, "gen_ai.usage.output_tokens": 20,
                                     "gen_ai.response.id": f"chatcmpl-{model}-{i}", "gen_ai.prompt.version": "v8"})  # fmt: skip
    provider.shutdown()


def rows(store_url):
    with Store(store_url) as opened:
        return sorted(opened.recent(1000), key=lambda r: r.request_id)


@contextmanager
def receiving(tmp_path, host="127.0.0.1", **options):
    """A receiver on a free port and the ingest loop writing what it takes into a store."""
    store_url = f"sqlite:///{tmp_path / 'received.db'}"
    inbox = OtlpInbox(**{k: options.pop(k) for k in ("max_spans",) if k in options})
    stop = threading.Event()
    with Store(store_url) as store, OtlpReceiver(inbox, host, 0, **options) as receiver:
        def written(done):
            inbox.settle(done)

        loop = threading.Thread(target=tail_and_write, args=(inbox, RetryingWriter(store, stop.is_set), stop.is_set,
                                                             IngestTotals(), written))  # fmt: skip
        loop.start()
        try:
            yield receiver, store_url
        finally:
            stop.set()
            loop.join(5)


def post(receiver, body: bytes, content_type="application/x-protobuf", headers=None):
    host, port = receiver.address
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    connection.request("POST", "/v1/traces", body, {"Content-Type": content_type, **(headers or {})})
    response = connection.getresponse()
    answer = response.status, response.read().decode("utf-8", "replace"), dict(response.getheaders())
    connection.close()
    return answer


def test_the_sdk_exporter_posts_to_receive_and_the_spans_are_stored(tmp_path):
    """The headless command as a user runs it: the SDK's exporter gets its 200 once the spans are stored."""
    store_url = f"sqlite:///{tmp_path / 'app.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "receive", "--port", "0", "--store", store_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        first = process.stdout.readline()
        assert first.startswith("receiving OTLP/HTTP on http://127.0.0.1:"), first + process.stderr.read()
        endpoint = process.stdout.readline().strip().removeprefix("apps set OTEL_EXPORTER_OTLP_ENDPOINT=")
        send_spans(endpoint, 3)
        stored = rows(store_url)  # no wait: an acknowledged export is in the store
        assert [(r.request_id, r.model, r.input_tokens, r.prompt_id, r.prompt_version) for r in stored] == [
            (f"chatcmpl-gpt-4o-mini-{i}", "gpt-4o-mini", 100 + i, "answer", "v8") for i in range(3)
        ]
        assert all(r.cost_usd for r in stored), "priced as ingest prices"
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "stopped: 3 rows added, 0 spans rejected, 3 spans skipped" in out


def test_protobuf_json_and_gzip_give_what_the_file_gives(tmp_path):
    """The real openai-v2 trace posted as OTLP/JSON (plain and gzip) reads as ingesting the file does."""
    with LogTail([OPENAI_V2], watch=False) as tail:
        expected = sorted((r.request_id, r.latency_ms, r.input_tokens, r.status, r.error_type) for r in tail.read_available().records)
    lines = OPENAI_V2.read_bytes().splitlines()
    with receiving(tmp_path) as (receiver, store_url):
        for number, line in enumerate(lines):
            gzipped = number % 2
            status, text, _ = post(receiver, gzip.compress(line) if gzipped else line, "application/json",
                                   {"Content-Encoding": "gzip"} if gzipped else None)  # fmt: skip
            assert (status, json.loads(text)) == (200, {}), text
        got = sorted((r.request_id, r.latency_ms, r.input_tokens, r.status, r.error_type) for r in rows(store_url))
    assert len(got) == 30 and got == expected


def test_malformed_exports_are_refused_with_the_reason_and_nothing_stored(tmp_path):
    with receiving(tmp_path, max_body_bytes=64 * 1024) as (receiver, store_url):
        send_spans(receiver.endpoint, 2)
        cases = [
            (b"\x0a\xff\xff\xff", "application/x-protobuf", {}, 400, "not a protobuf ExportTraceServiceRequest"),
            (b'{"resourceSpans": "x"}', "application/json", {}, 400, "repeated field resourceSpans"),
            (b'{"resourceSpans": [', "application/json", {}, 400, "invalid JSON"),
            (b"[]", "application/json", {}, 400, "not a JSON object"),
            (b"{}", "text/plain", {}, 415, "send application/x-protobuf or application/json"),
            (b"{}", "application/json", {"Content-Encoding": "br"}, 415, "Content-Encoding 'br'"),
            (b"not gzip", "application/json", {"Content-Encoding": "gzip"}, 400, "gzip body is corrupt"),
            (b"x" * (65 * 1024), "application/json", {}, 413, "over the 65,536 accepted"),
            (gzip.compress(b" " * (1024 * 1024)), "application/json", {"Content-Encoding": "gzip"}, 413,
             "over 65,536 bytes once decompressed"),
        ]  # fmt: skip
        for body, content_type, headers, status, reason in cases:
            got_status, text, _ = post(receiver, body, content_type, headers)
            assert (got_status, reason in text) == (status, True), (reason, text)
        trace = json.loads(OPENAI_V2.read_text().splitlines()[0])
        trace["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = "not an id!"
        status, text, _ = post(receiver, json.dumps(trace).encode(), "application/json")
        assert status == 400 and "neither hex nor base64" in text
        assert len(rows(store_url)) == 2, "only the good export was stored"


def test_an_unreadable_span_is_a_partial_success_and_a_rejected_line(tmp_path):
    trace = json.loads(OPENAI_V2.read_text().splitlines()[0])
    span = trace["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["startTimeUnixNano"] = "0"
    with receiving(tmp_path) as (receiver, store_url):
        status, text, _ = post(receiver, json.dumps(trace).encode(), "application/json")
        assert status == 200
        partial = json.loads(text)["partialSuccess"]
        assert partial["rejectedSpans"] == "1" and "startTimeUnixNano is missing" in partial["errorMessage"]
        with Store(store_url) as opened:
            (rejected,) = opened.rejected_lines(10)
    assert rejected.path == "otlp:/v1/traces" and "startTimeUnixNano is missing" in rejected.reason


def test_a_burst_meets_backpressure_not_an_unbounded_queue(tmp_path):
    """Nothing writes this inbox: the first export waits for the store and is told to retry,
    the next finds the inbox full and is refused at once, each with Retry-After."""
    inbox = OtlpInbox(max_spans=1)
    line = OPENAI_V2.read_bytes().splitlines()[0]
    with OtlpReceiver(inbox, "127.0.0.1", 0, ack_wait_s=0.2) as receiver:
        waited = post(receiver, line, "application/json")
        busy = post(receiver, line, "application/json")
    assert waited[0] == 503 and "store has not taken" in waited[1] and waited[2]["Retry-After"] == "1"
    assert busy[0] == 503 and "busy" in busy[1] and busy[2]["Retry-After"] == "1"
    assert inbox.pending == 1 and inbox.refused_busy == 1


def test_off_loopback_a_token_is_required(tmp_path):
    with receiving(tmp_path, host="0.0.0.0") as (receiver, store_url):
        assert receiver.token_generated and len(receiver.token) >= 32
        line = OPENAI_V2.read_bytes().splitlines()[0]
        status, text, headers = post(receiver, line, "application/json")
        assert status == 401 and "token is required" in text and headers["WWW-Authenticate"] == "Bearer"
        assert post(receiver, line, "application/json", {"Authorization": "Bearer wrong"})[0] == 401
        assert rows(store_url) == []
        port = receiver.address[1]
        send_spans(f"http://127.0.0.1:{port}", 1, headers={"Authorization": f"Bearer {receiver.token}"})
        assert len(rows(store_url)) == 1


def test_a_given_token_is_required_on_loopback_too(tmp_path):
    with receiving(tmp_path, token="s3cret") as (receiver, store_url):
        assert not receiver.token_generated
        assert post(receiver, b"{}", "application/json")[0] == 401
        assert post(receiver, b"{}", "application/json", {"Authorization": "Bearer s3cret"})[0] == 200


def test_receive_off_loopback_prints_a_token_and_a_taken_port_is_an_error(tmp_path):
    env = {**os.environ, "LLMOPS_OTLP_TOKEN": ""}
    env.pop("LLMOPS_OTLP_TOKEN")
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "receive", "--host", "0.0.0.0", "--port", "0",
         "--store", f"sqlite:///{tmp_path / 'db.sqlite'}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        lines = [process.stdout.readline() for _ in range(4)]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    assert lines[2].startswith("token (required: the receiver is not on loopback): ")
    assert lines[3].startswith("apps set OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20")
    with OtlpReceiver(OtlpInbox(), "127.0.0.1", 0) as taken:
        result = subprocess.run(
            [sys.executable, "-m", "console.cli", "receive", "--port", str(taken.address[1]),
             "--store", f"sqlite:///{tmp_path / 'db.sqlite'}"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 2 and "cannot receive OTLP on 127.0.0.1" in result.stderr


@pytest.mark.parametrize("path, method, status", [("/v1/metrics", "POST", 404), ("/v1/traces", "GET", 405)])
def test_other_paths_and_methods(tmp_path, path, method, status):
    with OtlpReceiver(OtlpInbox(), "127.0.0.1", 0) as receiver:
        connection = http.client.HTTPConnection("127.0.0.1", receiver.address[1], timeout=10)
        connection.request(method, path, b"{}" if method == "POST" else None, {"Content-Type": "application/json"})
        assert connection.getresponse().status == status
        connection.close()


def test_ipv6_loopback_needs_no_token_and_any_address_does():
    try:
        with OtlpReceiver(OtlpInbox(), "[::1]", 0) as receiver:
            assert not receiver.token_generated and receiver.endpoint.startswith("http://[::1]:")
        with OtlpReceiver(OtlpInbox(), "::", 0) as receiver:
            assert receiver.token_generated
    except Exception as exc:  # noqa: BLE001 - a machine without IPv6
        if "Address family" in str(exc) or "assign requested address" in str(exc):
            pytest.skip(f"no IPv6 here: {exc}")
        raise
