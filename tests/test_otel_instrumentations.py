"""Each instrumentation's committed trace, read through `ingest` and `report`, against its truth.

sample_logs/otel/<name>/ holds a trace made by the real openai client and the real
instrumentation (generate.py, requirements.txt) against the local stub, and the truth the
client saw of each of its 30 calls (harness.py). None of those packages is needed here: only
the committed files are read.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from conftest import REPO
from console.cli import app
from console.formatting import rfc3339
from console.store import Store

OTEL = REPO / "sample_logs" / "otel"
runner = CliRunner()
LATENCY_TOLERANCE_MS = 5.0

# What each source gives beyond requests, errors, tokens and models (README's table says the same).
PROVIDES = {
    "openai-v2": {"cached": False, "ttft": False, "user": False, "prompt_version": "v8"},
    "openllmetry": {"cached": True, "ttft": True, "user": True, "prompt_version": "v8"},
    "openinference": {"cached": True, "ttft": True, "user": True, "prompt_version": "v8", "prompt_id": "support-chat"},
    "openlit": {"cached": True, "ttft": False, "user": True, "prompt_version": "v8"},
    "logfire": {"cached": True, "ttft": False, "user": True, "prompt_version": "v8"},
}


def truth_of(name: str) -> list[dict]:
    return json.loads((OTEL / name / f"{name}.truth.json").read_text(encoding="utf-8"))


_INGESTED: dict[str, tuple] = {}
_INGEST_OUTPUT: dict[str, str] = {}  # what `ingest` printed, per instrumentation


def ingest(name: str, tmp_path_factory) -> tuple[str, list[dict], list, dict]:
    """(name, truth, records in call order, report --json) for one instrumentation's trace."""
    if name not in _INGESTED:
        store = str(tmp_path_factory.mktemp(name) / "db.sqlite")
        trace = OTEL / name / f"{name}.otlp.jsonl"
        result = runner.invoke(app, ["ingest", str(trace), "--store", store])
        assert result.exit_code == 0, result.output
        assert "30 rows added" in result.output, result.output
        _INGEST_OUTPUT[name] = result.output
        truth = truth_of(name)
        now = rfc3339(max(t["ts"] for t in truth) + 60)
        report = runner.invoke(app, ["report", "--store", store, "--since", "1h", "--json", "--now", now])
        assert report.exit_code == 0, report.output
        with Store(store) as opened:
            records = sorted(opened.recent(1000), key=lambda r: r.ts)
        _INGESTED[name] = (name, truth, records, json.loads(report.stdout.strip().splitlines()[-1]))
    return _INGESTED[name]


@pytest.fixture(params=sorted(PROVIDES))
def ingested(request, tmp_path_factory):
    return ingest(request.param, tmp_path_factory)


def test_thirty_requests_and_the_errors_the_client_saw(ingested):
    name, truth, records, report = ingested
    assert len(records) == len(truth) == 30
    assert (report["requests"], report["errors"]) == (30, 6)
    assert [r.status for r in records] == [t["status"] for t in truth]
    assert [r.error_type for r in records] == [t["error_type"] for t in truth]
    assert Counter(r.error_type for r in records if r.error_type) == {
        "openai.InternalServerError": 3, "openai.RateLimitError": 3,
    }  # fmt: skip


def test_models_tokens_and_latency(ingested):
    name, truth, records, _ = ingested
    for record, seen in zip(records, truth):
        where = f"{name} call {seen['n']} ({seen['kind']})"
        assert record.model == seen["model"], where
        if seen["status"] == "ok":
            assert record.response_model.startswith(seen["model"]), where
        if seen["input_tokens"] is None:  # no usage reached the client: none is stored as real
            assert (record.input_tokens, record.output_tokens) == (0, 0), where
            assert record.metadata["otel.usage_missing"] == ["input_tokens", "output_tokens"], where
        else:
            assert (record.input_tokens, record.output_tokens) == (seen["input_tokens"], seen["output_tokens"]), where
        if PROVIDES[name]["cached"] and seen["cached_input_tokens"] is not None:
            assert record.cached_input_tokens == seen["cached_input_tokens"], where
        assert record.latency_ms == pytest.approx(seen["latency_ms"], abs=LATENCY_TOLERANCE_MS), where
        assert record.latency_ms <= seen["latency_ms"] + 0.5, "a span sits inside the client's clock"


def test_time_to_first_token_where_the_source_has_it(ingested):
    name, truth, records, _ = ingested
    streams = [(r, t) for r, t in zip(records, truth) if t["ttft_ms"] is not None]
    assert len(streams) == 12
    for record, seen in streams:
        if PROVIDES[name]["ttft"]:
            assert record.ttft_ms == pytest.approx(seen["ttft_ms"], abs=LATENCY_TOLERANCE_MS), seen["n"]
        else:
            assert record.ttft_ms is None, "a source without a first-chunk time has no TTFT"


def test_prompt_user_session_and_finish_reason(ingested):
    name, truth, records, _ = ingested
    # OpenInference names no prompt id: the service's name stands in
    prompt_id = PROVIDES[name].get("prompt_id", "support-answer")
    assert {r.prompt_ref for r in records} == {f"{prompt_id}@{PROVIDES[name]['prompt_version']}"}
    if PROVIDES[name]["user"]:
        assert [r.user_id for r in records] == [f"u-{t['n'] % 4}" for t in truth]
        assert [r.session_id for r in records] == [f"s-{t['n'] // 5}" for t in truth]
    assert {r.finish_reason for r in records if r.status == "ok"} == {"stop"}, "decoded, never '[\"stop\"]'"
    assert all(r.output for r in records if r.status == "ok")


def test_openlit_estimates_are_kept_apart(tmp_path_factory):
    _, truth, records, report = ingest("openlit", tmp_path_factory)
    estimated = [r for r in records if "otel.tokens_estimated" in r.metadata]
    assert len(estimated) == sum(1 for t in truth if t["kind"] == "stream") == 6
    for record in estimated:
        assert (record.input_tokens, record.output_tokens) == (0, 0) and not record.cost_usd
        guess = record.metadata["otel.tokens_estimated"]
        assert guess["by"] == "openlit" and guess["input_tokens"] > 0 and guess["output_tokens"] > 0
        assert record.metadata["otel.estimated_cost_usd"] > 0
    real = [r for r in records if r.status == "ok" and "otel.tokens_estimated" not in r.metadata]
    assert report["spend"]["total_usd"] == pytest.approx(sum(r.cost_usd for r in real)), "estimates spend nothing"
    # its own "time to first token" is not one: never read as TTFT
    assert all("gen_ai.server.time_to_first_token" in r.metadata and r.ttft_ms is None for r in records if r.status == "ok")


def test_logfire_streams_are_one_request_each(tmp_path_factory):
    _, truth, records, _ = ingest("logfire", tmp_path_factory)
    streams = [r for r, t in zip(records, truth) if t["kind"].startswith("stream")]
    assert len(streams) == 12
    for record in streams:
        assert "otel.logfire_stream" not in record.metadata
        assert record.metadata["otel.stream_end_span_id"] != record.metadata["otel.span_id"]
        assert record.request_id.startswith("chatcmpl-stub-")


def test_a_call_that_reported_no_usage_is_unpriced_not_free(ingested):
    """A stream that did not ask for usage stores 0 tokens as a placeholder: priced, it would
    add $0 and the spend would look complete. It is unpriced (the report counts it apart) and
    ingest says why; openlit's estimate for it stays counted apart, as before."""
    name, truth, records, report = ingested
    no_usage = [r for r, t in zip(records, truth) if t["input_tokens"] is None and t["status"] == "ok"]
    assert no_usage, name  # each trace has streams that did not ask for usage
    estimated = [r for r in no_usage if "otel.tokens_estimated" in r.metadata]
    unpriced = [r for r in no_usage if r not in estimated]
    assert all(r.cost_usd is None for r in unpriced), name
    assert all(r.cost_usd == 0.0 for r in estimated), name
    assert report["spend"]["unpriced_requests"] == len(unpriced), name
    if unpriced:
        assert f"{len(unpriced):,} whose call reported no usage" in _INGEST_OUTPUT[name], _INGEST_OUTPUT[name]
    # a Logfire stream's end carries the usage its opening lacked: the joined record is not marked
    with_usage = [r for r, t in zip(records, truth) if t["input_tokens"] is not None]
    assert not [r.request_id for r in with_usage if "otel.usage_missing" in r.metadata], name
