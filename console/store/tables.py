"""SQLModel table definitions.

Request metrics and request text live in separate tables: aggregates scan the narrow
`requests` table (about 7x smaller than one wide table), and the text is fetched only for
the rows on screen.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, LargeBinary, UniqueConstraint, event, text
from sqlmodel import Field, SQLModel

from console.store import day_dedup
from console.store.schema_facts import BODY_COLUMNS, REQUEST_COLUMNS


STATUS_INDEXED = text("status = 'error'")


class RequestRow(SQLModel, table=True):
    __tablename__ = "requests"
    # ts serves the windows, status the requests view's error filter (console.store.filter_sql)
    # and the triage's error lines (console.store.error_groups), the unique one the duplicates: request_id on PostgreSQL (and in SQLite stores made before
    # day_dedup), (day, request_id) in a new SQLite store (day_dedup, made after create). Model
    # and prompt terms read the names stored from the rollups and scan: their indexes
    # (schema < 8) cost a sixth of the store and of a bulk load. The status index holds the
    # failed requests only (STATUS_INDEXED; status is "ok" or "error"): a query uses it when it
    # says status = 'error' in those very words, as those two modules do. Over the whole
    # column it was 3.7% of a 1M-row store (12.7 of 346 MB) and one more index a row to
    # insert; stores made before keep it whole, which serves the same queries.
    __table_args__ = (
        Index("ix_requests_status", "status", sqlite_where=STATUS_INDEXED, postgresql_where=STATUS_INDEXED),
        UniqueConstraint("request_id").ddl_if(dialect="postgresql"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: str
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
    # Usage only estimated (console.records.ESTIMATED_TOKENS): the estimate's spend, kept apart
    # from cost_usd; NULL for every request with real usage. Schema version 6.
    estimated_cost_usd: float | None = None


@event.listens_for(RequestRow.__table__, "after_create")
def _dedup_by_day(_table, connection, **_kw) -> None:
    if connection.dialect.name == "sqlite":
        day_dedup.make_layout(connection)


class ColumnBlock(SQLModel, table=True):
    """The numbers of the requests with first_id <= id <= last_id as numpy arrays
    (console.store.column_blocks): a large load reads these instead of the rows."""

    __tablename__ = "column_blocks"

    first_id: int = Field(primary_key=True)
    last_id: int
    rows: int
    min_ts: float
    max_ts: float
    level: int  # how many merges made it (0: one write's rows)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class BodyBlock(SQLModel, table=True):
    """The bodies of the requests with first_id <= id <= last_id, zstd-compressed
    (console.store.body_blocks; schema version 8, SQLite only): a body is here or loose in
    request_bodies, never both."""

    __tablename__ = "body_blocks"

    first_id: int = Field(primary_key=True)
    last_id: int
    rows: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


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
    """Where ingest stands in each file, per host: in a shared store, hosts tail files with
    the same path (and perhaps the same inode number), which are different files."""

    __tablename__ = "source_offsets"

    host: str = Field(primary_key=True)
    source: str = Field(primary_key=True)
    inode: int = Field(sa_type=BigInteger)
    offset: int = Field(sa_type=BigInteger)
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


class StreamOpening(SQLModel, table=True):
    """A Logfire stream's opening waiting for its end (console/store/stream_openings.py):
    written with the batch that read it, deleted with the one that stores it."""

    __tablename__ = "stream_openings"

    host: str = Field(primary_key=True)
    source: str = Field(primary_key=True)
    request_id: str = Field(primary_key=True)
    record: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    read_at: float


class LabelRow(SQLModel, table=True):
    """A verdict on a response. Relabelling adds a row (history is kept); the newest active
    row per request is its verdict, and undo deactivates a row. Source logs are never touched."""

    __tablename__ = "labels"

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(index=True)
    verdict: str  # "bad" | "good"
    reason: str | None = None
    note: str | None = None
    author: str
    created_at: float = Field(index=True)
    active: bool = True
    case_id: str | None = None  # the regression case this label added, if any
    # (schema v4) set before its case is appended and cleared with case_id after: a label
    # left pending by a crash is finished when a Labeller next starts
    case_pending: bool = False


class ScoreRow(SQLModel, table=True):
    """One scorer's verdict on one request: a score in [0, 1] and why."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("request_id", "scorer"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(index=True)
    scorer: str
    score: float = Field(index=True)
    reason: str
    created_at: float


class ScoringBacklogRow(SQLModel, table=True):
    """Request row ids still to be scored, low < id <= high. Scoring goes newest first (what
    is on fire now is judged before last week), so what it has not reached is a range below
    what it has; a console closed mid-backlog leaves the range here and the next one goes on."""

    __tablename__ = "scoring_backlog"

    low: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    high: int = Field(sa_type=BigInteger)


class RegressionRunRow(SQLModel, table=True):
    __tablename__ = "regression_runs"

    id: int | None = Field(default=None, primary_key=True)
    started_at: float = Field(index=True)
    finished_at: float | None = None
    status: str  # "running" | "finished" | "cancelled" | "interrupted"
    suite: str
    target: str
    prompt_version: str | None = None
    model: str | None = None
    git_commit: str | None = None
    is_baseline: bool = False
    total: int = 0
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    summary: str | None = None  # JSON: gate verdict, comparison with the baseline
    host: str | None = None  # where the run's process is (schema v3): a run left "running"
    pid: int | None = None  # by a process that is gone is marked "interrupted"


class RegressionResultRow(SQLModel, table=True):
    __tablename__ = "regression_results"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(index=True, foreign_key="regression_runs.id")
    case_id: str = Field(index=True)
    attempt: int = 1  # 1..repeat
    status: str  # "pass" | "fail" | "errored" | "skipped"
    score: float | None = None
    output: str | None = None
    reasons: str | None = None  # JSON list: each assertion's verdict
    latency_ms: float | None = None
    cost_usd: float | None = None
    created_at: float


assert tuple(name for name in RequestRow.model_fields if name != "id") == REQUEST_COLUMNS, "schema_facts is out of step with RequestRow"
assert tuple(RequestBody.model_fields) == BODY_COLUMNS, "schema_facts is out of step with RequestBody"
