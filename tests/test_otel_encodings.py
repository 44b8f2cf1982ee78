"""The file exporter's other encodings: pretty-printed JSON is read, `format: proto` refused once."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import REPO, make_record
from console.cli import app
from console.sources.detect import LogTail, detect_file_format

HERE = REPO / "sample_logs" / "otel" / "openai-v2"
JSONL, PRETTY, PROTO = HERE / "openai-v2.otlp.jsonl", HERE / "openai-v2.pretty.json", HERE / "openai-v2.otlp.proto"
runner = CliRunner()


def read_all(path, **options):
    with LogTail([path], watch=False, **options) as tail:
        batch = tail.read_available()
        return batch, tail.format_of(str(path))


def test_a_pretty_printed_file_is_read_document_by_document():
    expected, _ = read_all(JSONL)
    batch, fmt = read_all(PRETTY)
    assert fmt == "pretty" and batch.rejected == []
    assert len(batch.records) == 10
    assert [(r.request_id, r.ts, r.latency_ms, r.input_tokens, r.error_type) for r in batch.records] == [
        (r.request_id, r.ts, r.latency_ms, r.input_tokens, r.error_type) for r in expected.records[:10]
    ]
    assert detect_file_format(PRETTY) == "pretty"


@pytest.mark.parametrize("source_format", ["auto", "otlp", "jsonl"])
def test_the_collectors_proto_file_is_refused_once_naming_the_setting(source_format):
    batch, fmt = read_all(PROTO, source_format=source_format)
    assert batch.records == []
    (rejected,) = batch.rejected
    assert rejected.line_no == 1
    assert "`format: proto`" in rejected.reason and "set `format: json`" in rejected.reason
    assert fmt == "binary, refused"
    assert detect_file_format(PROTO) == "binary"


def test_ingest_says_so_in_one_line_and_fails(tmp_path):
    store = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = runner.invoke(app, ["ingest", str(PROTO), str(PRETTY), "--store", store])
    assert result.exit_code == 1, result.output  # a file refused whole is not a success (issue 18)
    assert "10 rows added" in result.output, "the other files are still stored"
    assert "1 line rejected" in result.output and "format: json" in result.output
    assert "more" not in result.output, "one rejection, not one per line"
    assert f"error: {PROTO}: a binary file" in " ".join(result.stderr.split())
    assert "set `format: json`" in result.stderr
    again = runner.invoke(app, ["ingest", str(PROTO), "--store", store])
    assert again.exit_code == 1 and "`format: proto`" in again.stderr, "a rerun does not forget it"


def test_a_compressed_file_alone_fails_ingest_too(tmp_path):
    import gzip

    path = tmp_path / "traces.json.gz"
    path.write_bytes(gzip.compress(JSONL.read_bytes()))
    result = runner.invoke(app, ["ingest", str(path), "--store", f"sqlite:///{tmp_path / 'db.sqlite'}"])
    assert result.exit_code == 1 and "gzip-compressed" in result.stderr
    assert "0 rows added" in result.output


def test_pretty_printed_records_and_a_broken_document(tmp_path):
    path = tmp_path / "records.json"
    records = [make_record(request_id="p-1"), make_record(request_id="p-2")]
    broken = '{\n  "ts": 1,\n  "model": \n}\n'
    path.write_text(json.dumps(records, indent=2) + "\n" + broken + json.dumps(make_record(request_id="p-3"), indent=4) + "\n")
    batch, fmt = read_all(path)
    assert fmt == "pretty"
    assert [r.request_id for r in batch.records] == ["p-1", "p-2", "p-3"]
    (rejected,) = batch.rejected
    assert "invalid JSON" in rejected.reason and rejected.line_no == len(json.dumps(records, indent=2).splitlines()) + 1


def test_gzip_is_refused_too(tmp_path):
    import gzip

    path = tmp_path / "traces.json.gz"
    path.write_bytes(gzip.compress(JSONL.read_bytes()))
    batch, _ = read_all(path)
    assert batch.records == [] and len(batch.rejected) == 1 and "gzip" in batch.rejected[0].reason


def test_a_broken_first_line_of_a_jsonl_file_is_not_taken_for_pretty_json(tmp_path, write_log):
    path = write_log("app.jsonl", [make_record(request_id="a"), make_record(request_id="b")])
    path.write_text('{"ts": [\n' + path.read_text())
    batch, fmt = read_all(path)
    assert fmt == "jsonl" and [r.request_id for r in batch.records] == ["a", "b"] and len(batch.rejected) == 1
