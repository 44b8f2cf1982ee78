"""Records to row tuples and back; the bulk insert path works on tuples, not ORM objects."""

from __future__ import annotations

from typing import Any, Sequence

import orjson

from console.records import ESTIMATED_COST, ESTIMATED_TOKENS, RequestRecord, estimated_cost_usd
from console.store.schema_facts import BODY_COLUMNS, REQUEST_COLUMNS


def _text_column(value: Any) -> tuple[str | None, bool]:
    if value.__class__ is tuple:  # a bulk load's body as JSON text already (console.records_for_store)
        return value[0], True
    if value is None or isinstance(value, str):
        return value, False
    return orjson.dumps(value).decode(), True


def _json_column(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def request_tuple(r: RequestRecord) -> tuple:
    return (
        r.request_id, r.ts, r.model, r.provider, r.response_model, r.prompt_id,
        r.prompt_version, r.input_tokens, r.output_tokens, r.cached_input_tokens,
        r.reasoning_tokens, r.latency_ms, r.ttft_ms, r.status, r.cost_usd,
        r.finish_reason, r.error_type, r.user_id, r.session_id, r.environment,
        r.variant, r.feedback, r.prompt_hash, estimated_cost_usd(r.metadata),
    )  # fmt: skip


def body_tuple(r: RequestRecord) -> tuple:
    """The request_bodies columns after `id` (the id is given when the row is inserted)."""
    input_text, input_is_json = _text_column(r.input)
    output_text, output_is_json = _text_column(r.output)
    return (
        input_text, output_text, r.error_message, r.trace_id,
        _json_column(r.tags), _json_column(r.metadata), input_is_json, output_is_json,
    )  # fmt: skip


ROW_WIDTH = 1 + len(REQUEST_COLUMNS)  # a flat row: the id, then REQUEST_COLUMNS


def flat_rows(first_id: int, columns: Sequence[Sequence], count: int) -> list:
    """The rows of REQUEST_COLUMNS' columns as one flat list, ROW_WIDTH values a row, the
    first the row's id (from first_id): what a multi-row INSERT binds, with no tuple a row."""
    flat: list = [None] * (count * ROW_WIDTH)
    flat[0::ROW_WIDTH] = range(first_id, first_id + count)
    for at, column in enumerate(columns, 1):
        flat[at::ROW_WIDTH] = column
    return flat


BODY_AT = len(REQUEST_COLUMNS)  # where the body columns start in a row of SELECT_COLUMNS
SELECT_COLUMNS = ", ".join(f"r.{c}" for c in REQUEST_COLUMNS) + ", " + ", ".join(
    f"b.{c}" for c in BODY_COLUMNS[1:]
)


def record_from_row(row: Sequence[Any]) -> RequestRecord:
    """Build a record from `SELECT {SELECT_COLUMNS}` (metrics then body columns)."""
    n = len(REQUEST_COLUMNS)
    fields = {name: value for name, value in zip(REQUEST_COLUMNS, row[:n]) if value is not None}
    estimate = fields.pop("estimated_cost_usd", None)  # in metadata, where the record keeps it
    (input_text, output_text, error_message, trace_id, tags, extra,
     input_is_json, output_is_json) = row[n:]  # fmt: skip
    if input_text is not None:
        fields["input"] = orjson.loads(input_text) if input_is_json else input_text
    if output_text is not None:
        fields["output"] = orjson.loads(output_text) if output_is_json else output_text
    if error_message is not None:
        fields["error_message"] = error_message
    if trace_id is not None:
        fields["trace_id"] = trace_id
    if tags is not None:
        fields["tags"] = orjson.loads(tags)
    if extra is not None:
        fields["metadata"] = orjson.loads(extra)
    elif estimate is not None:  # read without the bodies (a follower): the estimate still counts apart
        fields["metadata"] = {ESTIMATED_TOKENS: {}, ESTIMATED_COST: estimate}
    return RequestRecord(**fields)
