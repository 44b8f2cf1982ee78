"""The instrumentations' quirks, case by case: Logfire's stream halves across lines, one error
type per failure, OpenInference without a model name, finish reasons as JSON strings."""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from console.sources.detect import LogTail
from console.sources.otel.errors import canonical_error_type
from console.sources.otlp import parse_traces_line

LOGFIRE = REPO / "sample_logs" / "otel" / "logfire" / "logfire.otlp.jsonl"


def one_span_a_line(path) -> list[str]:
    """The same spans, each in its own TracesData line (as a Collector batching by time may cut them)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        for resource_spans in data["resourceSpans"]:
            for scope_spans in resource_spans["scopeSpans"]:
                for span in scope_spans["spans"]:
                    lines.append(json.dumps({"resourceSpans": [{**resource_spans, "scopeSpans": [
                        {**scope_spans, "spans": [span]}]}]}))  # fmt: skip
    return lines


def test_logfire_stream_halves_are_joined_across_lines(tmp_path):
    whole = LogTail([LOGFIRE], watch=False)
    with whole:
        expected = sorted(whole.read_available().records, key=lambda r: r.ts)
    split = tmp_path / "split.jsonl"
    lines = one_span_a_line(LOGFIRE)
    assert len(lines) == 42, "12 streams of two spans, 18 calls of one"
    split.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with LogTail([split], watch=False, max_lines=5) as tail:  # batches that cut pairs apart
        records = []
        while batch := tail.read_available():
            records += batch.records
            if not batch.lines_read:
                break
    records.sort(key=lambda r: r.ts)
    assert len(records) == 30
    assert [(r.request_id, r.ts, r.latency_ms, r.input_tokens) for r in records] == [
        (r.request_id, r.ts, r.latency_ms, r.input_tokens) for r in expected
    ]


def shifted(line: str, seconds: float, span_id: str) -> str:
    """The line's span moved `seconds` later, with another span id."""
    data = json.loads(line)
    (span,) = data["resourceSpans"][0]["scopeSpans"][0]["spans"]
    for key in ("startTimeUnixNano", "endTimeUnixNano"):
        span[key] = str(int(span[key]) + int(seconds * 1e9))
    span["spanId"] = span_id
    return json.dumps(data)


def test_a_stream_opening_without_its_end_waits_until_the_files_later_spans_show_its_wait(tmp_path):
    """A one-shot read leaves an opening without its end waiting (the end may not be written
    yet: the store keeps it aside); a span written over STREAM_WAIT_S after it ended shows the
    stream was not read to its end, and the opening is stored alone, said so."""
    lines = one_span_a_line(LOGFIRE)
    openings = [line for line in lines if '"streaming response' not in line and "chatcmpl-stub" not in line
                and '"code":2' not in line]  # fmt: skip
    assert openings, "the trace has stream openings"
    path = tmp_path / "cut.jsonl"
    path.write_text(openings[0] + "\n", encoding="utf-8")
    with LogTail([path], watch=False) as tail:
        batch = tail.read_available()
        assert not batch.records and tail.streams_waiting == 1
        ((source, opening, _read_at),) = batch.held
        assert source == str(path) and opening.metadata["otel.logfire_stream"] == "opening"
    later = next(line for line in lines if "chatcmpl-stub" in line and '"streaming response' not in line)
    path.write_text(openings[0] + "\n" + shifted(later, 30, "00000000000000a1") + "\n", encoding="utf-8")
    with LogTail([path], watch=False) as tail:
        assert len(tail.read_available().records) == 1, "30 s later: it may still be read"
        assert tail.streams_waiting == 1
    path.write_text(openings[0] + "\n" + shifted(later, 61, "00000000000000a2") + "\n", encoding="utf-8")
    with LogTail([path], watch=False) as tail:
        batch = tail.read_available()
    (record,) = [r for r in batch.records if "otel.logfire_stream" in r.metadata]
    assert "not read to its end" in record.metadata["otel.logfire_stream"]
    assert record.status == "ok" and record.input_tokens == 0 and not batch.held and tail.streams_waiting == 0


@pytest.mark.parametrize(("error_type", "exception_type", "provider", "expected"), [
    ("<class 'openai.RateLimitError'>", None, "openai", "openai.RateLimitError"),  # openai-v2
    ("RateLimitError", "openai.RateLimitError", "openai", "openai.RateLimitError"),  # OpenLLMetry
    (None, "openai.RateLimitError", "openai", "openai.RateLimitError"),  # OpenInference, Logfire's call span
    ("RateLimitError", None, "openai", "openai.RateLimitError"),  # Logfire's stream log
    ("RateLimitError", None, "anthropic", "anthropic.RateLimitError"),
    ("500", "openai.InternalServerError", "openai", "openai.InternalServerError"),
    ("_OTHER", "TimeoutError", None, "TimeoutError"),
    ("RateLimitError", None, None, "RateLimitError"),  # module unknown: as written
    ("timeout", None, "openai", "timeout"),
    ("ValueError", "builtins.KeyError", None, "ValueError"),  # two different failures: error.type wins
])  # fmt: skip
def test_one_canonical_error_type_per_failure(error_type, exception_type, provider, expected):
    assert canonical_error_type(error_type, exception_type, provider) == expected


def attr(key, value):
    kind = "intValue" if isinstance(value, int) else "stringValue"
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


def line_with(*attributes, scope="test", status=None, events=()) -> str:
    span = {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "ChatCompletion", "startTimeUnixNano": "1000000000",
            "endTimeUnixNano": "1250000000", "attributes": [attr(k, v) for k, v in attributes],
            "status": status or {}, "events": list(events)}  # fmt: skip
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [attr("service.name", "svc")]},
                                          "scopeSpans": [{"scope": {"name": scope}, "spans": [span]}]}]})  # fmt: skip


def test_openinference_failed_call_takes_the_model_from_the_invocation_parameters():
    exception = {"name": "exception", "timeUnixNano": "1200000000",
                 "attributes": [attr("exception.type", "openai.RateLimitError")]}  # fmt: skip
    parsed = parse_traces_line(line_with(
        ("openinference.span.kind", "LLM"), ("llm.system", "openai"),
        ("llm.invocation_parameters", '{"model": "gpt-4o", "temperature": 0.2}'),
        ("llm.input_messages.0.message.role", "user"), ("llm.input_messages.0.message.content", "Hi"),
        ("llm.prompt_template.version", "v3"), ("session.id", "s1"), ("user.id", "u1"),
        status={"code": 2, "message": "RateLimitError: Error code: 429"}, events=[exception],
    ))  # fmt: skip
    (record,) = parsed.records
    assert (record.model, record.response_model, record.provider) == ("gpt-4o", None, "openai")
    assert (record.status, record.error_type) == ("error", "openai.RateLimitError")
    assert (record.prompt_version, record.session_id, record.user_id) == ("v3", "s1", "u1")
    assert record.input == [{"role": "user", "content": "Hi"}]
    assert record.latency_ms == 250.0


def test_openinference_spans_other_than_llm_are_skipped():
    parsed = parse_traces_line(line_with(("openinference.span.kind", "CHAIN"), ("llm.model_name", "gpt-4o")))
    assert (parsed.records, parsed.skipped) == ([], 1)


def test_openinference_cached_reasoning_and_first_token():
    first_token = {"name": "First Token Stream Event", "timeUnixNano": "1040000000"}
    (record,) = parse_traces_line(line_with(
        ("openinference.span.kind", "LLM"), ("llm.model_name", "o3-mini-2025-01-31"),
        ("llm.token_count.prompt", 100), ("llm.token_count.completion", 50),
        ("llm.token_count.prompt_details.cache_read", 64), ("llm.token_count.completion_details.reasoning", 30),
        ("llm.output_messages.0.message.role", "assistant"),
        ("llm.output_messages.0.message.contents.0.message_content.text", "Hello"),
        events=[first_token],
    )).records  # fmt: skip
    assert (record.model, record.input_tokens, record.output_tokens) == ("o3-mini-2025-01-31", 100, 50)
    assert (record.cached_input_tokens, record.reasoning_tokens, record.ttft_ms) == (64, 30, 40.0)
    assert record.output == "Hello"


def test_finish_reasons_written_as_a_json_string_are_decoded():
    (record,) = parse_traces_line(line_with(
        ("gen_ai.request.model", "gpt-4o"), ("gen_ai.response.finish_reasons", '["length"]'),
    )).records  # fmt: skip
    assert record.finish_reason == "length"


def test_the_otel_table_of_llmops_toml_chooses_the_attributes(tmp_path):
    from console.config import load_settings
    from console.sources.otlp import OtlpOptions

    config = tmp_path / "llmops.toml"
    config.write_text('[otel]\nprompt_id_keys = ["app.prompt"]\nuser_keys = ["app.customer"]\nenvironment_keys = []\n')
    options = OtlpOptions.from_settings(load_settings(config).otel)
    line = line_with(("gen_ai.request.model", "gpt-4o"), ("app.prompt", "triage"), ("gen_ai.prompt.name", "ignored"),
                     ("app.customer", "c-9"), ("user.id", "not-read"), ("deployment.environment.name", "prod"))  # fmt: skip
    (record,) = parse_traces_line(line, options).records
    assert (record.prompt_id, record.user_id, record.environment) == ("triage", "c-9", None)
    assert record.metadata["user.id"] == "not-read", "an attribute not configured is kept in metadata"
    (default,) = parse_traces_line(line).records
    assert (default.prompt_id, default.user_id, default.environment) == ("ignored", "not-read", "prod")
