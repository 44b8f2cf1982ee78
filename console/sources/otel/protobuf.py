"""OTLP protobuf (opentelemetry-proto's messages) as the OTLP/JSON the span mapping reads.

An app's OTLP/HTTP exporter posts an ExportTraceServiceRequest, protobuf-encoded by default.
The protobuf library decodes it (never a decoder of ours); this walks the decoded message
into the dicts console.sources.otlp.parse_traces reads from the Collector's JSON files, so a
span means the same thing whichever way it came: ids hex as in OTLP/JSON, times as integers
(encoding.nanos takes them), and attributes as a dict of plain values (encoding.attributes_of
takes a dict as such) rather than AnyValue wrappers made only to be taken apart again.
json_format.MessageToDict would give the wrapped shape by reflection over every field:
measured on the openai-v2 trace, 5,500 spans/s, against ~45,000 for this walk.
"""

from __future__ import annotations

import base64
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


def _attributes(key_values) -> dict[str, Any]:
    """Plain values by key, as encoding.attributes_of makes of an OTLP/JSON list. Strings and
    integers (most attributes) are read here, without a call each."""
    out = {}
    for kv in key_values:
        value = kv.value
        kind = value.WhichOneof("value")
        out[kv.key] = (value.string_value if kind == "string_value" else value.int_value if kind == "int_value"
                       else _plain(value, kind))  # fmt: skip
    return out


def _plain(value, kind: str | None = None) -> Any:
    kind = kind or value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "array_value":
        return [_plain(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")  # as OTLP/JSON writes bytes
    return None  # unset (or a dictionary index, which traces do not use)
