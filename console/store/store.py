"""The Store: one object the CLI, the workers and the tests talk to."""

from __future__ import annotations

import os
import sqlite3
from typing import Callable, Iterable, Iterator, Sequence

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from console.analytics.columns import Columns
from console.records import RequestRecord
from console.sources.base import FilePosition, RejectedLine, SourceBatch
from console.store import column_loads, read_queries
from console.malloc import gc_paused
from console.store.column_loads import load_file, load_query
from console.store.engine import StoreError, create_store_engine, default_host, normalise_url
from console.store.body_blocks import fill, reader_for
from console.store.rows import BODY_AT, SELECT_COLUMNS, record_from_row
from console.store.schema_facts import BODY_COLUMNS, CURRENT_VERSION, REQUEST_COLUMNS, stored_version_of_sqlite
from console.store.verdicts import current_verdicts
from console.store.sqlite_writer import BULK_CACHE_MIB, LockRetry, SqliteBatchWriter
from console.store.writers import BatchWriter, CoreBatchWriter, WriteResult


# record_from_row's shape with NULL for every body column (input_is_json/output_is_json: 0)
_NO_TEXT_COLUMNS = ", ".join(
    [f"r.{c}" for c in REQUEST_COLUMNS] + ["0" if c.endswith("_is_json") else "NULL" for c in BODY_COLUMNS[1:]]
)

class Store:
    """Requests, their text, rejected lines and source offsets in one database."""

    def __init__(
        self, url: str, *, host: str | None = None, lock_retry: LockRetry | None = None, writer_cache_mib: int = BULK_CACHE_MIB,
        for_reading: bool = False, notice: Callable[[str], None] | None = None,
    ) -> None:
        """host: this machine's name for its file offsets (default: LLMOPS_HOST, else the hostname).
        lock_retry: how a SQLite write waits for a store another process holds locked.
        writer_cache_mib: the SQLite writer's page cache (see open_sqlite_writer_connection).
        for_reading: a command that reads (report, compare): a SQLite store already at this
        schema version is opened without the migration's checks, which import every table
        definition (sqlmodel, pydantic: a third of such a process's imports); the tables a
        version made are there, and a table or index added since without a version (made by
        the next ordinary open) is not one the reading commands need.
        notice: told when opening upgrades the store, or waits for another's upgrade."""
        self.lock_retry = lock_retry
        self.writer_cache_mib = writer_cache_mib
        self.url = normalise_url(url)
        self.host = host or default_host()
        self.engine = create_store_engine(self.url)
        self.upgraded_from: int | None = None  # the schema version this open upgraded the store from
        try:
            if not (for_reading and self._at_current_version()):
                from console.store.migrations import migrate

                found = migrate(self.engine, self.host, notice)  # creates a new store, upgrades an older one
                if found is not None and found < CURRENT_VERSION:
                    self.upgraded_from = found
        except (OperationalError, DBAPIError) as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open the store {self.display_url}: {exc.orig}") from None
        except StoreError:
            self.engine.dispose()
            raise
        self._writer: BatchWriter | None = None
        self._bodies = reader_for(self.sqlite_path)  # bodies kept in blocks (console.store.body_blocks)

    def _at_current_version(self) -> bool:
        path = self.sqlite_path
        if path is None or not os.path.exists(path):
            return False
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return stored_version_of_sqlite(conn) == CURRENT_VERSION
        except sqlite3.DatabaseError:  # not a database: the migration's open says so
            return False
        finally:
            conn.close()

    @property
    def sqlite_path(self) -> str | None:
        """The database file when this is a file-backed SQLite store, else None."""
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database and database != ":memory:":
            return database
        return None

    def _make_writer(self) -> BatchWriter:
        path = self.sqlite_path
        if path:
            return SqliteBatchWriter(path, self.host, self.lock_retry, self.writer_cache_mib)
        return CoreBatchWriter(self.engine, self.host)

    @property
    def display_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------

    def write(self, batch: SourceBatch) -> WriteResult:
        """Rows, rejected lines and the new offsets in one transaction: all or nothing.

        A request_id already stored (or repeated in the batch) is a duplicate: the first
        one wins, and the others are counted, not written.
        """
        if self._writer is None:
            self._writer = self._make_writer()
        return self._writer.write(batch)

    def discard_writer(self) -> None:
        """Drop the writer after a failed write (disk full, read-only, locked): the next write
        opens a fresh connection."""
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except Exception:  # a broken connection: nothing more to release
                pass

    # -- reading -------------------------------------------------------------------

    def positions(self) -> dict[str, FilePosition]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text('SELECT source, inode, "offset", line_no FROM source_offsets WHERE host = :host'),
                {"host": self.host},
            )
            return {row[0]: FilePosition(row[0], row[1], row[2], row[3]) for row in rows}

    def count(self, *, until_id: int | None = None) -> int:
        where = "" if until_id is None else " WHERE id <= :until_id"
        with self.engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM requests{where}"), {"until_id": until_id}).scalar_one()

    def recent(self, limit: int = 2000, *, until_id: int | None = None) -> list[RequestRecord]:
        """The newest `limit` requests, oldest first (the order a tail shows them in).

        until_id: only rows up to that id (a follower then takes the rows after it).
        """
        where = "" if until_id is None else "WHERE r.id <= :until_id "
        query = text(
            f"SELECT r.id, {SELECT_COLUMNS} FROM requests r "
            "LEFT JOIN request_bodies b ON b.id = r.id "
            f"{where}ORDER BY r.ts DESC, r.id DESC LIMIT :limit"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"limit": limit, "until_id": until_id}).all()
        return [record_from_row(row[1:]) for row in reversed(fill(self._bodies, rows, 0, BODY_AT + 1))]

    def load_columns(
        self,
        since_ts: float | None = None,
        *,
        until_id: int | None = None,
        before_ts: float | None = None,
        verdicts: bool = True,
        processes: int = 1,
        progress: Callable[[int], object] | None = None,
        spare: int = 0,
        blocks: bool = True,
    ) -> Columns:
        """The numeric columns of every request since `since_ts` (all when None), oldest first
        (by ts, then id: the ts index's order).

        until_id: only rows up to that id (a follower then takes the rows after it).
        before_ts: only rows with ts < before_ts (a history loaded in parts, newest first).
        verdicts: apply the labels (the truth for is_bad); a caller that loads in parts applies
        them once to the whole.
        processes: with more than 1, a large load from a SQLite file is split by ts between
        this process and forked children (turning rows into Python values is most of the
        time, and one process does it on one core); only from a single-threaded process.
        progress: called with the rows loaded so far after each chunk (it may raise to stop).
        spare: room for that many more rows (rows to be joined after these: no regrowth).

        blocks: read a SQLite file's column blocks (console.store.column_blocks) and only the
        rows no block covers; False reads every row (as before blocks; the benchmarks compare).

        Rows are read through the raw DB-API cursor and converted a column at a time
        (Columns.append_row_columns): per-row Python work was most of the time it took.
        """
        path = self.sqlite_path
        if path:
            columns = load_file(
                path, since_ts, until_id, before_ts, processes=processes, progress=progress, spare=spare,
                blocks=blocks, count_between=self.count_between, ts_at=self._ts_at,
            )  # fmt: skip
        else:
            total = self.count_between(since_ts, before_ts) + spare  # the ts index: sizes the arrays once
            columns = Columns(total + 16)
            query, params = load_query(since_ts, until_id, before_ts)
            with gc_paused():
                for rows in self._fetch_chunks(query, params):
                    columns.append_row_columns(tuple(zip(*rows)), len(rows))
                    if progress is not None:
                        progress(len(columns))
        if verdicts:
            self.apply_verdicts(columns)
        return columns

    def _ts_at(self, since_ts: float | None, offset: int) -> float | None:
        """The ts of the row `offset` rows after since_ts in ts order (an index-only walk)."""
        query, params = read_queries.ts_at_rank(self._sqlite, since_ts, offset, newest_first=False)
        with self.engine.connect() as conn:
            found = conn.execute(text(query), params).scalar()
        return None if found is None else float(found)

    def apply_verdicts(self, columns: Columns) -> None:
        """Make the stored labels the truth for is_bad in `columns`."""
        columns.apply_verdicts(current_verdicts(self.engine))

    def _fetch_chunks(self, query: str, params: dict, size: int | None = None) -> Iterator[Sequence[tuple]]:
        """The rows of a read-only query, `size` at a time: the raw DB-API cursor on SQLite
        (no SQLAlchemy row objects), a streamed SQLAlchemy result elsewhere."""
        if self.engine.dialect.name == "sqlite":
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                try:
                    cursor.execute(query, params)  # sqlite3 takes :named parameters too
                    while rows := cursor.fetchmany(size or column_loads.LOAD_CHUNK):
                        yield rows
                finally:
                    cursor.close()
            finally:
                raw.close()
            return
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(text(query), params)
            while rows := result.fetchmany(size or column_loads.LOAD_CHUNK):
                yield rows

    def spend_between(self, start_ts: float, end_ts: float, scope: dict[str, str] | None = None) -> float:
        """Total priced spend with start_ts <= ts < end_ts, optionally within a budget's scope."""
        conditions, params = read_queries.scope_conditions(start_ts, end_ts, scope)
        query = text(
            f"SELECT coalesce(sum(cost_usd), 0) FROM requests{self._ts_index} WHERE {' AND '.join(conditions)}"
        )
        with self.engine.connect() as conn:
            return float(conn.execute(query, params).scalar_one())

    def spend_nano_between(self, start_ts: float, end_ts: float, scope: dict[str, str] | None = None) -> int:
        """spend_between in integer nano-dollars, each row rounded as the analytics round it
        (numpy.rint of cost * 1e9: half to even), so a sum split between SQL and loaded
        columns is the same integer as the columns' own sum, to the last nano-dollar."""
        query, params = read_queries.spend_nano_between(self._sqlite, start_ts, end_ts, scope)
        with self.engine.connect() as conn:
            return int(conn.execute(text(query), params).scalar_one())

    def first_seen_between(
        self, since_ts: float | None, before_ts: float, until_id: int | None = None
    ) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
        """The first ts of every model and every (prompt_id, prompt_version) among the rows
        with since_ts <= ts < before_ts (and id <= until_id when given).

        One cheap scan for the distinct names (of the hour rollups), then per name
        the first matching row along the ts index: names show up early, so that stops soon,
        where a GROUP BY sorted every older row (about 2 s per million)."""
        models_q, prompts_q, params = read_queries.first_seen_between(self._sqlite, since_ts, before_ts, until_id)
        with self.engine.connect() as conn:
            models = {m: float(ts) for m, ts in conn.execute(text(models_q), params) if ts is not None}
            prompts = {(p, v): float(ts) for p, v, ts in conn.execute(text(prompts_q), params) if ts is not None}
        return models, prompts

    def has_column_blocks(self) -> bool:
        """True when load_columns reads arrays (a SQLite file with column blocks): a million
        rows then load in well under a second."""
        path = self.sqlite_path
        if not path:
            return False
        conn = sqlite3.connect(path, timeout=30)
        try:
            return conn.execute("SELECT 1 FROM column_blocks LIMIT 1").fetchone() is not None
        finally:
            conn.close()

    def count_between(self, since_ts: float | None = None, before_ts: float | None = None) -> int:
        """How many requests have since_ts <= ts < before_ts (counted on the ts index)."""
        query, params = read_queries.count_between(since_ts, before_ts)
        with self.engine.connect() as conn:
            return int(conn.execute(text(query), params).scalar_one())

    def newest_ts(self, rows: int, since_ts: float | None = None) -> float | None:
        """The ts of the `rows`-th newest request since since_ts (None when there are fewer):
        where a window bounded to that many rows starts (an index-only walk from the end)."""
        query, params = read_queries.ts_at_rank(self._sqlite, since_ts, max(rows - 1, 0), newest_first=True)
        with self.engine.connect() as conn:
            found = conn.execute(text(query), params).scalar()
        return None if found is None else float(found)

    @property
    def _sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def _ts_index(self) -> str:
        return read_queries.ts_index(self._sqlite)

    def read_connection(self):
        """A connection for the rollup reads (console/store/rollup_reads.py, through rollups.Db):
        SQLAlchemy's here; the sqlite3 reader's (console/store/sqlite_reader.py) is a sqlite3 one."""
        return self.engine.connect()

    # -- following (team mode: rows written by other consoles and ingesters) -----------

    def max_id(self) -> int:
        """The id of the newest row (0 when empty). Ids grow in commit order (see writers)."""
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM requests")).scalar_one())

    def rows_after(
        self, last_id: int, limit: int = 5000, *, with_text: bool = True
    ) -> list[tuple[int, RequestRecord]]:
        """Up to `limit` rows with id > last_id, in id order, each with its id.

        with_text=False: without the request_bodies columns (input, output, error message,
        tags, metadata), for a follower that only counts and aggregates: the requests table
        reads the text of the rows it shows itself."""
        body = "LEFT JOIN request_bodies b ON b.id = r.id " if with_text else ""
        columns = SELECT_COLUMNS if with_text else _NO_TEXT_COLUMNS
        query = text(f"SELECT r.id, {columns} FROM requests r {body}WHERE r.id > :last_id ORDER BY r.id LIMIT :limit")
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"last_id": last_id, "limit": limit}).all()
        if with_text:
            rows = fill(self._bodies, rows, 0, BODY_AT + 1)
        return [(row[0], record_from_row(row[1:])) for row in rows]

    def get(self, request_id: str) -> RequestRecord | None:
        """The request with that id; the newest when a SQLite store holds it on two UTC days
        (console/store/day_dedup.py)."""
        query = text(
            f"SELECT r.id, {SELECT_COLUMNS} FROM requests r "
            "LEFT JOIN request_bodies b ON b.id = r.id "
            "WHERE r.request_id = :request_id ORDER BY r.id DESC LIMIT 1"
        )
        with self.engine.connect() as conn:
            row = conn.execute(query, {"request_id": request_id}).first()
        return None if row is None else record_from_row(fill(self._bodies, [row], 0, BODY_AT + 1)[0][1:])

    def request_ids(self) -> Iterable[str]:
        with self.engine.connect() as conn:
            yield from (row[0] for row in conn.execute(text("SELECT request_id FROM requests")))

    def rejected_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM rejected_lines")).scalar_one()

    def rejected_lines(self, limit: int = 500) -> list[RejectedLine]:
        query = text(
            "SELECT source, line_no, reason, excerpt FROM rejected_lines "
            "ORDER BY id DESC LIMIT :limit"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"limit": limit}).all()
        return [RejectedLine(*row) for row in rows]
