"""Logfire streams running at the same time, joined each to its own opening (issue 18, point 1).

sample_logs/otel/logfire/generate_concurrent.py made the trace with the real openai client and
Logfire 5.4.0: pairs of streams whose calls both returned before either was read (two
threads, each in its own request span, the same request; two threads outside any span,
different questions), and asyncio.gather of two identical streams in one request span. Each
span is on its own line. The join once took "the opening that ended last before the reading
began", which crossed the pairs read in creation order; a crossed pair is caught here by its
start, 20-35 ms away from the client's."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from conftest import REPO
from console.cli import app
from console.store import Store

LOGFIRE = REPO / "sample_logs" / "otel" / "logfire"
runner = CliRunner()


def test_concurrent_streams_are_each_joined_to_their_own_opening(tmp_path):
    truth = {t["response_id"]: t for t in json.loads((LOGFIRE / "logfire-concurrent.truth.json").read_text())}
    store = str(tmp_path / "db.sqlite")
    result = runner.invoke(app, ["ingest", str(LOGFIRE / "logfire-concurrent.otlp.jsonl"), "--store", store])
    assert result.exit_code == 0, result.output
    with Store(store) as opened:
        records = opened.recent(100)
    assert sorted(r.request_id for r in records) == sorted(truth)
    for record in records:
        seen = truth[record.request_id]
        label = f"{seen['scenario']} {seen['call']} {record.request_id}"
        assert "otel.logfire_stream" not in record.metadata, label
        assert "otel.logfire_call" not in record.metadata, label
        assert abs(record.ts - seen["ts"]) * 1000 < 5, label  # its own opening's start
        # the log is written as the last chunk is read: never after the client saw the end
        assert record.ts + record.latency_ms / 1000 <= seen["ts"] + seen["latency_ms"] / 1000 + 0.001, label
        assert record.latency_ms > seen["latency_ms"] - 15, label
        assert (record.input_tokens, record.output_tokens) == (seen["input_tokens"], seen["output_tokens"]), label
