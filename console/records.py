"""RequestRecord, the one record type, and how a log line becomes one (schema v1).

The schema file schemas/request-log.v1.schema.json describes the same contract for other
languages; tests/test_records_schema.py keeps the two from drifting apart.

Decoding is the ingest hot path, so a line is decoded strictly into the Struct in one pass
(msgspec); keys outside the schema are kept in ``metadata``: a log's few extra keys are
learned as fields of a subclass (one pass still), a line with many takes a two-pass path.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

import msgspec

from console.formatting import rfc3339

SCHEMA_VERSION = 1
MAX_LINE_BYTES = 1024 * 1024

CORE_FIELDS = (
    "ts",
    "request_id",
    "model",
    "prompt_id",
    "prompt_version",
    "input_tokens",
    "output_tokens",
    "latency_ms",
    "status",
)

# Epoch numbers above this are milliseconds: 1e11 seconds is the year 5138.
EPOCH_MS_THRESHOLD = 1e11
_THUMBS = {"up": 1.0, "down": -1.0}

# Counts stay exact in a float and in SQLite's and numpy's int64 (2**70 tokens is a bad line).
MAX_COUNT = 2**53 - 1
# What a datetime can hold: 0001-01-01 to 9999-12-31T23:59:59 UTC, in epoch seconds.
_MIN_EPOCH_S, _MAX_EPOCH_S = -62135596800.0, 253402300799.0

NonNegInt = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
NonNegFloat = Annotated[float, msgspec.Meta(ge=0)]
NonEmptyStr = Annotated[str, msgspec.Meta(min_length=1)]
Feedback = Annotated[float, msgspec.Meta(ge=-1, le=1)] | Literal["up", "down"]
Text = str | list[Any] | dict[str, Any]


# `ts` as a line carries it: RFC 3339 (an offset is checked after decoding) or an epoch number
Timestamp = datetime | Annotated[float, msgspec.Meta(ge=0)]


class RecordError(ValueError):
    """A line that is not a valid schema v1 record; the message says why."""


class RequestRecord(
    msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True, gc=False
):
    """One LLM request. After decoding, ``ts`` is always epoch seconds (float, UTC).

    Unknown keys are forbidden at the decoder so the common line is decoded in one strict
    pass; parse_line catches that case and moves the extra keys into ``metadata``.
    gc=False: records hold no reference cycles, and a million tracked objects would make
    every garbage collection pass walk them all.
    """

    ts: Timestamp
    request_id: NonEmptyStr
    model: NonEmptyStr
    prompt_id: NonEmptyStr
    prompt_version: NonEmptyStr
    input_tokens: NonNegInt
    output_tokens: NonNegInt
    latency_ms: NonNegFloat
    status: Literal["ok", "error"]
    cost_usd: NonNegFloat | None = None
    provider: str | None = None
    response_model: str | None = None
    ttft_ms: NonNegFloat | None = None
    cached_input_tokens: NonNegInt | None = None
    reasoning_tokens: NonNegInt | None = None
    finish_reason: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    input: Text | None = None
    output: Text | None = None
    user_id: str | None = None
    session_id: str | None = None
    trace_id: str | None = None
    feedback: Feedback | None = None
    prompt_hash: str | None = None
    variant: str | None = None
    environment: str | None = None
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.ts.__class__ is not float or self.ts > EPOCH_MS_THRESHOLD:
            self.ts = _to_epoch_seconds(self.ts)
        if self.feedback.__class__ is str:
            self.feedback = _THUMBS[self.feedback]

    @property
    def prompt_ref(self) -> str:
        return f"{self.prompt_id}@{self.prompt_version}"

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(float(self.ts), tz=timezone.utc)

    @property
    def is_error(self) -> bool:
        return self.status == "error"


KNOWN_FIELDS = frozenset(RequestRecord.__struct_fields__)

# Usage an instrumentation estimated instead of the provider's (openlit, for a stream that did
# not ask for usage): the record keeps 0 tokens and the estimate sits in metadata under these
# keys, its spend counted apart (`report --json`'s spend.estimated_*), never as real spend.
ESTIMATED_TOKENS = "otel.tokens_estimated"
# A call whose span reported no usage (a stream that did not ask for it, a failed call): its
# 0 tokens are a placeholder, this key lists which counts are missing
USAGE_MISSING = "otel.usage_missing"
ESTIMATED_COST = "otel.estimated_cost_usd"


def estimated_cost_usd(metadata: dict | None) -> float | None:
    """The estimated spend of a request whose usage is only estimated (0.0 when no price
    was known for the estimate); None for a request with real (or no) usage."""
    if not metadata or ESTIMATED_TOKENS not in metadata:
        return None
    cost = metadata.get(ESTIMATED_COST)
    if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not 0 <= cost < float("inf"):
        return 0.0
    return float(cost)


def _to_epoch_seconds(ts: datetime | float) -> float:
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            raise ValueError("ts has no UTC offset (RFC 3339 needs 'Z' or '+hh:mm')")
        seconds = ts.timestamp()
    else:
        value = float(ts)
        if not math.isfinite(value):
            raise ValueError("ts is not a finite number")
        seconds = value / 1000.0 if value > EPOCH_MS_THRESHOLD else value
    if not _MIN_EPOCH_S <= seconds <= _MAX_EPOCH_S:
        raise ValueError("ts is outside the years 1 to 9999")
    return seconds


def ts_datetime(value: Any) -> datetime:
    """A `ts` value from a decoded line, read as the ingest reads it (RFC 3339 with an offset,
    epoch seconds or milliseconds) -> an aware datetime, exact to the microsecond from RFC 3339
    (no float round trip), for code that moves a ts; RecordError when the ingest rejects it."""
    try:
        ts = msgspec.convert(value, Timestamp)
        seconds = _to_epoch_seconds(ts)
    except (msgspec.ValidationError, ValueError) as exc:
        raise RecordError(f"ts: {exc}") from None
    return ts if isinstance(ts, datetime) else datetime.fromtimestamp(seconds, tz=timezone.utc)


class _RecordWithExtraKeys(RequestRecord, forbid_unknown_fields=False):
    """Decodes lines with keys outside the schema (msgspec has no catch-all field).

    It adds nothing to RequestRecord, so the two share one memory layout and a decoded
    instance is turned into a plain RequestRecord by reassigning __class__.
    """


_strict_decoder = msgspec.json.Decoder(RequestRecord)
_extra_keys_decoder = msgspec.json.Decoder(_RecordWithExtraKeys)
_raw_object_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_encoder = msgspec.json.Encoder()
_as_record = msgspec.structs.asdict

# A log's extra keys are few and the same on every line (a deployment's `region`): each one
# seen is learned as a field of a RequestRecord subclass, so a line that has them is still
# decoded in one strict pass (an unknown key is still noticed, and learned). Past this many
# keys (a log whose keys vary per line) lines take the two-pass path instead.
MAX_LEARNED_KEYS = 32


def with_learned_keys(base: type, keys: tuple[str, ...]) -> tuple[tuple[str, ...], type]:
    """(the fields' names, a Struct subclass of base with the keys as fields of those names)."""
    fields = tuple(f"extra_{i}" for i in range(len(keys)))
    struct = msgspec.defstruct(
        f"{base.__name__.lstrip('_')}WithLearnedKeys", [(name, Any, msgspec.UNSET) for name in fields],
        bases=(base,), kw_only=True, omit_defaults=True, forbid_unknown_fields=True, gc=False,
        rename=dict(zip(fields, keys)),
    )  # fmt: skip
    return fields, struct


def more_keys(line: bytes, keys: tuple[str, ...]) -> tuple[str, ...] | None:
    """keys and the line's keys outside the schema and keys; None when there are none, when
    they would pass MAX_LEARNED_KEYS, or the line is not an object we can split."""
    try:
        found = _raw_object_decoder.decode(line).keys() - KNOWN_FIELDS - set(keys)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError):
        return None
    if not found or len(keys) + len(found) > MAX_LEARNED_KEYS:
        return None
    return keys + tuple(sorted(found))


def move_into_metadata(record: Any, decoded: Any, fields: tuple[str, ...], keys: tuple[str, ...]) -> None:
    """The learned keys' values present in decoded (as its fields) put first in record.metadata."""
    extra = {}
    for name, key in zip(fields, keys):
        value = getattr(decoded, name)
        if value is not msgspec.UNSET:
            extra[key] = value
    if extra:
        record.metadata = {**extra, **record.metadata} if record.metadata else extra


class _LearnedKeys:
    """The extra keys learned so far and the decoder whose Struct has them as fields."""

    def __init__(self, keys: tuple[str, ...] = ()) -> None:
        self.keys = keys
        self.fields, record_type = with_learned_keys(RequestRecord, keys)
        self.decoder = msgspec.json.Decoder(record_type) if keys else _strict_decoder
        # parse(): the record decoded ignoring unknown keys (RequestRecord's layout: no copy into
        # a new record), and the learned keys' values by a second pass that forbids unknown
        # keys and leaves the known ones undecoded (Raw): about half the cost of decoding into
        # record_type and copying its fields into a RequestRecord (asdict + init: 3.8 us a line)
        extras_type = msgspec.defstruct(
            "_LearnedExtras",
            [*((name, msgspec.Raw, msgspec.UNSET) for name in RequestRecord.__struct_fields__),
             *((name, Any, msgspec.UNSET) for name in self.fields)],
            kw_only=True, forbid_unknown_fields=True, gc=False,
            rename={**dict(zip(RequestRecord.__struct_fields__, RequestRecord.__struct_encode_fields__)),
                    **dict(zip(self.fields, keys))},
        )  # fmt: skip
        self._extras_decoder = msgspec.json.Decoder(extras_type)

    def learn(self, line: bytes) -> _LearnedKeys | None:
        """With the line's unknown keys added; None when that would pass MAX_LEARNED_KEYS
        (or the line is not an object we can split: the caller's error path says why)."""
        keys = more_keys(line, self.keys)
        return None if keys is None else _LearnedKeys(keys)

    def parse(self, line: bytes) -> RequestRecord:
        """The line as a plain RequestRecord, the learned keys moved into metadata; raises
        as decoder.decode would (msgspec.ValidationError "unknown field" for a key not learned)."""
        if not self.keys:
            return _strict_decoder.decode(line)
        record = _extra_keys_decoder.decode(line)  # first: a bad value is reported as before
        found = self._extras_decoder.decode(line)
        record.__class__ = RequestRecord
        move_into_metadata(record, found, self.fields, self.keys)
        return record

    def record(self, decoded: RequestRecord) -> RequestRecord:
        """A plain RequestRecord of a decoded line, its extra keys moved into metadata."""
        if not self.keys:
            return decoded
        fields = _as_record(decoded)
        extra = {}
        for name, key in zip(self.fields, self.keys):
            value = fields.pop(name)
            if value is not msgspec.UNSET:
                extra[key] = value
        record = RequestRecord(**fields)
        if extra:
            record.metadata = {**extra, **record.metadata} if record.metadata else extra
        return record


_learned = _LearnedKeys()
# what a string that is not UTF-8 is refused as, whichever msgspec decodes it (the newest raises
# DecodeError with these words, the lowest supported a UnicodeDecodeError)
NOT_UTF8 = "invalid JSON: Invalid UTF-8 encoded string"


def parse_line(line: bytes | str) -> RequestRecord:
    """Parse one JSONL line into a record, or raise RecordError with a readable reason."""
    global _learned
    if isinstance(line, str):
        line = line.encode("utf-8", "surrogatepass")
    if len(line) > MAX_LINE_BYTES:
        raise RecordError(f"line is {len(line):,} bytes, over the 1 MiB limit")
    learned = _learned
    while True:
        try:
            return learned.parse(line)
        except msgspec.ValidationError as exc:
            if "unknown field" not in str(exc):
                raise RecordError(_describe_validation(exc)) from None
        except msgspec.DecodeError as exc:
            raise RecordError(f"invalid JSON: {exc}") from None
        except UnicodeDecodeError:  # msgspec 0.19 raises it for a bad string (NOT_UTF8)
            raise RecordError(NOT_UTF8) from None
        except RecursionError:
            raise RecordError("invalid JSON: nested too deeply") from None
        more = learned.learn(line)
        if more is None:
            return _parse_with_extra_keys(line)
        _learned = learned = more


def _parse_with_extra_keys(line: bytes) -> RequestRecord:
    """Split the keys first (values stay undecoded), then decode: for a line with more
    extra keys than are learned."""
    try:
        raw = _raw_object_decoder.decode(line)
        extra_keys = raw.keys() - KNOWN_FIELDS
        if not extra_keys:
            return _strict_decoder.decode(line)
        record = _extra_keys_decoder.decode(line)
        extra = {key: msgspec.json.decode(raw[key]) for key in extra_keys}
    except msgspec.ValidationError as exc:
        raise RecordError(_describe_validation(exc)) from None
    except msgspec.DecodeError as exc:
        raise RecordError(f"invalid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise RecordError(NOT_UTF8) from None
    except RecursionError:
        raise RecordError("invalid JSON: nested too deeply") from None
    record.__class__ = RequestRecord
    record.metadata = {**extra, **record.metadata} if record.metadata else extra
    return record


def _describe_validation(exc: msgspec.ValidationError) -> str:
    message = str(exc)
    if message.startswith("Object missing required field"):
        field = message.split("`")[1] if "`" in message else "?"
        return f"missing core field '{field}'"
    if message.startswith("Expected `object`"):
        return "not a JSON object"
    return message.replace("`$.", "`").replace("`", "'")


def to_json(record: RequestRecord) -> bytes:
    """Encode a record back to a schema v1 line (ts as RFC 3339 UTC)."""
    data = msgspec.to_builtins(record)
    data["ts"] = rfc3339(record.started_at, timespec="milliseconds")
    return _encoder.encode(data)


def text_of(value: Text | None) -> str:
    """Input or output as one string: chat messages become 'role: content' lines."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        parts = []
        for message in value:
            content = message.get("content", "")
            if not isinstance(content, str):
                content = _encoder.encode(content).decode()
            role = message.get("role")
            parts.append(f"{role}: {content}" if role else content)
        return "\n".join(parts)
    return msgspec.json.format(_encoder.encode(value).decode(), indent=2)
