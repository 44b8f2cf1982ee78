"""An OTLP/HTTP export request's body (POST /v1/traces) into records, or the reason it is refused.

Both encodings the OTLP/HTTP specification allows are read with opentelemetry-proto's message
types, never a decoder of ours:
- application/x-protobuf: ExportTraceServiceRequest.FromString (the SDK exporters' default);
- application/json: the OTLP/JSON encoding, parsed into the same message with protobuf's
  json_format after turning its hex ids into the base64 protobuf's JSON mapping expects (the
  one difference the OTLP specification makes), so a type error is refused as in protobuf.
Either body may be gzip-compressed (Content-Encoding: gzip); decompression stops at the size
limit, so a small bomb cannot fill the memory. The message then goes through the span mapping
the files use (console.sources.otlp.parse_traces), via console.sources.otel.protobuf.
"""

from __future__ import annotations

import base64
import binascii
import zlib

import msgspec
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
)  # fmt: skip

from console.sources.otel.protobuf import request_to_dict
from console.sources.otlp import DEFAULT_OPTIONS, OtlpLine, OtlpOptions, parse_traces

PROTOBUF, JSON = "application/x-protobuf", "application/json"
_MEDIA_TYPES = {PROTOBUF: PROTOBUF, "application/protobuf": PROTOBUF, JSON: JSON}
# The largest body accepted, after decompression: the SDKs' batches are 512 spans (a few MB
# with message content); the Collector's default for its receiver is 20 MiB.
MAX_BODY_BYTES = 16 * 2**20
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


class PayloadRefused(Exception):
    """An export the receiver refuses whole: the HTTP status to answer and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def media_type(content_type: str | None) -> str:
    """PROTOBUF or JSON for a Content-Type header; PayloadRefused (415) for anything else."""
    name = (content_type or "").split(";", 1)[0].strip().lower()
    found = _MEDIA_TYPES.get(name)
    if found is None:
        raise PayloadRefused(415, f"Content-Type {name or '(none)'!r} is not OTLP: send {PROTOBUF} or {JSON}")
    return found


def decompressed(body: bytes, content_encoding: str | None, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body without its Content-Encoding (gzip or none); PayloadRefused past `limit`."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding != "gzip":
        raise PayloadRefused(415, f"Content-Encoding {encoding!r} is not supported: send gzip or none")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise PayloadRefused(400, f"the gzip body is corrupt: {exc}") from None
    if len(out) > limit:
        raise PayloadRefused(413, f"the body is over {limit:,} bytes once decompressed")
    if not inflater.eof:
        raise PayloadRefused(400, "the gzip body is truncated")
    return out


def decode_request(body: bytes, kind: str) -> ExportTraceServiceRequest:
    """The ExportTraceServiceRequest in a (decompressed) body of media type `kind`."""
    if kind == PROTOBUF:
        try:
            return ExportTraceServiceRequest.FromString(body)
        except DecodeError as exc:
            raise PayloadRefused(400, f"not a protobuf ExportTraceServiceRequest: {exc}") from None
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise PayloadRefused(400, f"invalid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PayloadRefused(400, "not an OTLP/JSON ExportTraceServiceRequest: the body is not a JSON object")
    try:
        return json_format.ParseDict(_base64_ids(document), ExportTraceServiceRequest(), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise PayloadRefused(400, f"not an OTLP/JSON ExportTraceServiceRequest: {exc}") from None


def read_export(
    body: bytes, content_type: str | None, content_encoding: str | None = None,
    options: OtlpOptions = DEFAULT_OPTIONS, limit: int = MAX_BODY_BYTES,
) -> OtlpLine:  # fmt: skip
    """The records of one export request; PayloadRefused when the body is not one."""
    kind = media_type(content_type)
    request = decode_request(decompressed(body, content_encoding, limit), kind)
    return parse_traces(request_to_dict(request), options, join_streams=False)  # the inbox joins Logfire's halves


def export_response(kind: str, rejected_spans: int = 0, message: str = "") -> bytes:
    """ExportTraceServiceResponse in the request's encoding; partial_success when spans were refused."""
    response = ExportTraceServiceResponse()
    if rejected_spans or message:
        response.partial_success.CopyFrom(ExportTracePartialSuccess(rejected_spans=rejected_spans, error_message=message))
    if kind == PROTOBUF:
        return response.SerializeToString()
    return json_format.MessageToJson(response, indent=None).encode()


def _base64_ids(node):
    """OTLP/JSON's hex trace and span ids as protobuf's JSON mapping (base64) wants them."""
    if isinstance(node, dict):
        return {key: _id(value) if key in _ID_KEYS else _base64_ids(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_base64_ids(item) for item in node]
    return node


def _id(value):
    if isinstance(value, str) and value:
        try:
            return base64.b64encode(bytes.fromhex(value)).decode("ascii")
        except ValueError:
            try:  # already base64 (an exporter following protobuf's mapping): kept as it is
                base64.b64decode(value, validate=True)
                return value
            except (binascii.Error, ValueError):
                raise PayloadRefused(400, f"a trace or span id is neither hex nor base64: {value[:40]!r}") from None
    return value
