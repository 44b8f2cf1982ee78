"""SQLModel table definitions.

Request metrics and request text live in separate tables: aggregates scan the narrow
`requests` table (about 7x smaller than one wide table), and the text is fetched only for
the rows on screen.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RequestRow(SQLModel, table=True):
    __tablename__ = "requests"

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(unique=True)
    ts: float = Field(index=True)
    model: str
    provider: str | None = None
    response_model: str | None = None
    prompt_id: str
    prompt_version: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    latency_ms: float
    ttft_ms: float | None = None
    status: str
    cost_usd: float | None = None
    finish_reason: str | None = None
    error_type: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    environment: str | None = None
    variant: str | None = None
    feedback: float | None = None
    prompt_hash: str | None = None


class RequestBody(SQLModel, table=True):
    """Keyed by the integer id of its `requests` row: appends to the B-tree, no text index."""

    __tablename__ = "request_bodies"

    id: int = Field(primary_key=True, foreign_key="requests.id")
    input: str | None = None
    output: str | None = None
    error_message: str | None = None
    trace_id: str | None = None
    # JSON text: kept verbatim so nothing an app logs is lost.
    tags: str | None = None
    extra: str | None = None
    input_is_json: bool = False
    output_is_json: bool = False


class SourceOffset(SQLModel, table=True):
    __tablename__ = "source_offsets"

    source: str = Field(primary_key=True)
    inode: int
    offset: int
    line_no: int
    updated_at: float


class RejectedLineRow(SQLModel, table=True):
    __tablename__ = "rejected_lines"

    id: int | None = Field(default=None, primary_key=True)
    source: str
    line_no: int
    reason: str
    excerpt: str
    seen_at: float = Field(index=True)


REQUEST_COLUMNS: tuple[str, ...] = tuple(
    name for name in RequestRow.model_fields if name != "id"
)
BODY_COLUMNS: tuple[str, ...] = tuple(RequestBody.model_fields)
