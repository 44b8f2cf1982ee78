"""Log lines parsed for a bulk load into the store: input and output kept as JSON text.

A record's chat messages are most of a line's bytes, and `ingest` only stores them: decoding
them into Python lists and dicts (records.parse_line) and encoding them back to JSON text for
the store (store/rows.body_tuple) was ~8 of the ~13 us a line of the decoding side. Here they
are decoded as msgspec.Raw, the line's own bytes of the value, and handed on as the JSON text
the store keeps, in a 1-tuple (store/rows._text_column; a string value is decoded to its str,
as parse_line gives it, and null to None). Every other field is decoded and validated exactly
as RequestRecord's are; a line this path cannot take as is (a body that is not a string,
array, object or null, bytes that are not UTF-8, a line over the size limit) goes to
parse_line, whose record or RecordError is the answer.

The stored text is orjson's re-encoding (what body_tuple writes) when the value holds a \\u
or \\/ escape, so a word the filter looks for is found as it is written: what remains of
the line's own text is its spacing between JSON tokens (`"role": "user"` from Python's
json.dumps), which decodes to the same value.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import orjson

from console.records import MAX_LINE_BYTES, RequestRecord, more_keys, move_into_metadata, parse_line, with_learned_keys

_string_decoder = msgspec.json.Decoder(str)
# escapes orjson writes otherwise (it writes non-ASCII as UTF-8 and / as itself)
_REENCODED = re.compile(r"\\[u/]")


class _RawBodies(RequestRecord, kw_only=True, forbid_unknown_fields=True, gc=False):
    input: msgspec.Raw = None  # type: ignore[assignment]
    output: msgspec.Raw = None  # type: ignore[assignment]


class _Decoder:
    """A decoder of _RawBodies with the log's extra keys learned as fields (as
    records._LearnedKeys does), so a line is decoded in one strict pass."""

    def __init__(self, keys: tuple[str, ...] = ()) -> None:
        self.keys = keys
        self.fields, line_type = with_learned_keys(_RawBodies, keys)
        self.decode = msgspec.json.Decoder(line_type).decode

    def learn(self, line: bytes) -> _Decoder | None:
        keys = more_keys(line, self.keys)
        return None if keys is None else _Decoder(keys)


_decoder = _Decoder()


def parse_line_for_store(line: bytes) -> Any:
    """The line as a record whose input and output are None, str or (JSON text,): for the
    store's writers only (text_of and the analytics expect parse_line's records). Raises
    RecordError as parse_line does."""
    global _decoder
    if len(line) > MAX_LINE_BYTES:
        return parse_line(line)
    decoder = _decoder
    while True:
        try:
            record = decoder.decode(line)
            break
        except msgspec.ValidationError as exc:
            if "unknown field" not in str(exc):
                return parse_line(line)
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            return parse_line(line)
        more = decoder.learn(line)
        if more is None:
            return parse_line(line)
        _decoder = decoder = more
    try:
        record.input = _stored_body(record.input)
        record.output = _stored_body(record.output)
    except (UnicodeDecodeError, ValueError, msgspec.DecodeError):
        return parse_line(line)
    if decoder.keys:
        move_into_metadata(record, record, decoder.fields, decoder.keys)
    return record


def _stored_body(raw: msgspec.Raw | None) -> str | tuple[str] | None:
    if raw is None:
        return None
    text = str(raw, "utf-8")
    first = text[:1]
    if first == '"':
        return _string_decoder.decode(raw)
    if first == "[" or first == "{":
        if _REENCODED.search(text) is not None:
            return (orjson.dumps(orjson.loads(text)).decode(),)
        return (text,)
    if text == "null":
        return None
    raise ValueError("not a string, array or object")
