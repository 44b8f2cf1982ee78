"""The OTLP/JSON encoding: attribute lists, AnyValue, ids in hex or base64, nanoseconds.

Lenient by design: protobuf's JSON mapping (base64 ids, camelCase) and the snake_case of
some hand-rolled exporters are read as well as what the OTLP/JSON specification says.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import msgspec

from console.records import RecordError

_decoder = msgspec.json.Decoder()


def attributes_of(node: dict) -> dict[str, Any]:
    """A node's `attributes` key/value list as a dict of plain values. A dict is taken as
    plain values already: the protobuf walk (otel/protobuf.py) gives them so, skipping the
    AnyValue wrappers it would build for this to take apart (half its cost)."""
    attributes = as_dict(node).get("attributes")
    if isinstance(attributes, dict):
        return dict(attributes)
    out: dict[str, Any] = {}
    for item in as_list(attributes):
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
            return [any_value(v) for v in as_list(as_dict(inner).get("values"))]
        if kind == "kvlistvalue":
            return {kv.get("key"): any_value(kv.get("value")) for kv in as_list(as_dict(inner).get("values")) if isinstance(kv, dict)}
        if kind == "bytesvalue":
            return inner
    return None


_HEX = re.compile(r"[0-9a-fA-F]+")
_EXACT_FLOAT_INT = 2**53  # up to here int(float(n)) == n


def hex_id(value: Any) -> str:
    """Trace and span ids: hex as OTLP/JSON says, or base64 as protobuf's JSON mapping writes."""
    if not value:
        return ""
    text = str(value)
    if len(text) in (16, 32) and _HEX.fullmatch(text):  # a regex: a generator per char cost 15 us a span
        return text.lower()
    try:
        return base64.b64decode(text, validate=True).hex()
    except (binascii.Error, ValueError):
        return text


def nanos(value: Any, name: str) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RecordError(f"{name} is not an integer: {value!r}") from None


def json_value(value: Any) -> Any:
    """A JSON document carried in a string attribute, decoded; anything else as it is."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return _decoder.decode(value)
        except msgspec.DecodeError:
            return value
    return value


def count(value: Any) -> int | None:
    """A token count, or None when absent or not a non-negative number."""
    if value.__class__ is int:  # the common case (bool is not int's class): no float round trip
        return value if 0 <= value <= _EXACT_FLOAT_INT else (int(float(value)) if value > 0 else None)
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def get(node: Any, camel: str, snake: str | None = None) -> Any:
    if not isinstance(node, dict):
        return None
    value = node.get(camel)
    if value is None and snake is not None:
        value = node.get(snake)
    return value


def first(keys: tuple[str, ...], *sources: dict) -> Any:
    for source in sources:
        get_value = source.get
        for key in keys:
            value = get_value(key)
            if value is not None and value != "":
                return value
    return None


def pop_first(attrs: dict, *keys: str) -> Any:
    found = None
    pop = attrs.pop
    for key in keys:
        value = pop(key, None)
        if found is None and value is not None and value != "":
            found = value
    return found


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
