"""OTLP spans into the store: through the file reader and through the receiver, against
decoding the same payloads with the protobuf library alone.

    python bench/otlp.py [--spans 20000] [--per-request 500] [--rate 2000] [--seconds 20] [--console child|both|only|none]

The spans are the openai-v2 trace's 30 (sample_logs/otel/openai-v2: the real openai client and
instrumentation, message content captured), copied with fresh ids to --spans, in export
requests of --per-request spans. Measured in one run:
- raw: ExportTraceServiceRequest.FromString over every payload (protobuf's upb decoder);
- raw + store: the same decode, then the columns the console keeps of each span (ids, times,
  model, tokens, status, the messages) inserted with sqlite3 executemany into a bare table,
  a transaction an export: what storage itself allows, the second baseline;
- file: the same spans as the Collector's file exporter writes them (one TracesData a line),
  through `ingest` (console.ingest.ingest_files) into a fresh SQLite store;
- receiver: the payloads POSTed (protobuf, keep-alive, two connections) to `llmops-console
  receive` in its own process, until the last is acknowledged (acknowledged = committed);
- console: the real console (App.run_test, 160x48) receiving --rate spans/s from a sender
  process for --seconds (as `--otlp` runs it: the receiver in a child process writing to the
  store the console follows; --console both: also in the console's own threads, as before):
  the event loop's lag (bench/live.py's 10 ms timer), the exports' round trips, 503s, and
  whether every span reached the requests view.
Targets (issue 18): file and receiver >= 0.5 of raw; at 2,000 spans/s every export accepted
and the loop lag p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import json
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

import numpy as np
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
TRACE = REPO / "sample_logs" / "otel" / "openai-v2" / "openai-v2.otlp.jsonl"

SENDER = r"""
import http.client, json, sys, threading, time
path, port, rate, seconds, per_request = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
data = open(path, "rb").read()
payloads, at = [], 0
while at < len(data):
    size = int.from_bytes(data[at:at + 4], "big"); payloads.append(data[at + 4:at + 4 + size]); at += 4 + size
statuses, trips = {}, []
def post(connection, body):
    started = time.monotonic()
    connection.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
    response = connection.getresponse(); response.read()
    trips.append(time.monotonic() - started)
    statuses[response.status] = statuses.get(response.status, 0) + 1
interval = per_request / rate if rate else 0.0
started, sent = time.monotonic(), 0
connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(2)]
threads = []
while sent < len(payloads) and (not seconds or time.monotonic() - started < seconds):
    due = started + sent * interval
    if due > time.monotonic():
        time.sleep(due - time.monotonic())
    connection = connections[sent % 2]
    worker = threading.Thread(target=post, args=(connection, payloads[sent]))
    if len(threads) >= 2:
        threads.pop(0).join()
    worker.start(); threads.append(worker); sent += 1
for worker in threads:
    worker.join()
print(json.dumps({"sent": sent, "seconds": time.monotonic() - started, "statuses": statuses, "trips": trips}))
"""


def make_payloads(total: int, per_request: int) -> list[bytes]:
    """ExportTraceServiceRequests of per_request spans, `total` spans in all, ids all fresh."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

    resource = scope = None
    template = []
    for line in TRACE.read_text(encoding="utf-8").splitlines():
        data = json_format.ParseDict(_base64_ids(json.loads(line)), TracesData())
        for resource_spans in data.resource_spans:
            resource = resource_spans.resource
            for scope_spans in resource_spans.scope_spans:
                scope = scope_spans.scope
                template.extend(scope_spans.spans)
    payloads = []
    for first in range(0, total, per_request):
        request = ExportTraceServiceRequest()
        scope_spans = request.resource_spans.add(resource=resource).scope_spans.add(scope=scope)
        for n in range(first, min(first + per_request, total)):
            span = copy.deepcopy(template[n % len(template)])
            span.trace_id = n.to_bytes(16, "big")
            span.span_id = (n + 1).to_bytes(8, "big")
            for kv in span.attributes:
                if kv.key == "gen_ai.response.id":
                    kv.value.string_value = f"bench-{n}"
            scope_spans.spans.append(span)
        payloads.append(request.SerializeToString())
    return payloads


def _base64_ids(node):
    if isinstance(node, dict):
        return {k: base64.b64encode(bytes.fromhex(v)).decode() if k in ("traceId", "spanId", "parentSpanId") else _base64_ids(v)
                for k, v in node.items()}  # fmt: skip
    if isinstance(node, list):
        return [_base64_ids(item) for item in node]
    return node


def raw_rate(payloads: list[bytes], spans: int, rounds: int = 3) -> float:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for payload in payloads:
            ExportTraceServiceRequest.FromString(payload)
        best = min(best, time.perf_counter() - started)
    return spans / best


STORE_COLUMNS = ("request_id", "ts", "latency_ms", "model", "provider", "prompt_id", "prompt_version", "status",
                 "error_type", "input_tokens", "output_tokens", "finish_reason", "trace_id", "request", "response")  # fmt: skip


def raw_store_rate(tmp: Path, payloads: list[bytes], spans: int) -> float:
    """Protobuf decode, then the columns the console keeps of these spans (ids, times, model,
    tokens, status, the messages) inserted with sqlite3 executemany into a bare table, one
    transaction an export (as the receiver commits): what storage itself allows."""
    import sqlite3

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    conn = sqlite3.connect(tmp / "raw.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"CREATE TABLE requests ({', '.join(STORE_COLUMNS)})")
    sql = f"INSERT INTO requests VALUES ({', '.join('?' * len(STORE_COLUMNS))})"
    started = time.perf_counter()
    for payload in payloads:
        rows = []
        for resource_spans in ExportTraceServiceRequest.FromString(payload).resource_spans:
            service = next((kv.value.string_value for kv in resource_spans.resource.attributes
                            if kv.key == "service.name"), "")  # fmt: skip
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attrs = {kv.key: kv.value for kv in span.attributes}
                    text = lambda key: attrs[key].string_value if key in attrs else None  # noqa: E731
                    number = lambda key: attrs[key].int_value if key in attrs else None  # noqa: E731
                    rows.append((
                        text("gen_ai.response.id") or f"{span.trace_id.hex()}-{span.span_id.hex()}",
                        span.start_time_unix_nano / 1e9, (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6,
                        text("gen_ai.request.model"), text("gen_ai.provider.name") or text("gen_ai.system"),
                        text("gen_ai.prompt.name") or service, text("gen_ai.prompt.version"),
                        "error" if span.status.code == 2 else "ok", text("error.type"),
                        number("gen_ai.usage.input_tokens"), number("gen_ai.usage.output_tokens"),
                        text("gen_ai.response.finish_reasons"), span.trace_id.hex(),
                        text("gen_ai.input.messages"), text("gen_ai.output.messages"),
                    ))  # fmt: skip
        with conn:
            conn.executemany(sql, rows)
    elapsed = time.perf_counter() - started
    assert conn.execute("SELECT count(*) FROM requests").fetchone()[0] == spans
    conn.close()
    return spans / elapsed


def file_rate(tmp: Path, payloads: list[bytes], spans: int) -> float:
    """The spans as the Collector's file exporter's JSON lines, through ingest into a new store."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from console.ingest import ingest_files
    from console.sources.otel.protobuf import request_to_dict
    from console.store import Store

    path = tmp / "traces.otlp.jsonl"
    with path.open("wb") as out:
        for payload in payloads:
            document = request_to_dict(ExportTraceServiceRequest.FromString(payload))
            out.write(orjson.dumps(document, default=str) + b"\n")
    with Store(f"sqlite:///{tmp / 'file.db'}") as store:
        started = time.perf_counter()
        totals = ingest_files(store, [str(path)], parallel=False)
        elapsed = time.perf_counter() - started
    assert totals.added == spans and not totals.rejected, (totals.added, totals.first_rejections)
    return spans / elapsed


def write_payloads(tmp: Path, payloads: list[bytes]) -> Path:
    path = tmp / "payloads.bin"
    path.write_bytes(b"".join(len(p).to_bytes(4, "big") + p for p in payloads))
    return path


def send(payload_file: Path, port: int, rate: float, seconds: float, per_request: int):
    return subprocess.Popen(
        [sys.executable, "-c", SENDER, str(payload_file), str(port), str(rate), str(seconds), str(per_request)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def receiver_rate(tmp: Path, payloads: list[bytes], spans: int, per_request: int) -> tuple[float, dict]:
    """The payloads posted as fast as acknowledged to `receive` in its own process."""
    from console.store import Store

    store_url = f"sqlite:///{tmp / 'received.db'}"
    receiver = subprocess.Popen([sys.executable, "-m", "console.cli", "receive", "--port", "0", "--store", store_url],
                                stdout=subprocess.PIPE, text=True, cwd=tmp)  # fmt: skip
    try:
        port = int(receiver.stdout.readline().split("/v1/traces")[0].rsplit(":", 1)[1])
        result = json.loads(send(write_payloads(tmp, payloads), port, 0, 0, per_request).communicate()[0])
    finally:
        receiver.terminate()
        receiver.wait(30)
    with Store(store_url) as store:
        stored = store.count()
    assert stored == spans and result["statuses"] == {"200": len(payloads)}, (stored, result["statuses"])
    return spans / result["seconds"], result


async def console_phase(
    tmp: Path, payloads: list[bytes], rate: float, seconds: float, per_request: int, in_process: bool = False
) -> dict:
    """The console receiving `rate` spans/s (as --otlp runs it: the receiver in a child process;
    in_process: in the console's own threads, as before): loop lag, round trips, rows shown."""
    from live import lag_timer  # bench/live.py's

    from console.analytics.prices import Pricer
    from console.commands.receive import open_receiver
    from console.commands.receiver_process import ReceiverProcess
    from console.config import Settings
    from console.ui.app import ConsoleApp

    store_url = f"sqlite:///{tmp / 'console.db'}"
    if in_process:  # as --otlp ran it before: the receiver's threads in the console's process
        receiver, inbox = open_receiver("127.0.0.1", 0, None, Settings())
        receiver.start()
        port = receiver.address[1]
    else:  # as --otlp runs it (console/ui/launch.py): a child process writing to the store
        receiver = inbox = ReceiverProcess("127.0.0.1", 0, None, store_url, None)
        port = int(receiver.endpoint.rsplit(":", 1)[1])
    wanted = min(len(payloads), int(rate * seconds / per_request))
    payload_file = write_payloads(tmp, payloads[:wanted])
    try:
        app = ConsoleApp(sources=[], store_url=store_url, otlp_inbox=inbox, pricer=Pricer({}))
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause(1.0)
            lags: array = array("d")
            timer = lag_timer(app, lags)
            sender = send(payload_file, port, rate, seconds, per_request)
            while sender.poll() is None:
                await asyncio.sleep(0.05)
            timer.stop()
            result = json.loads(sender.stdout.read())
            spans_sent = result["sent"] * per_request
            view, deadline = app.requests_view, time.monotonic() + 10
            while view.row_count < spans_sent and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            shown = view.row_count
    finally:
        receiver.close()
    trips = np.array(result["trips"]) * 1000
    return {
        "spans_sent": spans_sent, "spans_per_s": spans_sent / result["seconds"], "statuses": result["statuses"],
        "lag_p50": float(np.percentile(lags, 50)) * 1000, "lag_p99": float(np.percentile(lags, 99)) * 1000,
        "trip_p50": float(np.percentile(trips, 50)), "trip_p99": float(np.percentile(trips, 99)), "shown": shown,
    }  # fmt: skip


async def main(spans: int, per_request: int, rate: float, seconds: float, console: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="llmops-otlp-"))
    payloads = make_payloads(max(spans, int(rate * seconds) if console != "none" else 0), per_request)
    total = sum(min(per_request, spans - i) for i in range(0, spans, per_request))
    measured = payloads[: -(-spans // per_request)]
    if console == "only":
        await console_phases(tmp, payloads, rate, seconds, per_request, both=True)
        return _remove(tmp)
    print(f"{total:,} spans (the openai-v2 trace's, message content captured) in {len(measured)} exports of "
          f"{per_request}, {sum(map(len, measured)) / total:,.0f} protobuf bytes a span")  # fmt: skip
    raw = raw_rate(measured, total)
    print(f"raw: protobuf decode alone                       {raw:12,.0f} spans/s")
    raw_store = raw_store_rate(tmp, measured, total)
    print(f"raw + store: decode, sqlite3 executemany         {raw_store:12,.0f} spans/s  {raw_store / raw:.3f} of raw")
    by_file = file_rate(tmp, measured, total)
    print(f"file: ingest of the same spans as OTLP JSON lines {by_file:12,.0f} spans/s  {by_file / raw:.3f} of raw, "
          f"{by_file / raw_store:.3f} of raw + store")
    by_receiver, _ = receiver_rate(tmp, measured, total, per_request)
    print(f"receiver: POSTed to `receive`, acknowledged      {by_receiver:12,.0f} spans/s  {by_receiver / raw:.3f} of raw, "
          f"{by_receiver / raw_store:.3f} of raw + store")
    if console != "none":
        await console_phases(tmp, payloads, rate, seconds, per_request, both=console == "both")
    _remove(tmp)


async def console_phases(tmp: Path, payloads: list[bytes], rate: float, seconds: float, per_request: int,
                         both: bool) -> None:  # fmt: skip
    """The console phase as --otlp runs it (a child process), and with both the receiver in
    the console's own process too (as it ran before), on fresh stores."""
    for in_process in (False, True) if both else (False,):
        for path in tmp.glob("console.db*"):
            path.unlink()
        phase = await console_phase(tmp, payloads, rate, seconds, per_request, in_process)
        where = "receiver in the console's process" if in_process else "receiver in a child process"
        print(f"console ({where}) at {rate:,.0f} spans/s for {seconds:g} s: sent {phase['spans_sent']:,} "
              f"({phase['spans_per_s']:,.0f}/s), answers {phase['statuses']}, round trip p50 {phase['trip_p50']:,.0f} ms "
              f"p99 {phase['trip_p99']:,.0f} ms; loop lag p50 {phase['lag_p50']:.1f} ms p99 {phase['lag_p99']:.1f} ms; "
              f"{phase['shown']:,} rows in the requests view")  # fmt: skip


def _remove(tmp: Path) -> None:
    for path in tmp.iterdir():
        path.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--per-request", type=int, default=500)
    parser.add_argument("--rate", type=float, default=2_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--console", choices=("child", "both", "only", "none"), default="child",
                        help="the console phase as --otlp runs it (child), also with the receiver in the console's "
                        "process as before (both), only those two (only), or none (the file reader and the "
                        "receiver only)")  # fmt: skip
    args = parser.parse_args()
    asyncio.run(main(args.spans, args.per_request, args.rate, args.seconds, args.console))
