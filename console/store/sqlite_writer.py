"""The SQLite batch writer: one sqlite3 connection, BEGIN IMMEDIATE per batch.

The ORM path is ~16x slower than the raw driver, and even SQLAlchemy Core costs a third of
the raw insert rate, so SQLite gets a dedicated sqlite3 connection. In the batch's one
transaction: its rows (ids handed out above max(id)), their column block and rollup cells,
their bodies (as zstd blocks, or loose until enough are), rejected lines and file offsets.
It also runs in the writer process (console.store.writer_process), fed PreparedBatches.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Callable

from console.sources.base import SourceBatch
from console.store import stream_openings
from console.store.body_blocks import (
    COMPACT_AT,
    DIRECT_MIN_ROWS,
    bodies_of_blocks,
    compact,
    encode_bodies,
    insert_blocks,
    loose_count,
)
from console.store.column_blocks import add_block, block_of_inserted, merge_small_blocks
from console.store.engine import default_host
from console.store.rollups import rows_of_block, write_rows
from console.store.schema_facts import BODY_COLUMNS, REQUEST_COLUMNS
from console.store.write_faults import StoreLocked
from console.store.writers import _OFFSET_COLUMNS, _OFFSET_UPDATE, _REJECTED_COLUMNS, PreparedBatch, WriteResult, _marks


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


def next_row_id(path: str) -> int:
    """The id the next row written to the store will get if nothing else writes first."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        return conn.execute("SELECT coalesce(max(id), 0) + 1 FROM requests").fetchone()[0]
    finally:
        conn.close()


def _bodies(batch: PreparedBatch) -> list[tuple]:
    """The batch's body tuples (unpacked from its blocks when it came with them)."""
    return bodies_of_blocks(batch.body_blocks) if batch.body_blocks else batch.bodies


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
        self._hold, self._release = stream_openings.hold_statement("?"), stream_openings.release_statement("?")
        self._loose = loose_count(self.conn)  # bodies not in blocks yet (console.store.body_blocks)

    def write(self, batch: SourceBatch) -> WriteResult:
        return self.write_prepared(PreparedBatch.of(batch, self.host, with_block=True))

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
                    self._add_column_block(start, batch, duplicates)
                loose = self._loose
                ready = batch.body_blocks and start == batch.body_start
                if added == len(batch.requests) and ready and added >= DIRECT_MIN_ROWS:
                    insert_blocks(conn, batch.body_blocks)  # made with these very ids
                elif added >= DIRECT_MIN_ROWS and added == len(batch.requests):
                    insert_blocks(conn, encode_bodies(start, _bodies(batch)))
                elif added == len(batch.requests):
                    bodies = [(start + i, *body) for i, body in enumerate(_bodies(batch))]
                    insert_values(conn, self._insert_all_bodies, bodies)
                    loose += added
                elif added:
                    conn.executemany(
                        self._insert_bodies_of_new_rows,
                        ((start + i, *body, start + i) for i, body in enumerate(_bodies(batch))),
                    )
                    loose += added
                if loose >= COMPACT_AT:
                    compact(conn)
                    loose = 0
            if batch.rejected:
                conn.executemany(self._insert_rejected, batch.rejected)
            if batch.offsets:
                conn.executemany(self._upsert_offsets, batch.offsets)
            if batch.released:  # Logfire stream openings stored now, then those left waiting
                conn.executemany(self._release, batch.released)
            if batch.held:
                conn.executemany(self._hold, batch.held)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if batch.requests:
            self._loose = loose
        return WriteResult(added, len(batch.requests) - added, len(batch.rejected), duplicates)

    def _add_column_block(self, start: int, batch: PreparedBatch, duplicates: tuple[int, ...]) -> None:
        """The stored rows' column block and rollup cells, in the same transaction as the rows
        (the batch's own block when every row is new)."""
        requests = batch.requests
        if duplicates:
            skipped = set(duplicates)
            inserted = [i for i in range(len(requests)) if i not in skipped]
        else:
            inserted = None
        if inserted is None and batch.block is not None:
            block = batch.block.block(start, requests)
        else:
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
