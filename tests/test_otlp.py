"""OTLP JSON: the committed real trace, lenient reading of imperfect spans, the tail by content."""

from __future__ import annotations

import base64
import json

import pytest

from conftest import REPO, line_of, make_record
from console.records import RecordError
from console.sources.detect import LogTail, detect_file_format, detect_format
from console.sources.otlp import OtlpOptions, clean_error_type, parse_traces_line

SAMPLE = REPO / "sample_logs" / "otel" / "support-chat.otlp.jsonl"
TRACE = "5b8efff798038103d269b633813fc60c"
START = 1_763_640_000_000_000_000  # 2025-11-20T12:00:00Z in nanoseconds


def attr(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}}}
    return {"key": key, "value": {"stringValue": value}}


def span(span_id="eee19b7ec3c1b174", duration_ms=1200, status=None, events=None, **attributes):
    out = {
        "traceId": TRACE,
        "spanId": span_id,
        "name": "chat gpt-4o-mini",
        "kind": 3,
        "startTimeUnixNano": str(START),
        "endTimeUnixNano": str(START + duration_ms * 1_000_000),
        "attributes": [attr(k.replace("__", "."), v) for k, v in attributes.items()],
        "status": status or {},
    }
    if events:
        out["events"] = events
    return out


def traces(*spans, resource=None) -> str:
    resource = resource or {"service.name": "support-chat"}
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [attr(k, v) for k, v in resource.items()]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}],
    }]})  # fmt: skip


CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"}


def one(line: str, options: OtlpOptions | None = None):
    parsed = parse_traces_line(line, options) if options else parse_traces_line(line)
    assert not parsed.errors, parsed.errors
    assert len(parsed.records) == 1
    return parsed.records[0]


def chat_span(**attributes):
    return span(**{k.replace(".", "__"): v for k, v in {**CHAT, **attributes}.items()})


# -- the committed sample: the real openai client, instrumented, against the stub -----------------


def raw_genai_spans():
    out = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        for resource_spans in json.loads(line)["resourceSpans"]:
            for scope_spans in resource_spans["scopeSpans"]:
                out += [s for s in scope_spans["spans"] if s["name"].startswith("chat ")]
    return out


def test_the_committed_sample_parses_to_the_expected_records():
    with LogTail([SAMPLE], watch=False) as tail:
        batch = tail.read_available()
        assert tail.format_of(str(SAMPLE)) == "otlp"
        assert tail.total_spans_skipped == 6, "the app's own server spans are not model calls"
    assert batch.rejected == []
    records = batch.records
    assert len(records) == 6
    assert [r.prompt_ref for r in records] == ["support-answer@v8"] * 3 + ["faq@v3"] * 3
    assert {r.provider for r in records} == {"openai"}
    assert {r.environment for r in records} == {"production"}
    plain, stream, failed, faq_plain, faq_stream, faq_failed = records

    assert (plain.status, plain.finish_reason, plain.model) == ("ok", "stop", "gpt-4o-mini")
    assert plain.response_model == "gpt-4o-mini-2024-07-18"
    assert plain.input_tokens > 0 and plain.output_tokens > 0
    assert plain.cached_input_tokens is None, "the instrumentation reports no cached tokens"
    assert plain.request_id.startswith("chatcmpl-stub-")  # gen_ai.response.id
    assert plain.input[-1] == {"role": "user", "content": "How do I reset my password?"}
    assert plain.input[0]["role"] == "system"
    assert plain.output.startswith("Open Settings")

    # A stream that did not ask for usage: no tokens, read as 0 and said so.
    assert (stream.status, stream.input_tokens, stream.output_tokens) == ("ok", 0, 0)
    assert stream.metadata["otel.usage_missing"] == ["input_tokens", "output_tokens"]
    assert stream.output.startswith("Refunds")
    assert faq_stream.input_tokens > 0 and faq_stream.output_tokens > 0  # it asked for usage

    for error in (failed, faq_failed):
        assert error.status == "error"
        assert error.error_type == "openai.InternalServerError"  # from "<class '...'>"
        assert "500" in error.error_message
        assert error.request_id == f"{error.trace_id}-{error.metadata['otel.span_id']}"  # no response id
    assert faq_plain.input is None and faq_plain.output is None, "faq-bot does not capture content"

    for record, raw in zip(records, raw_genai_spans()):
        start, end = int(raw["startTimeUnixNano"]), int(raw["endTimeUnixNano"])
        assert record.ts == start / 1e9
        assert record.latency_ms == pytest.approx((end - start) / 1e6)
        assert record.trace_id == raw["traceId"]
    assert stream.latency_ms > plain.latency_ms > failed.latency_ms  # streams take their time


def test_the_sample_is_in_the_collector_file_exporter_shape():
    line = SAMPLE.read_text(encoding="utf-8").splitlines()[0]
    data = json.loads(line)
    first = data["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(first["traceId"]) == 32 and int(first["traceId"], 16)
    assert len(first["spanId"]) == 16 and int(first["spanId"], 16)
    assert isinstance(first["startTimeUnixNano"], str) and isinstance(first["kind"], int)
    assert detect_file_format(SAMPLE) == "otlp"


# -- leniency ------------------------------------------------------------------------------------


def test_fields_come_from_the_v1_37_attributes():
    record = one(traces(chat_span(**{
        "gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.id": "chatcmpl-abc", "gen_ai.usage.input_tokens": 812,
        "gen_ai.usage.output_tokens": 143, "gen_ai.usage.cache_read.input_tokens": 512,
        "gen_ai.response.finish_reasons": ["length"], "gen_ai.prompt.name": "support-answer",
        "gen_ai.prompt.version": "v7", "user.id": "u-42", "gen_ai.conversation.id": "conv-1",
    })))  # fmt: skip
    assert record.request_id == "chatcmpl-abc"
    assert (record.model, record.response_model, record.provider) == ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai")
    assert (record.input_tokens, record.output_tokens, record.cached_input_tokens) == (812, 143, 512)
    assert (record.prompt_id, record.prompt_version) == ("support-answer", "v7")
    assert (record.finish_reason, record.status, record.user_id, record.session_id) == ("length", "ok", "u-42", "conv-1")
    assert record.ts == START / 1e9 and record.latency_ms == 1200.0
    assert record.metadata["service.name"] == "support-chat"


def test_the_older_attribute_names_are_read():
    record = one(traces(span(**{
        "gen_ai__system": "anthropic", "gen_ai__request__model": "claude-3-5-sonnet",
        "gen_ai__usage__prompt_tokens": 100, "gen_ai__usage__completion_tokens": 20,
    })))  # fmt: skip
    assert (record.provider, record.input_tokens, record.output_tokens) == ("anthropic", 100, 20)
    assert record.request_id == f"{TRACE}-eee19b7ec3c1b174"


def test_error_type_as_a_class_repr_and_status_as_a_name():
    record = one(traces(chat_span(**{"error.type": "<class 'openai.RateLimitError'>"})))
    assert (record.status, record.error_type) == ("error", "openai.RateLimitError")
    exception = {"name": "exception", "timeUnixNano": str(START), "attributes": [
        attr("exception.type", "TimeoutError"), attr("exception.message", "read timed out")]}
    record = one(traces(span(status={"code": "STATUS_CODE_ERROR"}, events=[exception], **{
        "gen_ai__request__model": "gpt-4o"})))  # fmt: skip
    assert (record.status, record.error_type, record.error_message) == ("error", "TimeoutError", "read timed out")
    assert clean_error_type("<type 'exceptions.ValueError'>") == "exceptions.ValueError"
    assert clean_error_type("timeout") == "timeout"


def test_missing_usage_reads_as_zero_tokens_and_is_marked():
    record = one(traces(chat_span()))
    assert (record.input_tokens, record.output_tokens, record.cached_input_tokens) == (0, 0, None)
    assert record.metadata["otel.usage_missing"] == ["input_tokens", "output_tokens"]


def test_captured_messages_become_input_and_output():
    record = one(traces(chat_span(**{
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "finish_reason": "stop",
                                               "parts": [{"type": "text", "content": "Hello!"}]}]),
    })))  # fmt: skip
    assert record.input == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert record.output == "Hello!"
    tool_call = {"type": "tool_call", "id": "c1", "name": "lookup", "arguments": {"q": "x"}}
    record = one(traces(chat_span(**{"gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [tool_call]}])})))
    assert record.output == [{"role": "assistant", "content": [tool_call]}], "non-text parts are kept as they are"


def test_older_content_events_are_read():
    events = [
        {"name": "gen_ai.content.prompt", "attributes": [attr("gen_ai.prompt", json.dumps([{"role": "user", "content": "Q?"}]))]},
        {"name": "gen_ai.content.completion", "attributes": [attr("gen_ai.completion", json.dumps([{"role": "assistant", "content": "A."}]))]},
    ]  # fmt: skip
    record = one(traces(span(events=events, gen_ai__request__model="gpt-4o")))
    assert (record.input, record.output) == ([{"role": "user", "content": "Q?"}], "A.")


def test_prompt_names_from_configured_attributes_then_the_resource_then_a_fallback():
    options = OtlpOptions(prompt_id_keys=("app.prompt",), prompt_version_keys=("app.prompt_rev",))
    record = one(traces(chat_span(**{"app.prompt": "triage", "app.prompt_rev": "r12"})), options)
    assert record.prompt_ref == "triage@r12"
    resource = {"service.name": "svc", "gen_ai.prompt.name": "from-resource", "gen_ai.prompt.version": "v1"}
    assert one(traces(chat_span(), resource=resource)).prompt_ref == "from-resource@v1"
    assert one(traces(chat_span())).prompt_ref == "support-chat@unversioned"  # service.name


def test_ids_in_base64_keys_in_snake_case_and_numbers_as_numbers_are_accepted():
    data = {"resource_spans": [{"resource": {}, "scope_spans": [{"spans": [{
        "trace_id": base64.b64encode(bytes.fromhex(TRACE)).decode(),
        "span_id": base64.b64encode(bytes.fromhex("eee19b7ec3c1b174")).decode(),
        "start_time_unix_nano": START, "end_time_unix_nano": START + 5_000_000,
        "attributes": [{"key": "gen_ai.request.model", "value": {"string_value": "gpt-4o"}},
                       {"key": "gen_ai.usage.input_tokens", "value": {"int_value": 7}}],
    }]}]}]}  # fmt: skip
    record = one(json.dumps(data))
    assert (record.trace_id, record.input_tokens, record.latency_ms) == (TRACE, 7, 5.0)
    assert record.prompt_ref == "unknown@unversioned"


def test_other_spans_are_skipped_and_counted():
    http = span(span_id="a" * 16, **{"http__route": "/answer", "gen_ai__prompt__name": "copied-by-baggage"})
    tool = span(span_id="b" * 16, **{"gen_ai__operation__name": "execute_tool", "gen_ai__tool__name": "lookup"})
    agent = span(span_id="c" * 16, **{"gen_ai__operation__name": "invoke_agent", "gen_ai__request__model": "gpt-4o"})
    parsed = parse_traces_line(traces(http, chat_span(), tool, agent))
    assert (len(parsed.records), parsed.skipped, parsed.errors) == (1, 3, [])


def test_a_broken_genai_span_is_an_error_and_its_neighbours_still_count():
    broken = chat_span()
    del broken["startTimeUnixNano"]
    parsed = parse_traces_line(traces(broken, chat_span(**{"gen_ai.response.id": "ok-1"})))
    assert [r.request_id for r in parsed.records] == ["ok-1"]
    assert len(parsed.errors) == 1 and "startTimeUnixNano" in parsed.errors[0]


@pytest.mark.parametrize("line, reason", [("{oops", "invalid JSON"), ("[1, 2]", "not a JSON object"),
                                          ('{"ts": 1}', "no resourceSpans")])
def test_a_line_that_is_not_traces_data_is_rejected_with_a_reason(line, reason):
    with pytest.raises(RecordError, match=reason):
        parse_traces_line(line)


# -- the tail: format by content, mixed files ------------------------------------------------------


def test_jsonl_and_otlp_files_are_tailed_side_by_side(tmp_path, write_log):
    jsonl = write_log("app.jsonl", [make_record(request_id="v1-a"), make_record(request_id="v1-b")])
    otlp = tmp_path / "traces.json"
    otlp.write_text(traces(chat_span(**{"gen_ai.response.id": "span-1"})) + "\n", encoding="utf-8")
    with LogTail([jsonl, otlp], watch=False) as tail:
        first = tail.read_available()
        assert sorted(r.request_id for r in first.records) == ["span-1", "v1-a", "v1-b"]
        assert (tail.format_of(str(jsonl)), tail.format_of(str(otlp))) == ("jsonl", "otlp")
        with otlp.open("a", encoding="utf-8") as handle:  # a new line arrives, in two writes
            line = traces(chat_span(**{"gen_ai.response.id": "span-2"}), span(span_id="d" * 16)) + "\n"
            handle.write(line[:50])
            handle.flush()
            assert tail.read_available().records == []  # a partial line waits for its newline
            handle.write(line[50:])
        second = tail.read_available()
        assert [r.request_id for r in second.records] == ["span-2"]
        assert tail.spans_skipped == {str(otlp): 1}
        assert second.positions[str(otlp)].line_no == 2
        status = {s.path: s for s in tail.files}[str(otlp)]
        assert (status.lines_ok, status.lines_rejected) == (2, 0)


def test_a_mixed_file_reads_each_line_as_what_it_is(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        traces(chat_span(**{"gen_ai.response.id": "span-1"})) + "\n"
        + line_of(make_record(request_id="v1-a"))
        + "{broken\n"
        + traces(chat_span(**{"gen_ai.response.id": "span-2"})) + "\n",
        encoding="utf-8",
    )
    with LogTail([path], watch=False) as tail:
        batch = tail.read_available()
    assert [r.request_id for r in batch.records] == ["span-1", "v1-a", "span-2"]
    assert [(r.line_no, r.reason.split(":")[0]) for r in batch.rejected] == [(3, "invalid JSON")]
    jsonl_first = tmp_path / "mixed2.jsonl"
    jsonl_first.write_text(line_of(make_record(request_id="v1-b")) + traces(chat_span()) + "\n", encoding="utf-8")
    with LogTail([jsonl_first], watch=False) as tail:
        assert len(tail.read_available().records) == 2


def test_a_forced_format_reads_every_file_that_way(tmp_path, write_log):
    jsonl = write_log("app.jsonl", [make_record()])
    with LogTail([jsonl], watch=False, source_format="otlp") as tail:
        batch = tail.read_available()
    assert batch.records == [] and "no resourceSpans" in batch.rejected[0].reason
    with LogTail([SAMPLE], watch=False, source_format="jsonl") as tail:
        batch = tail.read_available()
    assert batch.records == [] and len(batch.rejected) == 6
    with pytest.raises(ValueError, match="unknown format"):
        LogTail([jsonl], source_format="xml")


def test_detect_format_by_the_first_line():
    assert detect_format(traces(chat_span())) == "otlp"
    assert detect_format(line_of(make_record())) == "jsonl"
    assert detect_format('{"ts": 1, "metadata": {"resourceSpans": []}}') == "jsonl"  # not a top-level key
    assert detect_format('{"a": 1, "resourceSpans": []}') == "otlp"
