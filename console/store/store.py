"""The Store: one object the CLI, the workers and the tests talk to."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from console.analytics.columns import ROW_FIELDS, Columns
from console.records import RequestRecord
from console.sources.base import FilePosition, RejectedLine, SourceBatch
from console.store.engine import StoreError, create_store_engine, default_host, normalise_url
from console.store.migrations import migrate
from console.store.rows import SELECT_COLUMNS, record_from_row
from console.store.writers import BatchWriter, CoreBatchWriter, LockRetry, SqliteBatchWriter, WriteResult


class Store:
    """Requests, their text, rejected lines and source offsets in one database."""

    def __init__(self, url: str, *, host: str | None = None, lock_retry: LockRetry | None = None) -> None:
        """host: this machine's name for its file offsets (default: LLMOPS_HOST, else the hostname).
        lock_retry: how a SQLite write waits for a store another process holds locked."""
        self.lock_retry = lock_retry
        self.url = normalise_url(url)
        self.host = host or default_host()
        self.engine = create_store_engine(self.url)
        try:
            migrate(self.engine, self.host)  # creates a new store, upgrades an older one
        except (OperationalError, DBAPIError) as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open the store {self.display_url}: {exc.orig}") from None
        except StoreError:
            self.engine.dispose()
            raise
        self._writer: BatchWriter | None = None

    @property
    def sqlite_path(self) -> str | None:
        """The database file when this is a file-backed SQLite store, else None."""
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database and database != ":memory:":
            return database
        return None

    def _make_writer(self) -> BatchWriter:
        path = self.sqlite_path
        return SqliteBatchWriter(path, self.host, self.lock_retry) if path else CoreBatchWriter(self.engine, self.host)

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
            f"SELECT {SELECT_COLUMNS} FROM requests r "
            "LEFT JOIN request_bodies b ON b.id = r.id "
            f"{where}ORDER BY r.ts DESC, r.id DESC LIMIT :limit"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"limit": limit, "until_id": until_id}).all()
        return [record_from_row(row) for row in reversed(rows)]

    def load_columns(self, since_ts: float | None = None, *, until_id: int | None = None) -> Columns:
        """The numeric columns of every request since `since_ts` (all when None), oldest first.

        until_id: only rows up to that id (a follower then takes the rows after it).
        """
        columns = Columns()
        query = f"SELECT {', '.join(ROW_FIELDS)} FROM requests"
        params: dict[str, float] = {}
        conditions = []
        if since_ts is not None:
            conditions.append("ts >= :since")
            params["since"] = since_ts
        if until_id is not None:
            conditions.append("id <= :until_id")
            params["until_id"] = until_id
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        query += " ORDER BY ts"
        with self.engine.connect() as conn:
            result = conn.execute(text(query), params)
            while rows := result.fetchmany(50_000):
                columns.append_rows(rows)
        from console.store.evaluation import current_verdicts  # labels: the truth for is_bad

        columns.apply_verdicts(current_verdicts(self.engine))
        return columns

    def spend_between(self, start_ts: float, end_ts: float, scope: dict[str, str] | None = None) -> float:
        """Total priced spend with start_ts <= ts < end_ts, optionally within a budget's scope."""
        allowed = {"model", "prompt_id", "user_id", "environment"}
        conditions = ["ts >= :start", "ts < :end", "cost_usd IS NOT NULL"]
        params: dict[str, object] = {"start": start_ts, "end": end_ts}
        for column, value in (scope or {}).items():
            if column not in allowed:
                raise ValueError(f"cannot scope spend by {column!r}")
            conditions.append(f"{column} = :{column}")
            params[column] = value
        query = text(f"SELECT coalesce(sum(cost_usd), 0) FROM requests WHERE {' AND '.join(conditions)}")
        with self.engine.connect() as conn:
            return float(conn.execute(query, params).scalar_one())

    # -- following (team mode: rows written by other consoles and ingesters) -----------

    def max_id(self) -> int:
        """The id of the newest row (0 when empty). Ids grow in commit order (see writers)."""
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM requests")).scalar_one())

    def rows_after(self, last_id: int, limit: int = 5000) -> list[tuple[int, RequestRecord]]:
        """Up to `limit` rows with id > last_id, in id order, each with its id."""
        query = text(
            f"SELECT r.id, {SELECT_COLUMNS} FROM requests r "
            "LEFT JOIN request_bodies b ON b.id = r.id "
            "WHERE r.id > :last_id ORDER BY r.id LIMIT :limit"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"last_id": last_id, "limit": limit}).all()
        return [(row[0], record_from_row(row[1:])) for row in rows]

    def get(self, request_id: str) -> RequestRecord | None:
        query = text(
            f"SELECT {SELECT_COLUMNS} FROM requests r "
            "LEFT JOIN request_bodies b ON b.id = r.id "
            "WHERE r.request_id = :request_id"
        )
        with self.engine.connect() as conn:
            row = conn.execute(query, {"request_id": request_id}).first()
        return None if row is None else record_from_row(row)

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
