"""The rollup tables (schema version 7; day cells and rollup_hours since 9; rollups.rated since 10):
console.analytics.rollup's cells, stored.

One row per cell: its span (60, 3600 or 86400 s), bucket (the span's first second), text
dimensions ("" for none), sums, and for request cells the first/last ts and the latency and
TTFT sketches as (int16 key, uint32 count) pairs (console.analytics.sketch). rollup_hours:
one row per hour, every request of it (the TOTALS kind: sums and the latency sketch).
Written by the batch writers in the transaction that inserts the rows (console.store.rollups).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, LargeBinary, text
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
    rated: int = Field(sa_type=BigInteger)  # requests with feedback, as bad counts by it (schema 10)
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


# A window's users are summed per user by the database (console.store.rollups.user_spend): over
# the day cells' rows in user order (this index holds all it reads), without a sort of them
# (1M bench store: 28k day cells, 11 -> 5 ms). Day cells only: hour cells are rewritten ~24x
# as often and a window reads at most two days' of them.
USER_DAYS_INDEX = Index(
    "ix_rollup_users_days", "user_id", "bucket", "requests", "priced", "cost_nano",
    sqlite_where=text("span = 86400"), postgresql_where=text("span = 86400"),
)  # fmt: skip


class RollupUserCell(SQLModel, table=True):
    __tablename__ = "rollup_users"
    __table_args__ = (Index("ix_rollup_users_span_bucket", "span", "bucket"), USER_DAYS_INDEX)

    id: int | None = Field(default=None, primary_key=True)
    span: int  # hours and days
    bucket: int = Field(sa_type=BigInteger)
    user_id: str
    requests: int = Field(sa_type=BigInteger)
    priced: int = Field(sa_type=BigInteger)
    cost_nano: int = Field(sa_type=BigInteger)


class RollupHourCell(SQLModel, table=True):
    __tablename__ = "rollup_hours"
    __table_args__ = (Index("ix_rollup_hours_bucket", "bucket"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: int = Field(sa_type=BigInteger)
    requests: int = Field(sa_type=BigInteger)
    errors: int = Field(sa_type=BigInteger)
    priced: int = Field(sa_type=BigInteger)
    cost_nano: int = Field(sa_type=BigInteger)
    min_ts: float
    max_ts: float
    latency: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # no TTFT: no figure reads it per hour
