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
from typing import Callable, Sequence

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
from console.store.column_blocks import RawBlock, add_block, block_of_rows, concat, merge_small_blocks
from console.store.engine import default_host
from console.store.rollups import rows_of_block, write_rows
from console.store.rows import ROW_WIDTH
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
    if not rows:
        return 0
    return insert_flat(conn, head, list(chain.from_iterable(rows)), len(rows[0]))


def insert_flat(conn: sqlite3.Connection, head: str, values: list, width: int, nullable: Sequence[int] = ()) -> int:
    """insert_values of rows given as one flat list, `width` values a row. nullable: where in
    a row a None may be, bound as NaN (see _NULL)."""
    added, step = 0, ROWS_PER_STATEMENT * width
    for first in range(0, len(values), step):
        chunk = values[first : first + step]
        for at in nullable:
            column = chunk[at::width]
            if None in column:
                chunk[at::width] = [_NULL if value is None else value for value in column]
        cursor = conn.execute(_values_statement(head, width, len(chunk) // width), chunk)
        added += cursor.rowcount
    return added


# SQLite stores a NaN bound to any column as NULL (sqlite3VdbeMemSetDouble), and sqlite3
# binds a float at once while a None goes through its adapters (a registry lookup and two
# attribute lookups: ~0.4 us a value). A log's request has ~9 None values of its 25 (1M
# bench log): bound as NaN, the insert's binding took ~2.5 us a row instead of ~10.5.
_NULL = float("nan")
# where in a flat row (console.store.rows.ROW_WIDTH: the id first) the nullable requests
# columns are (tests/test_writer_groups.py checks them against the table)
NULLABLE_AT = tuple(
    1 + REQUEST_COLUMNS.index(name)
    for name in (
        "provider", "response_model", "cached_input_tokens", "reasoning_tokens", "ttft_ms", "cost_usd",
        "finish_reason", "error_type", "user_id", "session_id", "environment", "variant", "feedback",
        "prompt_hash", "estimated_cost_usd",
    )
)  # fmt: skip


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
        # the id its first row will likely get: its blocks are made with it (else again, in the write)
        first_id = None
        if batch.records:
            first_id = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM requests").fetchone()[0]
        return self.write_prepared(PreparedBatch.of(batch, self.host, first_id=first_id))

    def write_prepared(self, batch: PreparedBatch) -> WriteResult:
        """The batch in one transaction; while another process holds the store's write lock,
        tried again with backoff (the failed try was rolled back), then StoreLocked."""
        return self.write_group([batch])[0]

    def write_group(self, batches: list[PreparedBatch]) -> list[WriteResult]:
        """Batches in one transaction, each written as write_prepared writes it alone, then
        one column block and one merge of rollup cells for all their stored rows (the store
        ends with the same rows, bodies, cells and block contents): a bulk load's saving,
        as its blocks need no merge and the cells at the batches' edges are rewritten less
        often (console.ingest.BULK_GROUP)."""
        policy = self.lock_retry
        started = time.monotonic()
        retry = 0
        while True:
            try:
                return self._write_once(batches)
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

    def _write_once(self, batches: list[PreparedBatch]) -> list[WriteResult]:
        conn = self.conn
        loose = self._loose
        conn.execute("BEGIN IMMEDIATE")
        try:
            results, blocks = [], []
            for batch in batches:
                result, loose = self._write_batch(batch, loose, blocks)
                results.append(result)
            if blocks:
                self._add_column_block(blocks)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._loose = loose
        return results

    def _write_batch(self, batch: PreparedBatch, loose: int, blocks: list) -> tuple[WriteResult, int]:
        """The batch, in the caller's transaction; returns its result and the loose bodies
        then (console.store.body_blocks); the column block of its stored rows goes to blocks
        as (block, first id, last id)."""
        conn = self.conn
        added = 0
        count = batch.count
        duplicates: tuple[int, ...] = ()
        if count:
            start = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM requests").fetchone()[0]
            rows = batch.rows
            if start != rows[0]:  # ids not as guessed: the ones handed out now
                rows[0::ROW_WIDTH] = range(start, start + count)
            added = insert_flat(conn, self._insert_requests, rows, ROW_WIDTH, NULLABLE_AT)
            if added < count:
                duplicates = self._positions_not_inserted(start, count)
            if added:
                blocks.append(self._stored_block(start, batch, duplicates))
            ready = batch.body_blocks and start == batch.first_id
            if added == count and ready and added >= DIRECT_MIN_ROWS:
                insert_blocks(conn, batch.body_blocks)  # made with these very ids
            elif added >= DIRECT_MIN_ROWS and added == count:
                insert_blocks(conn, encode_bodies(start, _bodies(batch)))
            elif added == count:
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
        return WriteResult(added, count - added, len(batch.rejected), duplicates), loose

    @staticmethod
    def _stored_block(start: int, batch: PreparedBatch, duplicates: tuple[int, ...]) -> tuple[RawBlock, int, int]:
        """(the column block of the batch's stored rows, its first id, its last id), made of
        its flat rows here: the decoding side of a parallel load is the busier one."""
        if duplicates:
            skipped = set(duplicates)
            inserted = [i for i in range(batch.count) if i not in skipped]
            return block_of_rows(batch.rows, inserted), start + inserted[0], start + inserted[-1]
        return block_of_rows(batch.rows, None), start, start + batch.count - 1

    def _add_column_block(self, blocks: list[tuple[RawBlock, int, int]]) -> None:
        """The stored rows' column block and rollup cells, in the same transaction as the rows:
        one block and one merge of cells for the batches committed together (a bulk load's
        blocks of 30,000 rows are not merged again: console.store.column_blocks)."""
        block = concat([block for block, _first, _last in blocks])
        add_block(self.conn, block, blocks[0][1], blocks[-1][2])
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
