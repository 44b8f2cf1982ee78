"""OTLP JSON: OpenTelemetry GenAI spans, as the Collector's `file` exporter writes them.

One line is one TracesData object: resourceSpans -> scopeSpans -> spans, ids in hex,
int64 and *UnixNano values as strings, attributes as key/value lists. A span that is a
model call becomes one RequestRecord; every other span is skipped and counted. Two ways of
saying "model call" are read (console/sources/otel):

- the GenAI semantic conventions: a span naming a model (gen_ai.request.model or
  gen_ai.response.model) whose gen_ai.operation.name, if any, is not a tool or agent step.
  v1.37 and later, and the older names (gen_ai.system, gen_ai.usage.prompt_tokens...);
  as written by opentelemetry-instrumentation-openai-v2, OpenLLMetry, openlit and Logfire;
- OpenInference: openinference.span.kind = LLM, with llm.* attributes.

Which attributes name the prompt, its version, the user, the session and the environment is
OtlpOptions (llmops.toml's [otel]); the defaults cover the instrumentations above. The time
to first token is the first streamed-chunk event's (OpenLLMetry, OpenInference). Logfire's
streams come as two spans and are joined (otel/logfire.py): parse_traces joins the halves
within a line; a LogTail keeps a StreamJoiner per file to join them across lines.

Real instrumentations are imperfect, so reading is lenient: ids may be base64 (protobuf's
JSON mapping), keys snake_case, usage missing (streams), error types written four ways
(otel/errors.py makes them one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from console.config import OTEL_DEFAULT_KEYS, OtelSettings
from console.records import MAX_LINE_BYTES, RecordError, RequestRecord
from console.sources.otel import genai, logfire, openinference
from console.sources.otel.encoding import (
    as_dict, as_list, attributes_of, first, get, hex_id, nanos, pop_first,
)  # fmt: skip
from console.sources.otel.errors import clean_error_type, read_status
from console.sources.otel.genai import NOT_MODEL_CALLS

__all__ = [
    "DEFAULT_OPTIONS", "NOT_MODEL_CALLS", "NotTracesData", "OtlpLine", "OtlpOptions", "attributes_of",
    "clean_error_type", "parse_traces", "parse_traces_line", "span_to_record",
]  # fmt: skip

_decoder = msgspec.json.Decoder()
_FALLBACK_VERSION = "unversioned"
# Events marking the first streamed chunk: OpenLLMetry's (current and older) and OpenInference's.
FIRST_CHUNK_EVENTS = frozenset({"gen_ai.content.completion.chunk", "llm.content.completion.chunk", "First Token Stream Event"})


@dataclass(frozen=True, slots=True)
class OtlpOptions:
    """Which attributes name the prompt, the user, the session, the environment: span first,
    then resource; the first present wins. The defaults (console.config.OTEL_DEFAULT_KEYS)
    cover the GenAI conventions, OpenLLMetry (traceloop.*), OpenInference, openlit, Logfire."""

    prompt_id_keys: tuple[str, ...] = OTEL_DEFAULT_KEYS["prompt_id_keys"]
    prompt_version_keys: tuple[str, ...] = OTEL_DEFAULT_KEYS["prompt_version_keys"]
    user_keys: tuple[str, ...] = OTEL_DEFAULT_KEYS["user_keys"]
    session_keys: tuple[str, ...] = OTEL_DEFAULT_KEYS["session_keys"]
    environment_keys: tuple[str, ...] = OTEL_DEFAULT_KEYS["environment_keys"]

    @classmethod
    def from_settings(cls, otel: OtelSettings) -> OtlpOptions:
        """The options llmops.toml's [otel] table says."""
        return cls(**{name: tuple(getattr(otel, name)) for name in OTEL_DEFAULT_KEYS})


DEFAULT_OPTIONS = OtlpOptions()


@dataclass(slots=True)
class OtlpLine:
    """What one TracesData line held."""

    records: list[RequestRecord] = field(default_factory=list)
    skipped: int = 0  # spans that are not model calls
    errors: list[str] = field(default_factory=list)  # model-call spans that could not be read


class NotTracesData(RecordError):
    """A JSON object without resourceSpans: not an OTLP line (perhaps a schema v1 record)."""


def parse_traces_line(
    line: bytes | str,
    options: OtlpOptions = DEFAULT_OPTIONS,
    joiner: logfire.StreamJoiner | None = None,
) -> OtlpLine:
    """Records from one line of the Collector file exporter; RecordError if it is not one.

    Without a joiner, halves of a Logfire stream are joined within the line only; with one,
    an opening left waiting is kept in it."""
    if isinstance(line, str):
        line = line.encode("utf-8", "surrogatepass")
    if len(line) > MAX_LINE_BYTES * 64:
        raise RecordError(f"line is {len(line):,} bytes, too long for one TracesData object")
    try:
        data = _decoder.decode(line)
    except msgspec.DecodeError as exc:
        raise RecordError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RecordError("not a JSON object")
    if get(data, "resourceSpans", "resource_spans") is None:
        raise NotTracesData("not an OTLP TracesData object (no resourceSpans)")
    return parse_traces(data, options, joiner)


def parse_traces(
    data: dict,
    options: OtlpOptions = DEFAULT_OPTIONS,
    joiner: logfire.StreamJoiner | None = None,
    join_streams: bool = True,
) -> OtlpLine:
    """Records from a decoded TracesData (or ExportTraceServiceRequest) object. Without a
    joiner, Logfire's stream halves are joined within it, or with join_streams=False left
    as they are for the caller's joiner (the receiver's inbox joins them across exports)."""
    out = OtlpLine()
    for resource_spans in as_list(get(data, "resourceSpans", "resource_spans")):
        resource = attributes_of(get(as_dict(resource_spans), "resource") or {})
        scopes = get(resource_spans, "scopeSpans", "scope_spans")
        if scopes is None:  # before OTLP 1.0
            scopes = get(resource_spans, "instrumentationLibrarySpans", "instrumentation_library_spans")
        for scope_spans in as_list(scopes):
            scope = str(as_dict(get(as_dict(scope_spans), "scope", "instrumentation_library")).get("name") or "")
            for span in as_list(get(as_dict(scope_spans), "spans")):
                if not isinstance(span, dict):
                    out.errors.append("a span that is not a JSON object")
                    continue
                try:
                    record = span_to_record(span, resource, options, scope)
                except (RecordError, ValueError, TypeError, msgspec.ValidationError) as exc:
                    out.errors.append(f"span {_span_label(span)}: {exc}")
                    continue
                if record is None:
                    out.skipped += 1
                else:
                    out.records.append(record)
    if joiner is not None:
        out.records = joiner.feed(out.records)
    elif join_streams and any(logfire.MARK in (r.metadata or {}) for r in out.records):
        line_joiner = logfire.StreamJoiner()
        out.records = line_joiner.feed(out.records) + line_joiner.flush()
    return out


def span_to_record(
    span: dict, resource: dict[str, Any], options: OtlpOptions = DEFAULT_OPTIONS, scope: str = ""
) -> RequestRecord | None:
    """The record of a model-call span; None for any other span."""
    attrs = attributes_of(span)
    fields: dict[str, Any] = {}
    logfire_call = None
    if scope.startswith("logfire"):  # before the mapping takes the request's attributes out
        parent = hex_id(get(span, "parentSpanId", "parent_span_id"))
        logfire_call = logfire.call_key(attrs, hex_id(get(span, "traceId", "trace_id")), parent)
    if openinference.is_openinference(attrs):
        if not openinference.read(attrs, fields):
            return None
    elif not genai.read(attrs, span, scope, fields):
        return None
    trace_id = hex_id(get(span, "traceId", "trace_id"))
    span_id = hex_id(get(span, "spanId", "span_id"))
    start = nanos(get(span, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano")
    end = nanos(get(span, "endTimeUnixNano", "end_time_unix_nano"), "endTimeUnixNano")
    if start <= 0:
        raise RecordError("startTimeUnixNano is missing")
    answered = "request_id" in fields  # the provider's response id
    if not answered and not (trace_id and span_id):
        raise RecordError("neither a response id nor trace and span ids")
    fields.setdefault("request_id", f"{trace_id}-{span_id}")
    read_status(span, attrs, fields)
    half = logfire.stream_half(attrs, scope, fields["status"], answered)
    if half == logfire.END:  # a zero-length log at the stream's end: it read for `duration` seconds
        duration_ns = int(float(attrs.pop("duration")) * 1e9)
        start, end = end - duration_ns, end
    fields["ts"] = start / 1e9
    fields["latency_ms"] = max(end - start, 0) / 1e6
    ttft = _first_chunk_ns(span)
    if ttft is not None and ttft >= start:
        fields["ttft_ms"] = (ttft - start) / 1e6
    prompt_id = first(options.prompt_id_keys, attrs, resource) or resource.get("service.name") or "unknown"
    fields["prompt_id"] = str(prompt_id)
    fields["prompt_version"] = str(first(options.prompt_version_keys, attrs, resource) or _FALLBACK_VERSION)
    for target, keys in (("user_id", options.user_keys), ("session_id", options.session_keys),
                         ("environment", options.environment_keys)):  # fmt: skip
        value = first(keys, attrs, resource)
        if value is not None:
            fields[target] = str(value)
    for key in (*options.prompt_id_keys, *options.prompt_version_keys, *options.user_keys, *options.session_keys):
        attrs.pop(key, None)
    pop_first(attrs, *options.environment_keys)
    if trace_id:
        fields["trace_id"] = trace_id
    metadata = {"otel.span_name": span.get("name", ""), "otel.span_id": span_id}
    if scope:
        metadata["otel.scope"] = scope
    if "service.name" in resource:
        metadata["service.name"] = resource["service.name"]
    if half:
        metadata[logfire.MARK] = half
        metadata[logfire.CALL_KEY] = logfire_call
    metadata.update(attrs)  # whatever else the span says is kept, never dropped
    fields["metadata"] = metadata
    return RequestRecord(**fields)


def _first_chunk_ns(span: dict) -> int | None:
    times = [
        nanos(get(event, "timeUnixNano", "time_unix_nano"), "timeUnixNano")
        for event in as_list(span.get("events"))
        if isinstance(event, dict) and event.get("name") in FIRST_CHUNK_EVENTS
    ]
    return min(times) if times else None


def _span_label(span: dict) -> str:
    return str(get(span, "spanId", "span_id") or span.get("name") or "?")
