"""Batch writers: rows, rejected lines and source offsets in one transaction.

SQLite gets a dedicated sqlite3 connection: the ORM path is ~16x slower than the raw
driver, and even SQLAlchemy Core costs a third of the raw insert rate. PostgreSQL (and
anything else) goes through SQLAlchemy Core with ON CONFLICT ... RETURNING, which is safe
with several writers at once.

A batch is first turned into plain tuples (PreparedBatch), so the SQLite write can also
run in another process (console.store.writer_process) while this one decodes.
"""

from __future__ import annotations

import sqlite3
import time
from functools import lru_cache
from itertools import chain

import msgspec
from dataclasses import dataclass
from typing import Callable, Protocol

from sqlalchemy import Engine, insert, text

from console.records import RequestRecord
from console.sources.base import SourceBatch
from console.store.body_blocks import COMPACT_AT, DIRECT_MIN_ROWS, compact, loose_count, write_blocks
from console.store.column_blocks import add_block, block_of_inserted, merge_small_blocks
from console.store.engine import StoreError, default_host
from console.store.rollups import rows_of_block, write_rows
from console.store.rows import body_tuple, request_tuple
from console.store.schema_facts import BODY_COLUMNS, REQUEST_COLUMNS


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
    """A SourceBatch as the tuples the SQL statements take.

    A msgspec Struct so it crosses to the writer process as MessagePack: about 5x cheaper
    than pickling the same tuples.
    """

    requests: list[tuple]
    bodies: list[tuple]
    rejected: list[tuple]
    offsets: list[tuple]

    @classmethod
    def of(cls, batch: SourceBatch, host: str) -> PreparedBatch:
        """host: whose files the offsets are (offsets are kept per host in a shared store)."""
        now = time.time()
        records = batch.records
        return cls(
            requests=[request_tuple(r) for r in records],
            bodies=[body_tuple(r) for r in records],
            rejected=[(r.path, r.line_no, r.reason, r.excerpt, now) for r in batch.rejected],
            offsets=[(host, p.path, p.inode, p.offset, p.line_no, now) for p in batch.positions.values()],
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


class StoreLocked(StoreError):
    """Another process held the SQLite store's write lock through every retry."""


class StoreBroken(StoreError):
    """A write failed with an error that retrying cannot fix (the schema is not what this
    console writes: a table or column dropped, a constraint); the message says what to do."""


# -- which write failures clear by themselves -------------------------------------------------

TRANSIENT, PERMANENT = "transient", "permanent"
# PEP 249 exception names, as sqlite3, psycopg and SQLAlchemy's wrappers all spell them.
_TRANSIENT_DBAPI = frozenset({"OperationalError", "InterfaceError", "InternalError", "DisconnectionError"})
_PERMANENT_DBAPI = frozenset({"ProgrammingError", "IntegrityError", "DataError", "NotSupportedError"})
# SQLite reports schema mistakes as OperationalError, like a lock or a full disk: by message.
_PERMANENT_MESSAGES = (
    "no such table", "no such column", "has no column named", "no such index", "no such function",
    "syntax error", "file is not a database", "database disk image is malformed",
)


def write_fault(exc: BaseException) -> str | None:
    """How a failed store write should be handled:

    TRANSIENT: it may clear by itself, so the same batch is tried again (a full disk, a
    read-only or locked store, the server restarting, the connection dropped);
    PERMANENT: retrying cannot fix it (no such table or column, a constraint or a type
    error: the store's schema is not what this console writes);
    None: not a store fault at all (a bug), to be raised as it is.
    """
    if isinstance(exc, StoreBroken):
        return PERMANENT
    if isinstance(exc, StoreError):  # e.g. locked through every retry, or the writer process
        return PERMANENT if _permanent_message(str(exc)) else TRANSIENT
    if isinstance(exc, OSError):  # disk full, read-only file system, I/O error, timeout
        return TRANSIENT
    if getattr(exc, "connection_invalidated", False):  # SQLAlchemy saw the connection drop
        return TRANSIENT
    names = {cls.__name__ for cls in type(exc).__mro__}
    orig = getattr(exc, "orig", None)  # the driver's exception inside SQLAlchemy's wrapper
    if orig is not None:
        names |= {cls.__name__ for cls in type(orig).__mro__}
    if names & _PERMANENT_DBAPI:
        return PERMANENT
    if names & _TRANSIENT_DBAPI:
        return PERMANENT if _permanent_message(str(orig or exc)) else TRANSIENT
    if "DatabaseError" in names:  # sqlite3.DatabaseError itself: not a database, malformed
        return PERMANENT
    return None


def _permanent_message(message: str) -> bool:
    message = message.lower()
    return any(part in message for part in _PERMANENT_MESSAGES)


def fault_reason(exc: BaseException) -> str:
    """One line for the user: the driver's message without SQLAlchemy's SQL and links."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc) or type(exc).__name__
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class LockRetry:
    """How a SQLite write waits for a store locked by another process: SQLite's own busy
    wait of `timeout_s` per try, then up to `retries` more tries after a doubling
    `backoff_s` pause; then StoreLocked, naming the store."""

    timeout_s: float = 30.0
    retries: int = 3
    backoff_s: float = 0.5


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


ROWS_PER_STATEMENT = 256


def insert_values(conn: sqlite3.Connection, head: str, rows: list[tuple]) -> int:
    """`head VALUES (...), (...), ...`, ROWS_PER_STATEMENT rows a statement; returns the rows
    inserted. One statement is one sqlite3_step, so one release of the GIL: executemany
    releases and retakes it for every row, and while another thread runs Python each retake
    waits up to the switch interval (5 ms): a 30-row write took 0.5 s beside one busy
    thread (the console's UI drawing), most of the live tail's append-to-visible time."""
    added = 0
    for first in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[first : first + ROWS_PER_STATEMENT]
        cursor = conn.execute(_values_statement(head, len(chunk[0]), len(chunk)), list(chain.from_iterable(chunk)))
        added += cursor.rowcount
    return added


@lru_cache(maxsize=64)
def _values_statement(head: str, width: int, count: int) -> str:
    one = f"({_marks(width, '?')})"
    return f"{head} VALUES {', '.join([one] * count)}"


# SQLite's page cache for a bulk load: the request_id index of a few million rows stays in
# memory (1M rows: ~50 MB); more only weighs in the peak RSS.
BULK_CACHE_MIB = 96


def open_sqlite_writer_connection(path: str, busy_timeout_s: float = 30.0, cache_mib: int = BULK_CACHE_MIB) -> sqlite3.Connection:
    """cache_mib: SQLite's page cache (a console that tails for hours takes less: it counts
    in the console's memory)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        f"busy_timeout={int(busy_timeout_s * 1000)}",
        f"cache_size=-{cache_mib * 1024}",
        "wal_autocheckpoint=16384",  # checkpoint every ~64 MiB: fewer rewrites of hot index pages
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


class SqliteBatchWriter:
    """One sqlite3 connection, BEGIN IMMEDIATE per batch, ids assigned in the transaction."""

    def __init__(
        self, path: str, host: str | None = None, lock_retry: LockRetry | None = None, cache_mib: int = BULK_CACHE_MIB
    ) -> None:
        self.host = host or default_host()
        self.path = path
        self.lock_retry = lock_retry or LockRetry()
        # called before each pause for a locked store: (retry number, pause in s, the error)
        self.on_lock_wait: Callable[[int, float, Exception], None] | None = None
        self.conn = open_sqlite_writer_connection(path, self.lock_retry.timeout_s, cache_mib)
        # Ids are handed out above max(id) inside the write transaction; a duplicate
        # request_id is ignored by the unique index, and its body is skipped because no
        # row holds its id. No per-batch lookups, no text key on the bodies.
        self._insert_requests = f"INSERT OR IGNORE INTO requests (id, {', '.join(REQUEST_COLUMNS)})"
        self._insert_all_bodies = f"INSERT INTO request_bodies ({', '.join(BODY_COLUMNS)})"
        self._insert_bodies_of_new_rows = (
            f"INSERT INTO request_bodies ({', '.join(BODY_COLUMNS)}) "
            f"SELECT {_marks(len(BODY_COLUMNS), '?')} WHERE EXISTS (SELECT 1 FROM requests WHERE id = ?)"
        )
        self._upsert_offsets = f"INSERT INTO source_offsets ({_OFFSET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) {_OFFSET_UPDATE}"
        self._insert_rejected = f"INSERT INTO rejected_lines ({_REJECTED_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
        self._loose = loose_count(self.conn)  # bodies not in blocks yet (console.store.body_blocks)

    def write(self, batch: SourceBatch) -> WriteResult:
        return self.write_prepared(PreparedBatch.of(batch, self.host))

    def write_prepared(self, batch: PreparedBatch) -> WriteResult:
        """The batch in one transaction; while another process holds the store's write lock,
        tried again with backoff (the failed try was rolled back), then StoreLocked."""
        policy = self.lock_retry
        started = time.monotonic()
        retry = 0
        while True:
            try:
                return self._write_once(batch)
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc):
                    raise
                if retry >= policy.retries:
                    waited = time.monotonic() - started
                    raise StoreLocked(
                        f"the store {self.path} is locked by another process: "
                        f"gave up after {retry + 1} tries in {waited:.1f} s ({exc})"
                    ) from None
                pause = policy.backoff_s * 2**retry
                retry += 1
                if self.on_lock_wait is not None:
                    self.on_lock_wait(retry, pause, exc)
                time.sleep(pause)

    def _write_once(self, batch: PreparedBatch) -> WriteResult:
        conn = self.conn
        added = 0
        duplicates: tuple[int, ...] = ()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if batch.requests:
                start = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM requests").fetchone()[0]
                added = insert_values(
                    conn, self._insert_requests, [(start + i, *row) for i, row in enumerate(batch.requests)]
                )
                if added < len(batch.requests):
                    duplicates = self._positions_not_inserted(start, len(batch.requests))
                if added:
                    self._add_column_block(start, batch.requests, duplicates)
                loose = self._loose
                if added == len(batch.requests):
                    bodies = [(start + i, *body) for i, body in enumerate(batch.bodies)]
                    if added >= DIRECT_MIN_ROWS:
                        write_blocks(conn, bodies)
                    else:
                        insert_values(conn, self._insert_all_bodies, bodies)
                        loose += added
                elif added:
                    conn.executemany(
                        self._insert_bodies_of_new_rows,
                        ((start + i, *body, start + i) for i, body in enumerate(batch.bodies)),
                    )
                    loose += added
                if loose >= COMPACT_AT:
                    compact(conn)
                    loose = 0
            if batch.rejected:
                conn.executemany(self._insert_rejected, batch.rejected)
            if batch.offsets:
                conn.executemany(self._upsert_offsets, batch.offsets)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if batch.requests:
            self._loose = loose
        return WriteResult(added, len(batch.requests) - added, len(batch.rejected), duplicates)

    def _add_column_block(self, start: int, requests: list[tuple], duplicates: tuple[int, ...]) -> None:
        """The stored rows' column block and rollup cells, in the same transaction as the rows."""
        if duplicates:
            skipped = set(duplicates)
            inserted = [i for i in range(len(requests)) if i not in skipped]
        else:
            inserted = None
        block = block_of_inserted(start, requests, inserted)
        first = start + (inserted[0] if inserted else 0)
        last = start + (inserted[-1] if inserted else len(requests) - 1)
        add_block(self.conn, block, first, last)
        write_rows(self.conn, rows_of_block(block))
        merge_small_blocks(self.conn)

    def _positions_not_inserted(self, start: int, count: int) -> tuple[int, ...]:
        rows = self.conn.execute(
            "SELECT id FROM requests WHERE id >= ? AND id < ?", (start, start + count)
        )
        inserted = {row[0] - start for row in rows}
        return tuple(i for i in range(count) if i not in inserted)

    def close(self) -> None:
        self.conn.close()


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
            .on_conflict_do_nothing(index_elements=["request_id"])
            .returning(RequestRow.__table__.c.id, RequestRow.__table__.c.request_id)
        )
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._upsert_offsets = f"INSERT INTO source_offsets ({_OFFSET_COLUMNS}) VALUES ({_marks(6, mark)}) {_OFFSET_UPDATE}"
        self._insert_rejected = f"INSERT INTO rejected_lines ({_REJECTED_COLUMNS}) VALUES ({_marks(5, mark)})"

    def write(self, batch: SourceBatch) -> WriteResult:
        prepared = PreparedBatch.of(batch, self.host)
        unique = first_of_each_id(batch.records)
        added = 0
        inserted_ids: set[str] = set()
        with self.engine.begin() as conn:
            if self._serialize:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
            if unique:
                rows = [dict(zip(REQUEST_COLUMNS, request_tuple(r))) for r in unique.values()]
                inserted = conn.execute(self._insert_requests, rows).all()
                added = len(inserted)
                inserted_ids = {request_id for _, request_id in inserted}
                if inserted:
                    bodies = [
                        dict(zip(BODY_COLUMNS, (row_id, *body_tuple(unique[request_id]))))
                        for row_id, request_id in inserted
                    ]
                    conn.execute(insert(self._request_body), bodies)
                    stored = [request_tuple(unique[request_id]) for _, request_id in inserted]
                    write_rows(conn, rows_of_block(block_of_inserted(0, stored, None)))
            if prepared.rejected:
                conn.exec_driver_sql(self._insert_rejected, prepared.rejected)
            if prepared.offsets:
                conn.exec_driver_sql(self._upsert_offsets, prepared.offsets)
        duplicates = []
        for position, record in enumerate(batch.records):
            if record.request_id in inserted_ids:
                inserted_ids.discard(record.request_id)  # a repeat later in the batch is a duplicate
            else:
                duplicates.append(position)
        return WriteResult(added, len(batch.records) - added, len(batch.rejected), tuple(duplicates))

    def close(self) -> None:
        pass
