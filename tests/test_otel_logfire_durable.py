"""A Logfire stream opening waiting for its end is kept in the store (issue 18).

Logfire 5.4.0 writes a stream as an opening span and, once the stream was read, a log with
its usage; the console joins them (console/sources/otel/logfire.py). Between the two, the
opening is kept in the store's stream_openings, written with what was read with it:

- the receiver: a real `llmops-console receive` answers the opening's export (sent by the
  OpenTelemetry SDK's OTLP/HTTP exporter) only once it is kept; killed with SIGKILL, its
  restart joins it with the end sent afterwards, once; one kept past STREAM_WAIT_S is stored
  alone;
- a one-shot `ingest` of a file cut between the halves stores nothing of the stream and says
  so; the rerun on the completed file stores the joined request exactly once, and a rejected
  line after the opening is reported once;
- a pretty-printed document cut mid-way is read whole on the rerun, and OTLP lines mixed
  into a JSONL file are joined and rejected once across reruns.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import REPO
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from test_faults_kill import env
from test_otel_conventions import one_span_a_line
from test_postgres import postgres_schema_url
from typer.testing import CliRunner

from console.cli import app
from console.ingest import ingest_files
from console.live.otlp_inbox import RECEIVED_PATH, OtlpInbox
from console.sources.detect import LogTail
from console.sources.otel.logfire import StreamJoiner
from console.sources.otlp import parse_traces_line
from console.store import Store
from console.store.stream_openings import held_openings

LOGFIRE = REPO / "sample_logs" / "otel" / "logfire" / "logfire.otlp.jsonl"
MARK = "otel.logfire_stream"
runner = CliRunner()

pytestmark = pytest.mark.resilience


def summary(records) -> list[tuple]:
    return sorted((r.request_id, round(r.ts, 6), round(r.latency_ms, 3), r.input_tokens, r.output_tokens, r.status)
                  for r in records)  # fmt: skip


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return one_span_a_line(LOGFIRE)


@pytest.fixture(scope="module")
def expected(lines, tmp_path_factory) -> list[tuple]:
    whole = tmp_path_factory.mktemp("whole") / "whole.jsonl"
    whole.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with LogTail([whole], watch=False) as tail:
        records = tail.read_available().records
    assert len(records) == 30
    return summary(records)


def first_cut(lines: list[str]) -> int:
    """The first k such that lines[:k] leave a stream's opening waiting for its end."""
    for k in range(1, len(lines)):
        with_end = "streaming response" in lines[k]
        if with_end:
            return k
    raise AssertionError("no stream in the trace")


def count(db, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - the tests' own names


# -- the receiver -------------------------------------------------------------------------------


def _value(value: dict):
    (kind, inner), = value.items()
    if kind == "intValue":
        return int(inner)
    if kind == "doubleValue":
        return float(inner)
    if kind == "arrayValue":
        return tuple(_value(item) for item in inner.get("values", []))
    return inner


def sdk_spans(line: str) -> list[ReadableSpan]:
    """A committed trace line's spans as the SDK's ReadableSpans, for its OTLP/HTTP exporter."""
    out = []
    for resource_spans in json.loads(line)["resourceSpans"]:
        resource = Resource({a["key"]: _value(a["value"]) for a in resource_spans["resource"]["attributes"]})
        for scope_spans in resource_spans["scopeSpans"]:
            scope = InstrumentationScope(scope_spans["scope"]["name"], scope_spans["scope"].get("version"))
            for span in scope_spans["spans"]:
                trace_id = int(span["traceId"], 16)
                context = SpanContext(trace_id, int(span["spanId"], 16), False, TraceFlags(1))
                parent = span.get("parentSpanId")
                status = span.get("status") or {}
                out.append(ReadableSpan(
                    name=span["name"], context=context, resource=resource, instrumentation_scope=scope,
                    parent=SpanContext(trace_id, int(parent, 16), False, TraceFlags(1)) if parent else None,
                    attributes={a["key"]: _value(a["value"]) for a in span.get("attributes", [])},
                    events=[Event(e["name"], {a["key"]: _value(a["value"]) for a in e.get("attributes", [])},
                                  int(e["timeUnixNano"])) for e in span.get("events", [])],
                    kind=SpanKind(span.get("kind", 1) - 1), start_time=int(span["startTimeUnixNano"]),
                    end_time=int(span["endTimeUnixNano"]),
                    status=Status(StatusCode(status.get("code", 0)), status.get("message")),
                ))  # fmt: skip
    return out


def start_receive(store_url: str, cwd) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "receive", "--port", "0", "--store", store_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env(),
    )  # fmt: skip
    first = process.stdout.readline()
    assert first.startswith("receiving OTLP/HTTP on http://127.0.0.1:"), first + process.stderr.read()
    endpoint = process.stdout.readline().strip().removeprefix("apps set OTEL_EXPORTER_OTLP_ENDPOINT=")
    return process, endpoint


def export(endpoint: str, lines: list[str]) -> None:
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=10)
    try:
        for line in lines:
            assert exporter.export(sdk_spans(line)) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")
def test_receive_killed_while_an_opening_waits_joins_it_with_the_end_after_the_restart(tmp_path, lines, expected):
    cut = first_cut(lines)
    db = tmp_path / "received.db"
    store_url = f"sqlite:///{db}"
    process, endpoint = start_receive(store_url, tmp_path)
    try:
        export(endpoint, lines[:cut])  # each export answered 200: stored, or the opening kept
        assert count(db, "requests") == cut - 1 and count(db, "stream_openings") == 1
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    process, endpoint = start_receive(store_url, tmp_path)
    try:
        export(endpoint, lines[cut:])
        export(endpoint, lines[cut - 1:cut + 1])  # the exporter sends the pair again: nothing doubled
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    with Store(store_url) as store:
        records = store.recent(1000)
    assert summary(records) == expected, "every request once, each stream joined with its real latency"
    assert not [r for r in records if MARK in r.metadata]
    assert count(db, "stream_openings") == 0


def test_an_opening_kept_past_its_wait_is_stored_alone_once(tmp_path, lines):
    cut = first_cut(lines)
    store_url = f"sqlite:///{tmp_path / 'received.db'}"
    joiner = StreamJoiner()
    parse_traces_line(lines[cut - 1], joiner=joiner)
    (record,) = joiner.pending
    with Store(store_url) as store:
        inbox = OtlpInbox()
        stale = time.time() - 61
        batch = inbox.read_available()
        batch.held.append((RECEIVED_PATH, record, stale))  # as a receiver killed 61 s ago left it
        store.write(batch)
        assert [(r.request_id, read_at) for r, read_at in held_openings(store)[RECEIVED_PATH]] == [
            (record.request_id, stale)]
        log = tmp_path / "other.jsonl"
        log.write_text("", encoding="utf-8")
        with LogTail([log], watch=False, held=held_openings(store)) as tail:  # an ingest meanwhile
            assert not tail.read_available().released and tail.streams_waiting == 0, "not a file's"
        inbox = OtlpInbox()  # the restart
        inbox.restore(held_openings(store).get(RECEIVED_PATH, []))
        batch = inbox.read_available()
        (alone,) = batch.records
        assert "not read to its end" in alone.metadata[MARK] and batch.released == [(RECEIVED_PATH, record.request_id)]
        store.write(batch)
        assert held_openings(store) == {}
        assert not inbox.read_available(), "stored once"
        assert [r.request_id for r in store.recent(10)] == [record.request_id]


# -- one-shot ingest of a cut file ------------------------------------------------------------


def ingest(log, store_url):
    result = runner.invoke(app, ["ingest", str(log), "--store", store_url])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_file_cut_between_the_halves_keeps_the_opening_and_the_rerun_joins_it_once(tmp_path, lines, expected):
    cut = first_cut(lines)
    log, db = tmp_path / "trace.jsonl", tmp_path / "store.db"
    store_url = f"sqlite:///{db}"
    log.write_text("".join(line + "\n" for line in lines[:cut]) + "{not json\n", encoding="utf-8")
    output = ingest(log, store_url)
    assert "1 Logfire stream opening(s) wait for the log of their stream's end" in " ".join(output.split())
    assert count(db, "requests") == cut - 1 and count(db, "stream_openings") == 1
    assert count(db, "rejected_lines") == 1
    with log.open("a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines[cut:]))
    output = ingest(log, store_url)
    assert "wait for the log" not in output
    with Store(store_url) as store:
        records = store.recent(1000)
    assert summary(records) == expected and not [r for r in records if MARK in r.metadata]
    assert count(db, "stream_openings") == 0
    assert count(db, "rejected_lines") == 1, "the bad line after the opening is reported once"
    assert "0 rows added" in ingest(log, store_url)


def test_the_same_on_postgresql(tmp_path, lines, expected):
    with postgres_schema_url() as url:  # skips without LLMOPS_TEST_POSTGRES_URL
        cut = first_cut(lines)
        log = tmp_path / "trace.jsonl"
        log.write_text("".join(line + "\n" for line in lines[:cut]), encoding="utf-8")
        with Store(url) as store:
            ingest_files(store, [str(log)], parallel=False)
            assert [r.request_id for r, _ in held_openings(store)[str(log)]]
        with log.open("a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines[cut:]))
        with Store(url) as store:
            totals = ingest_files(store, [str(log)], parallel=False)
            assert totals.streams_waiting == 0 and held_openings(store) == {}
            assert summary(store.recent(1000)) == expected


def test_the_writer_process_keeps_the_opening_too(tmp_path, lines, expected):
    """A big SQLite load is written by a child process (PreparedBatch): the openings go with it."""
    cut = first_cut(lines)
    log, db = tmp_path / "trace.jsonl", tmp_path / "store.db"
    log.write_text("".join(line + "\n" for line in lines[:cut]), encoding="utf-8")
    with Store(f"sqlite:///{db}") as store:
        ingest_files(store, [str(log)], parallel=True)
    assert count(db, "stream_openings") == 1
    with log.open("a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines[cut:]))
    with Store(f"sqlite:///{db}") as store:
        ingest_files(store, [str(log)], parallel=True)
        assert summary(store.recent(1000)) == expected
    assert count(db, "stream_openings") == 0


# -- pretty-printed documents and OTLP lines in a JSONL file ----------------------------------


def test_a_pretty_printed_document_cut_mid_way_is_read_whole_on_the_rerun(tmp_path, expected):
    documents = [json.dumps(json.loads(line), indent=2) for line in LOGFIRE.read_text(encoding="utf-8").splitlines()]
    assert len(documents) > 2
    text = "\n".join(documents) + "\n"
    log, db = tmp_path / "trace.json", tmp_path / "store.db"
    store_url = f"sqlite:///{db}"
    middle = len("\n".join(documents[:2])) + 1 + len(documents[2]) // 2  # in the third document
    log.write_text(text[:middle], encoding="utf-8")
    ingest(log, store_url)
    stored_first = count(db, "requests")
    with sqlite3.connect(db) as conn:
        (offset,) = conn.execute('SELECT "offset" FROM source_offsets').fetchone()
    assert offset == len("\n".join(documents[:2]).encode()) + 1, "held at the third document's first line"
    log.write_text(text, encoding="utf-8")
    ingest(log, store_url)
    with Store(store_url) as store:
        records = store.recent(1000)
    assert 0 < stored_first < 30 and summary(records) == expected
    assert count(db, "rejected_lines") == 0 and count(db, "stream_openings") == 0


def test_otlp_lines_in_a_jsonl_file_are_joined_and_rejected_once_across_reruns(tmp_path, lines, expected):
    cut = first_cut(lines)
    v1 = json.dumps({"request_id": "v1-1", "ts": "2026-12-06T10:00:00Z", "model": "gpt-4o-mini", "prompt_id": "p",
                     "prompt_version": "v1", "input_tokens": 1, "output_tokens": 1, "latency_ms": 10, "status": "ok"})  # fmt: skip
    log, db = tmp_path / "mixed.jsonl", tmp_path / "store.db"
    store_url = f"sqlite:///{db}"
    log.write_text(v1 + "\n" + "".join(line + "\n" for line in lines[:cut]) + "not json\n", encoding="utf-8")
    ingest(log, store_url)
    assert count(db, "stream_openings") == 1 and count(db, "rejected_lines") == 1
    with log.open("a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines[cut:]))
    ingest(log, store_url)
    with Store(store_url) as store:
        records = [r for r in store.recent(1000) if r.request_id != "v1-1"]
        assert store.get("v1-1") is not None
    assert summary(records) == expected
    assert count(db, "rejected_lines") == 1 and count(db, "stream_openings") == 0
