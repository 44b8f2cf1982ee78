"""OTLP JSON: OpenTelemetry GenAI spans, as the Collector's `file` exporter writes them.

One line is one TracesData object: resourceSpans -> scopeSpans -> spans, ids in hex,
int64 and *UnixNano values as strings, attributes as key/value lists. A span that is a
model call becomes one RequestRecord; every other span is skipped and counted. Two ways of
saying "model call" are read (console/sources/otel):

- the GenAI semantic conventions: a span naming a model (gen_ai.request.model or
  gen_ai.response.model) whose gen_ai.operation.name, if any, is not a tool or agent step.
  v1.37 and later, and the older names (gen_ai.system, gen_ai.usage.prompt_tokens...);
  as written by opentelemetry-instrumentation-openai-v2, OpenLLMetry, openlit and Logfire;
- OpenInference: openinference.span.kind = LLM (or EMBEDDING), with llm.* attributes.

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
from functools import lru_cache
from typing import Any

import msgspec

from console.config import OTEL_DEFAULT_KEYS, OtelSettings
from console.records import MAX_LINE_BYTES, RecordError, RequestRecord
from console.sources.otel import genai, logfire, openinference
from console.sources.otel.encoding import (
    as_dict, as_list, attributes_of, first, get, hex_id, nanos,
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
    plan = _named_keys(options)
    for resource_spans in as_list(get(data, "resourceSpans", "resource_spans")):
        resource = attributes_of(get(as_dict(resource_spans), "resource") or {})
        named = plan, _from_resource(plan, resource)  # read once for all its spans
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
                    record = span_to_record(span, resource, options, scope, named)
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
    span: dict, resource: dict[str, Any], options: OtlpOptions = DEFAULT_OPTIONS, scope: str = "",
    named: tuple | None = None,
) -> RequestRecord | None:  # fmt: skip
    """The record of a model-call span; None for any other span. named: the options' names
    (_named_keys) and what the resource says for each (_from_resource), when the caller has
    them (parse_traces: once a resource)."""
    attrs = attributes_of(span)
    fields: dict[str, Any] = {}
    logfire_call = None
    from_logfire = scope.startswith("logfire")
    if from_logfire:  # before the mapping takes the request's attributes out
        parent = hex_id(get(span, "parentSpanId", "parent_span_id"))
        logfire_call = logfire.call_key(attrs, hex_id(get(span, "traceId", "trace_id")), parent)
    if openinference.SPAN_KIND in attrs:  # openinference.is_openinference
        if not openinference.read(attrs, fields):
            return None
    elif not genai.read(attrs, span, scope, fields):
        return None
    span_get = span.get  # get(span, camel, snake) without a call each: span is a dict here
    trace_id = span_get("traceId")
    trace_id = hex_id(span_get("trace_id") if trace_id is None else trace_id)
    span_id = span_get("spanId")
    span_id = hex_id(span_get("span_id") if span_id is None else span_id)
    start = span_get("startTimeUnixNano")
    start = nanos(span_get("start_time_unix_nano") if start is None else start, "startTimeUnixNano")
    end = span_get("endTimeUnixNano")
    end = nanos(span_get("end_time_unix_nano") if end is None else end, "endTimeUnixNano")
    if start <= 0:
        raise RecordError("startTimeUnixNano is missing")
    answered = "request_id" in fields  # the provider's response id
    if not answered:
        if not (trace_id and span_id):
            raise RecordError("neither a response id nor trace and span ids")
        fields["request_id"] = f"{trace_id}-{span_id}"
    read_status(span, attrs, fields)
    half = logfire.stream_half(attrs, scope, fields["status"], answered) if from_logfire else None
    if half == logfire.END:  # a zero-length log at the stream's end: it read for `duration` seconds
        duration_ns = int(float(attrs.pop("duration")) * 1e9)
        start, end = end - duration_ns, end
    fields["ts"] = start / 1e9
    fields["latency_ms"] = max(end - start, 0) / 1e6
    if span_get("events"):  # else no first chunk
        ttft = _first_chunk_ns(span)
        if ttft is not None and ttft >= start:
            fields["ttft_ms"] = (ttft - start) / 1e6
    if named is None:
        plan = _named_keys(options)
        named = plan, _from_resource(plan, resource)
    _read_named(attrs, resource, named, fields)
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


_TARGETS = ("prompt_id", "prompt_version", "user_id", "session_id", "environment")


@lru_cache(maxsize=32)
def _named_keys(options: OtlpOptions) -> tuple[frozenset[str], tuple[tuple[tuple[str, ...], frozenset[str]], ...]]:
    """Every attribute the options name, and each target's names (in _TARGETS' order)."""
    keys = (options.prompt_id_keys, options.prompt_version_keys, options.user_keys, options.session_keys,
            options.environment_keys)  # fmt: skip
    return frozenset().union(*keys), tuple((names, frozenset(names)) for names in keys)


def _from_resource(plan, resource: dict[str, Any]) -> tuple:
    """What the resource says for each target (first(names, resource)), read once for its spans."""
    return tuple(first(names, resource) for names, _ in plan[1])


def _read_named(attrs: dict, resource: dict, named: tuple, fields: dict) -> None:
    """The prompt, its version, the user, the session and the environment: each the first of
    its names present in the span's attributes, else in the resource's (encoding.first over
    both), every named attribute then taken out of the span's (kept in metadata otherwise).
    Only the names the span has are looked at: most spans have a few, or none."""
    (names_all, targets), from_resource = named
    found = names_all.intersection(attrs)
    values = list(from_resource)
    if found:
        for at, (names, name_set) in enumerate(targets):
            if not name_set.isdisjoint(found):
                value = first(names, attrs)
                if value is not None:
                    values[at] = value
        for key in found:
            del attrs[key]
    prompt_id, prompt_version, user_id, session_id, environment = values
    fields["prompt_id"] = str(prompt_id or resource.get("service.name") or "unknown")
    fields["prompt_version"] = str(prompt_version or _FALLBACK_VERSION)
    if user_id is not None:
        fields["user_id"] = str(user_id)
    if session_id is not None:
        fields["session_id"] = str(session_id)
    if environment is not None:
        fields["environment"] = str(environment)


def _first_chunk_ns(span: dict) -> int | None:
    times = [
        nanos(get(event, "timeUnixNano", "time_unix_nano"), "timeUnixNano")
        for event in as_list(span.get("events"))
        if isinstance(event, dict) and event.get("name") in FIRST_CHUNK_EVENTS
    ]
    return min(times) if times else None


def _span_label(span: dict) -> str:
    return str(get(span, "spanId", "span_id") or span.get("name") or "?")
