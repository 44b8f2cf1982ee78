"""Batch writers: rows, rejected lines and source offsets in one transaction.

A batch is first turned into plain tuples (PreparedBatch), so the SQLite write can also
run in another process (console.store.writer_process) while this one decodes. SQLite is
written by console/store/sqlite_writer.py (the raw driver); PostgreSQL (and anything else)
by CoreBatchWriter here, SQLAlchemy Core with ON CONFLICT ... RETURNING, which is safe with
several writers at once. Which failures are worth retrying: console/store/write_faults.py.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

import msgspec
from sqlalchemy import Engine, insert, text

from console.records import RequestRecord
from console.sources.base import SourceBatch
from console.store import stream_openings
from console.store.body_blocks import DIRECT_MIN_ROWS, encode_bodies
from console.store.column_blocks import block_of_inserted
from console.store.engine import default_host
from console.store.rollups import rows_of_block, write_rows
from console.store.rows import body_tuple, flat_rows, request_tuple
from console.store.schema_facts import BODY_COLUMNS, REQUEST_COLUMNS


class _PipelineEndAfterFault(logging.Filter):
    """psycopg logs a warning when a pipeline cannot end because the connection dropped in the
    block (executemany's pipeline below): the block's own error is the one retried and
    reported (console.store.retry), so this second line on stderr only alarms at 3 a.m."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("error ignored terminating")


logging.getLogger("psycopg").addFilter(_PipelineEndAfterFault())


@dataclass(frozen=True, slots=True)
class WriteResult:
    added: int
    duplicates: int
    rejected: int
    # Positions in the batch of the records that were not stored (already there, or
    # repeated in the batch); the live view uses them to pass on only what is new.
    duplicate_positions: tuple[int, ...] = ()

    def new_records(self, records: list[RequestRecord]) -> list[RequestRecord]:
        if not self.duplicate_positions:
            return records
        skipped = set(self.duplicate_positions)
        return [record for i, record in enumerate(records) if i not in skipped]


class PreparedBatch(msgspec.Struct, array_like=True, gc=False):
    """A SourceBatch as the values the SQL statements take.

    A msgspec Struct so it crosses to the writer process as MessagePack: about 5x cheaper
    than pickling the same tuples.
    """

    # The requests as one flat list (console.store.rows.flat_rows): ROW_WIDTH values a row,
    # the first its id counted from first_id (the writer sets the ids it hands out when they
    # turn out otherwise): what the multi-row INSERT binds, with no tuple made a row.
    rows: list
    count: int
    bodies: list[tuple]
    rejected: list[tuple]
    offsets: list[tuple]
    held: list[tuple] = []  # Logfire stream openings now waiting (console/store/stream_openings.py)
    released: list[tuple] = []  # and those no longer waiting
    # The id the batch's first row will likely get (for a SQLite writer): the rows' ids and
    # the body blocks are made with it where the batch is prepared (in a parallel load, the
    # decoding process), and the writer stores them as they are when its rows got those ids
    # and none was already stored, else sets the ids and makes the blocks again.
    first_id: int = 1
    # The bodies as SQLite's body blocks already (console.store.body_blocks.encode_bodies),
    # ids from first_id (bodies is then empty): the pipe carries a tenth of the bytes.
    body_blocks: list[tuple] = []

    @classmethod
    def of(cls, batch: SourceBatch, host: str, first_id: int | None = None) -> PreparedBatch:
        """host: whose files the offsets are (offsets are kept per host in a shared store);
        first_id: the id the batch's first row will likely get (for a SQLite writer: the
        bodies go as blocks; without it the writer makes them)."""
        now = time.time()
        records = batch.records
        count = len(records)
        held, released = stream_openings.prepared(batch, host) if batch.held or batch.released else ([], [])
        requests = [request_tuple(r) for r in records]
        bodies = [body_tuple(r) for r in records]
        guess = 1 if first_id is None else first_id
        body_blocks: list[tuple] = []
        if first_id is not None and count >= DIRECT_MIN_ROWS:
            body_blocks = encode_bodies(first_id, bodies)
            bodies = []
        return cls(
            rows=flat_rows(guess, list(zip(*requests)), count),
            count=count,
            bodies=bodies,
            first_id=guess,
            body_blocks=body_blocks,
            rejected=[(r.path, r.line_no, r.reason, r.excerpt, now) for r in batch.rejected],
            offsets=[(host, p.path, p.inode, p.offset, p.line_no, now) for p in batch.positions.values()],
            held=held,
            released=released,
        )


class BatchWriter(Protocol):
    def write(self, batch: SourceBatch) -> WriteResult: ...

    def close(self) -> None: ...


def _marks(count: int, mark: str) -> str:
    return ", ".join([mark] * count)


_OFFSET_COLUMNS = 'host, source, inode, "offset", line_no, updated_at'
_OFFSET_UPDATE = (
    'ON CONFLICT (host, source) DO UPDATE SET inode = excluded.inode, "offset" = excluded."offset", '
    "line_no = excluded.line_no, updated_at = excluded.updated_at"
)
_REJECTED_COLUMNS = "source, line_no, reason, excerpt, seen_at"
WRITE_LOCK_KEY = 0x6C6C6D6F70_02  # an arbitrary advisory lock id: "llmop" + 2


def first_of_each_id(records: list[RequestRecord]) -> dict[str, RequestRecord]:
    unique: dict[str, RequestRecord] = {}
    for record in records:
        unique.setdefault(record.request_id, record)
    return unique


class CoreBatchWriter:
    """SQLAlchemy Core: INSERT ... ON CONFLICT DO NOTHING RETURNING, for concurrent writers.

    On PostgreSQL each batch first takes a transaction-scoped advisory lock, so writers
    commit one at a time and row ids grow in commit order: a console following the store
    (rows with id > the last seen) can never miss a row committed late with a lower id.
    """

    def __init__(self, engine: Engine, host: str | None = None) -> None:
        self.engine = engine
        self.host = host or default_host()
        self._serialize = engine.dialect.name == "postgresql"
        # imported here: the PostgreSQL dialect module pulls in asyncio (~70 ms for every command),
        # the table definitions sqlmodel and pydantic (a third of a reading command's imports)
        from console.store.tables import RequestBody, RequestRow

        if self._serialize:
            from sqlalchemy.dialects import postgresql as dialect
        else:
            from sqlalchemy.dialects import sqlite as dialect
        self._request_body = RequestBody.__table__
        self._insert_requests = (
            dialect.insert(RequestRow.__table__)
            .on_conflict_do_nothing()  # whichever unique index: SQLite's (day, request_id) too
            .returning(RequestRow.__table__.c.id, RequestRow.__table__.c.request_id)
        )
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._upsert_offsets = f"INSERT INTO source_offsets ({_OFFSET_COLUMNS}) VALUES ({_marks(6, mark)}) {_OFFSET_UPDATE}"
        self._insert_rejected = f"INSERT INTO rejected_lines ({_REJECTED_COLUMNS}) VALUES ({_marks(5, mark)})"
        self._hold, self._release = stream_openings.hold_statement(mark), stream_openings.release_statement(mark)
        # PostgreSQL: one short statement a row, sent by psycopg's executemany in one pipeline.
        # SQLAlchemy's multi-row VALUES pages were statements of ~24,000 placeholders that psycopg
        # parses anew each time (too long for its cache): ~40% of a PostgreSQL ingest's time.
        self._insert_requests_sql = (
            f"INSERT INTO requests ({', '.join(REQUEST_COLUMNS)}) VALUES ({_marks(len(REQUEST_COLUMNS), mark)}) "
            "ON CONFLICT (request_id) DO NOTHING RETURNING id, request_id"
        )
        self._insert_bodies = f"INSERT INTO request_bodies ({', '.join(BODY_COLUMNS)}) VALUES ({_marks(len(BODY_COLUMNS), mark)})"

    def _insert_on_postgres(self, conn, rows: list[tuple]) -> list[tuple[int, str]]:
        """(id, request_id) of the rows inserted, in order (ids handed out in row order)."""
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.executemany(self._insert_requests_sql, rows, returning=True)
            inserted: list[tuple[int, str]] = []
            while True:
                inserted.extend(cursor.fetchall())
                if not cursor.nextset():
                    return inserted
        finally:
            cursor.close()

    def write(self, batch: SourceBatch) -> WriteResult:
        prepared = PreparedBatch.of(batch, self.host)
        unique = first_of_each_id(batch.records)
        added = 0
        inserted_ids: set[str] = set()
        with self.engine.begin() as conn:
            if self._serialize:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
            if unique:
                tuples = {request_id: request_tuple(r) for request_id, r in unique.items()}
                if self._serialize:
                    inserted = self._insert_on_postgres(conn, list(tuples.values()))
                else:
                    rows = [dict(zip(REQUEST_COLUMNS, row)) for row in tuples.values()]
                    inserted = conn.execute(self._insert_requests, rows).all()
                added = len(inserted)
                inserted_ids = {request_id for _, request_id in inserted}
                if inserted:
                    bodies = [(row_id, *body_tuple(unique[request_id])) for row_id, request_id in inserted]
                    if self._serialize:
                        conn.exec_driver_sql(self._insert_bodies, bodies)
                    else:
                        conn.execute(insert(self._request_body), [dict(zip(BODY_COLUMNS, body)) for body in bodies])
                    stored = [tuples[request_id] for _, request_id in inserted]
                    write_rows(conn, rows_of_block(block_of_inserted(0, stored, None)))
            if prepared.rejected:
                conn.exec_driver_sql(self._insert_rejected, prepared.rejected)
            if prepared.offsets:
                conn.exec_driver_sql(self._upsert_offsets, prepared.offsets)
            if prepared.released:
                conn.exec_driver_sql(self._release, prepared.released)
            if prepared.held:
                conn.exec_driver_sql(self._hold, prepared.held)
        duplicates = []
        for position, record in enumerate(batch.records):
            if record.request_id in inserted_ids:
                inserted_ids.discard(record.request_id)  # a repeat later in the batch is a duplicate
            else:
                duplicates.append(position)
        return WriteResult(added, len(batch.records) - added, len(batch.rejected), tuple(duplicates))

    def close(self) -> None:
        pass
