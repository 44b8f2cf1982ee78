"""OpenInference's embedding calls are requests, priced, as the GenAI conventions' are.

sample_logs/otel/openinference/embeddings.otlp.jsonl was written by the real
openinference-instrumentation-openai (0.1.66) around the real `openai` client's
embeddings.create against the local stub (generate_embeddings.py); embeddings.truth.json is
what the client saw. Before, every EMBEDDING span was skipped like a chain or tool span: an
app's embedding spend never reached the store, where opentelemetry-instrumentation-openai-v2's
spans of the same calls did.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from conftest import REPO
from console.cli import app
from console.formatting import rfc3339
from console.sources.otlp import parse_traces_line
from console.store import Store

FOLDER = REPO / "sample_logs" / "otel" / "openinference"
TRACE = FOLDER / "embeddings.otlp.jsonl"
runner = CliRunner()


def test_embedding_spans_are_read_as_the_client_saw_them():
    truth = json.loads((FOLDER / "embeddings.truth.json").read_text(encoding="utf-8"))
    records, skipped = [], 0
    for line in TRACE.read_text(encoding="utf-8").splitlines():
        out = parse_traces_line(line)
        assert out.errors == []
        records += out.records
        skipped += out.skipped
    assert skipped == 0
    records.sort(key=lambda r: r.ts)
    assert [(r.model, r.status, r.error_type, r.input_tokens or None, r.output_tokens) for r in records] == [
        (t["model"], t["status"], t.get("error_type"), t["input_tokens"], 0) for t in truth]
    for record, seen in zip(records, truth, strict=True):
        assert 0 < record.latency_ms <= seen["latency_ms"]  # the span lies inside the client's clock
    one, many, failed, tagged = records
    assert [m["content"] for m in many.input] == ["Refunds take 5 to 10 days.", "Invoices are under Billing.",
                                                  "Reset links expire in an hour."]
    assert failed.metadata["otel.usage_missing"] == ["input_tokens"]
    assert "usage_missing" not in json.dumps(one.metadata)  # an embedding has no output tokens to miss
    assert (tagged.prompt_ref, tagged.user_id, tagged.session_id) == ("support-chat@v2", "u-1", "s-1")
    for record in records:  # the vectors are not kept, their count is
        assert not any(".vector" in key or key == "output.value" for key in record.metadata)
    assert many.metadata["otel.embedding_vectors_dropped"] == 3


def test_embedding_spend_reaches_the_report(tmp_path):
    store = str(tmp_path / "db.sqlite")
    result = runner.invoke(app, ["ingest", str(TRACE), "--store", store])
    assert result.exit_code == 0, result.output
    assert "4 rows added" in result.output, result.output
    with Store(store) as opened:
        newest = max(r.ts for r in opened.recent(10))
    report = runner.invoke(app, ["report", "--store", store, "--since", "1h", "--json", "--now", rfc3339(newest + 60)])
    assert report.exit_code == 0, report.output
    figures = json.loads(report.stdout.strip().splitlines()[-1])
    assert (figures["requests"], figures["errors"]) == (4, 1)
    spend = figures["spend"]
    assert spend["unpriced_requests"] == 0
    # text-embedding-3-small at $0.02 per million input tokens: 8 + 21 + 8 tokens
    assert abs(spend["by_model"]["text-embedding-3-small"] - 37 * 0.02 / 1e6) < 1e-12
