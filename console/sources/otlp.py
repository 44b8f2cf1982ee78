"""OTLP JSON: OpenTelemetry GenAI spans, as the Collector's `file` exporter writes them.

One line is one TracesData object: resourceSpans -> scopeSpans -> spans, ids in hex,
int64 and *UnixNano values as strings, attributes as key/value lists. A span that is a
GenAI model call (it names a model: gen_ai.request.model or gen_ai.response.model, and its
gen_ai.operation.name, if any, is not a tool or agent step) becomes one RequestRecord;
every other span is skipped and counted.

Semantic conventions v1.37 and later are read, and the older names too (gen_ai.system,
gen_ai.usage.prompt_tokens / completion_tokens). Real instrumentations are imperfect, so
reading is lenient: error.type may be a class repr ("<class 'openai.InternalServerError'>"),
usage may be missing (streams), ids may be base64 (protobuf's JSON mapping) rather than hex,
keys may be snake_case. See the table in ../shared/DESIGN.md for where each field comes from.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec

from console.records import MAX_LINE_BYTES, RecordError, RequestRecord

_decoder = msgspec.json.Decoder()

# Operations that are not a model call: a tool run or an agent step (its model calls are
# their own spans, which would otherwise be counted twice).
NOT_MODEL_CALLS = frozenset({"execute_tool", "invoke_agent", "create_agent", "invoke_workflow"})
_STATUS_ERROR = (2, "STATUS_CODE_ERROR", "ERROR")
_CLASS_REPR = re.compile(r"^<(?:class|type) '([^']+)'>$")
_FALLBACK_VERSION = "unversioned"


@dataclass(frozen=True, slots=True)
class OtlpOptions:
    """Which attributes name the prompt (span first, then resource); the first present wins."""

    prompt_id_keys: tuple[str, ...] = ("gen_ai.prompt.name", "gen_ai.prompt.id")
    prompt_version_keys: tuple[str, ...] = ("gen_ai.prompt.version",)


DEFAULT_OPTIONS = OtlpOptions()


@dataclass(slots=True)
class OtlpLine:
    """What one TracesData line held."""

    records: list[RequestRecord] = field(default_factory=list)
    skipped: int = 0  # spans that are not GenAI model calls
    errors: list[str] = field(default_factory=list)  # GenAI spans that could not be read


class NotTracesData(RecordError):
    """A JSON object without resourceSpans: not an OTLP line (perhaps a schema v1 record)."""


def parse_traces_line(line: bytes | str, options: OtlpOptions = DEFAULT_OPTIONS) -> OtlpLine:
    """Records from one line of the Collector file exporter; RecordError if it is not one."""
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
    resource_spans = _get(data, "resourceSpans", "resource_spans")
    if resource_spans is None:
        raise NotTracesData("not an OTLP TracesData object (no resourceSpans)")
    return parse_traces(data, options)


def parse_traces(data: dict, options: OtlpOptions = DEFAULT_OPTIONS) -> OtlpLine:
    """Records from a decoded TracesData (or ExportTraceServiceRequest) object."""
    out = OtlpLine()
    for resource_spans in _list(_get(data, "resourceSpans", "resource_spans")):
        resource = attributes_of(_get(_dict(resource_spans), "resource") or {})
        scopes = _get(resource_spans, "scopeSpans", "scope_spans")
        if scopes is None:  # before OTLP 1.0
            scopes = _get(resource_spans, "instrumentationLibrarySpans", "instrumentation_library_spans")
        for scope_spans in _list(scopes):
            for span in _list(_get(_dict(scope_spans), "spans")):
                if not isinstance(span, dict):
                    out.errors.append("a span that is not a JSON object")
                    continue
                try:
                    record = span_to_record(span, resource, options)
                except (RecordError, ValueError, TypeError, msgspec.ValidationError) as exc:
                    out.errors.append(f"span {_span_label(span)}: {exc}")
                    continue
                if record is None:
                    out.skipped += 1
                else:
                    out.records.append(record)
    return out


def span_to_record(span: dict, resource: dict[str, Any], options: OtlpOptions = DEFAULT_OPTIONS) -> RequestRecord | None:
    """The record of a GenAI model-call span; None for any other span."""
    attrs = attributes_of(span)
    operation = attrs.pop("gen_ai.operation.name", None)
    request_model = attrs.pop("gen_ai.request.model", None)
    response_model = attrs.pop("gen_ai.response.model", None)
    if operation in NOT_MODEL_CALLS or not (request_model or response_model):
        return None
    trace_id = _hex_id(_get(span, "traceId", "trace_id"))
    span_id = _hex_id(_get(span, "spanId", "span_id"))
    start = _nanos(_get(span, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano")
    end = _nanos(_get(span, "endTimeUnixNano", "end_time_unix_nano"), "endTimeUnixNano")
    if start <= 0:
        raise RecordError("startTimeUnixNano is missing")
    response_id = attrs.pop("gen_ai.response.id", None)
    if not response_id and not (trace_id and span_id):
        raise RecordError("neither gen_ai.response.id nor trace and span ids")

    fields: dict[str, Any] = {
        "ts": start / 1e9,
        "request_id": str(response_id) if response_id else f"{trace_id}-{span_id}",
        "model": str(request_model or response_model),
        "latency_ms": max(end - start, 0) / 1e6,
    }
    prompt_id = _first(options.prompt_id_keys, attrs, resource) or resource.get("service.name") or "unknown"
    fields["prompt_id"] = str(prompt_id)
    fields["prompt_version"] = str(_first(options.prompt_version_keys, attrs, resource) or _FALLBACK_VERSION)
    for key in options.prompt_id_keys + options.prompt_version_keys:
        attrs.pop(key, None)
    provider = _pop_first(attrs, "gen_ai.provider.name", "gen_ai.system")
    if provider:
        fields["provider"] = str(provider)
    if response_model:
        fields["response_model"] = str(response_model)
    _usage(attrs, fields)
    reasons = attrs.pop("gen_ai.response.finish_reasons", None)
    if isinstance(reasons, str):
        reasons = [reasons]
    if reasons:
        fields["finish_reason"] = str(next((r for r in reasons if r), reasons[0]))
    _status(span, attrs, fields)
    _content(span, attrs, fields)
    if trace_id:
        fields["trace_id"] = trace_id
    for target, keys in (("user_id", ("user.id", "enduser.id")), ("session_id", ("session.id", "gen_ai.conversation.id"))):
        value = _pop_first(attrs, *keys)
        if value is not None:
            fields[target] = str(value)
    environment = _first(("deployment.environment.name", "deployment.environment"), attrs, resource)
    if environment:
        fields["environment"] = str(environment)
    metadata = {"otel.span_name": span.get("name", ""), "otel.span_id": span_id}
    if operation:
        metadata["gen_ai.operation.name"] = operation
    if "service.name" in resource:
        metadata["service.name"] = resource["service.name"]
    metadata.update(attrs)  # whatever else the span says is kept, never dropped
    fields["metadata"] = metadata
    return RequestRecord(**fields)


# -- pieces of a span ----------------------------------------------------------------------------

_INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
_OUTPUT_TOKENS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
_CACHED_TOKENS = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens")
_REASONING_TOKENS = ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens")


def _usage(attrs: dict, fields: dict) -> None:
    """Tokens; missing usage (a stream that did not ask for it, a failed call) reads as 0."""
    missing = []
    for target, keys in (("input_tokens", _INPUT_TOKENS), ("output_tokens", _OUTPUT_TOKENS)):
        value = _count(_pop_first(attrs, *keys))
        if value is None:
            missing.append(target)
        fields[target] = value or 0
    for target, keys in (("cached_input_tokens", _CACHED_TOKENS), ("reasoning_tokens", _REASONING_TOKENS)):
        value = _count(_pop_first(attrs, *keys))
        if value is not None:
            fields[target] = value
    if missing:
        attrs["otel.usage_missing"] = missing


def _count(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _status(span: dict, attrs: dict, fields: dict) -> None:
    status = _dict(span.get("status"))
    code = status.get("code")
    error_type = attrs.pop("error.type", None)
    exception = next(
        (attributes_of(e) for e in _list(span.get("events")) if isinstance(e, dict) and e.get("name") == "exception"),
        {},
    )
    failed = code in _STATUS_ERROR or bool(error_type)
    fields["status"] = "error" if failed else "ok"
    if not failed:
        return
    error_type = clean_error_type(error_type or exception.get("exception.type") or "")
    if error_type:
        fields["error_type"] = error_type
    message = status.get("message") or exception.get("exception.message")
    if message:
        fields["error_message"] = str(message)


def clean_error_type(value: Any) -> str:
    """"<class 'openai.InternalServerError'>" -> "openai.InternalServerError"; else as given."""
    text = str(value).strip()
    match = _CLASS_REPR.match(text)
    return match.group(1) if match else text


def _content(span: dict, attrs: dict, fields: dict) -> None:
    """gen_ai.input/output.messages when captured (v1.37+), else the older prompt/completion events."""
    instructions = attrs.pop("gen_ai.system_instructions", None)
    messages = _messages(attrs.pop("gen_ai.input.messages", None))
    if instructions is not None:
        system = [{"role": "system", "content": _parts_text(_json_value(instructions))}]
        messages = system + (messages or [])
    output = _messages(attrs.pop("gen_ai.output.messages", None))
    if messages is None or output is None:
        for event in _list(span.get("events")):
            if not isinstance(event, dict):
                continue
            event_attrs = attributes_of(event)
            if messages is None and event.get("name") == "gen_ai.content.prompt":
                messages = _messages(event_attrs.get("gen_ai.prompt"))
            elif output is None and event.get("name") == "gen_ai.content.completion":
                output = _messages(event_attrs.get("gen_ai.completion"))
    if messages:
        fields["input"] = messages
    if output:
        texts = [m["content"] for m in output if m.get("role") == "assistant" and isinstance(m["content"], str)]
        fields["output"] = "\n".join(texts) if len(texts) == len(output) else output


def _messages(value: Any) -> list[dict] | None:
    """Semantic-convention messages ({role, parts: [{type, content}]}) as {role, content}."""
    value = _json_value(value)
    if value is None:
        return None
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, dict):
        value = [value]
    out = []
    for message in _list(value):
        if not isinstance(message, dict):
            out.append({"content": str(message)})
            continue
        content = message.get("content")
        if content is None and "parts" in message:
            content = _parts_text(message["parts"])
        converted = {"role": message.get("role") or "assistant", "content": content if content is not None else ""}
        if message.get("finish_reason"):
            converted["finish_reason"] = message["finish_reason"]
        out.append(converted)
    return out


def _parts_text(parts: Any) -> Any:
    """Text parts joined; other parts (tool calls, images) kept as they are."""
    if isinstance(parts, str):
        return parts
    items = _list(parts) if not isinstance(parts, dict) else [parts]
    texts = [p.get("content", "") for p in items if isinstance(p, dict) and p.get("type", "text") == "text"]
    if len(texts) == len(items):
        return "".join(str(t) for t in texts)
    return items


def _json_value(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return _decoder.decode(value)
        except msgspec.DecodeError:
            return value
    return value


# -- OTLP JSON encoding ------------------------------------------------------------------------

def attributes_of(node: dict) -> dict[str, Any]:
    """A node's `attributes` key/value list as a dict of plain values."""
    out: dict[str, Any] = {}
    for item in _list(_dict(node).get("attributes")):
        if isinstance(item, dict) and "key" in item:
            out[str(item["key"])] = any_value(item.get("value"))
    return out


def any_value(value: Any) -> Any:
    """An OTLP AnyValue ({"stringValue": ...}, {"intValue": "12"}, arrays, kvlists) as Python."""
    if not isinstance(value, dict):
        return value
    for key, inner in value.items():
        kind = key.replace("_", "").lower()
        if kind == "stringvalue":
            return inner
        if kind == "intvalue":
            return int(inner)
        if kind == "doublevalue":
            return float(inner)
        if kind == "boolvalue":
            return bool(inner)
        if kind == "arrayvalue":
            return [any_value(v) for v in _list(_dict(inner).get("values"))]
        if kind == "kvlistvalue":
            return {kv.get("key"): any_value(kv.get("value")) for kv in _list(_dict(inner).get("values")) if isinstance(kv, dict)}
        if kind == "bytesvalue":
            return inner
    return None


def _hex_id(value: Any) -> str:
    """Trace and span ids: hex as OTLP/JSON says, or base64 as protobuf's JSON mapping writes."""
    if not value:
        return ""
    text = str(value)
    if len(text) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    try:
        return base64.b64decode(text, validate=True).hex()
    except (binascii.Error, ValueError):
        return text


def _nanos(value: Any, name: str) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RecordError(f"{name} is not an integer: {value!r}") from None


def _span_label(span: dict) -> str:
    return str(_get(span, "spanId", "span_id") or span.get("name") or "?")


def _get(node: Any, camel: str, snake: str | None = None) -> Any:
    if not isinstance(node, dict):
        return None
    value = node.get(camel)
    if value is None and snake is not None:
        value = node.get(snake)
    return value


def _first(keys: tuple[str, ...], *sources: dict) -> Any:
    for source in sources:
        for key in keys:
            value = source.get(key)
            if value not in (None, ""):
                return value
    return None


def _pop_first(attrs: dict, *keys: str) -> Any:
    found = None
    for key in keys:
        value = attrs.pop(key, None)
        if found is None and value not in (None, ""):
            found = value
    return found


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
