"""The rollup tables (schema version 7): console.analytics.rollup's cells, stored.

One row per cell: its span (60 or 3600 s), bucket (the span's first second), text dimensions
("" for none), sums, and for request cells the first/last ts and the latency and TTFT
sketches as (int16 key, uint32 count) pairs (console.analytics.sketch). Written by the batch
writers in the transaction that inserts the rows (console.store.rollups).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, LargeBinary
from sqlmodel import Field, SQLModel


class RollupCell(SQLModel, table=True):
    __tablename__ = "rollups"
    __table_args__ = (Index("ix_rollups_span_bucket", "span", "bucket"),)

    id: int | None = Field(default=None, primary_key=True)
    span: int
    bucket: int = Field(sa_type=BigInteger)
    model: str
    prompt_id: str
    prompt_version: str
    prompt_hash: str
    environment: str
    is_error: int
    requests: int = Field(sa_type=BigInteger)
    bad: int = Field(sa_type=BigInteger)
    input_tokens: int = Field(sa_type=BigInteger)
    output_tokens: int = Field(sa_type=BigInteger)
    cached_input_tokens: int = Field(sa_type=BigInteger)
    priced: int = Field(sa_type=BigInteger)
    cost_nano: int = Field(sa_type=BigInteger)
    estimated: int = Field(sa_type=BigInteger)  # requests whose usage was only estimated (schema 6)
    estimated_cost_nano: int = Field(sa_type=BigInteger)
    min_ts: float
    max_ts: float
    latency: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    ttft: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class RollupUserCell(SQLModel, table=True):
    __tablename__ = "rollup_users"
    __table_args__ = (Index("ix_rollup_users_span_bucket", "span", "bucket"),)

    id: int | None = Field(default=None, primary_key=True)
    span: int  # hours and days
    bucket: int = Field(sa_type=BigInteger)
    user_id: str
    requests: int = Field(sa_type=BigInteger)
    priced: int = Field(sa_type=BigInteger)
    cost_nano: int = Field(sa_type=BigInteger)
