"""OTLP protobuf (opentelemetry-proto's messages) as the OTLP/JSON the span mapping reads.

An app's OTLP/HTTP exporter posts an ExportTraceServiceRequest, protobuf-encoded by default.
The protobuf library decodes it (never a decoder of ours); this walks the decoded message
into the dicts console.sources.otlp.parse_traces reads from the Collector's JSON files, so a
span means the same thing whichever way it came. json_format.MessageToDict would give the
same shape, but it reads every field by reflection: measured on the openai-v2 trace, 5,500
spans/s against 60,000+ for this walk over the fields the mapping reads (ids hex, as in
OTLP/JSON; times as integers, which encoding.nanos takes).
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def request_to_dict(request: ExportTraceServiceRequest) -> dict:
    """{"resourceSpans": [...]}: what parse_traces takes."""
    return {"resourceSpans": [_resource_spans(rs) for rs in request.resource_spans]}


def _resource_spans(resource_spans) -> dict:
    return {
        "resource": {"attributes": _attributes(resource_spans.resource.attributes)},
        "scopeSpans": [
            {"scope": {"name": scope_spans.scope.name}, "spans": [_span(span) for span in scope_spans.spans]}
            for scope_spans in resource_spans.scope_spans
        ],
    }


def _span(span) -> dict:
    out = {
        "traceId": span.trace_id.hex(),
        "spanId": span.span_id.hex(),
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": span.start_time_unix_nano,
        "endTimeUnixNano": span.end_time_unix_nano,
        "attributes": _attributes(span.attributes),
        "status": {"code": span.status.code, "message": span.status.message},
    }
    if span.parent_span_id:
        out["parentSpanId"] = span.parent_span_id.hex()
    if span.events:
        out["events"] = [
            {"name": event.name, "timeUnixNano": event.time_unix_nano, "attributes": _attributes(event.attributes)}
            for event in span.events
        ]
    return out


def _attributes(key_values) -> list[dict]:
    return [{"key": kv.key, "value": _any_value(kv.value)} for kv in key_values]


def _any_value(value) -> dict[str, Any]:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return {"stringValue": value.string_value}
    if kind == "int_value":
        return {"intValue": value.int_value}
    if kind == "double_value":
        return {"doubleValue": value.double_value}
    if kind == "bool_value":
        return {"boolValue": value.bool_value}
    if kind == "array_value":
        return {"arrayValue": {"values": [_any_value(v) for v in value.array_value.values]}}
    if kind == "kvlist_value":
        return {"kvlistValue": {"values": _attributes(value.kvlist_value.values)}}
    if kind == "bytes_value":
        return {"bytesValue": value.bytes_value.hex()}
    return {}  # unset (or a dictionary index, which traces do not use): no value
