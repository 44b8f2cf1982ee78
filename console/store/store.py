"""The Store: one object the CLI, the workers and the tests talk to."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from console.records import RequestRecord
from console.sources.base import FilePosition, RejectedLine, SourceBatch
from console.store.engine import StoreError, create_store_engine, create_tables, normalise_url
from console.store.rows import SELECT_COLUMNS, body_tuple, record_from_row, request_tuple
from console.store.tables import BODY_COLUMNS, REQUEST_COLUMNS


@dataclass(frozen=True, slots=True)
class WriteResult:
    added: int
    duplicates: int
    rejected: int


def _placeholders(engine: Engine, count: int) -> str:
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


class Store:
    """Requests, their text, rejected lines and source offsets in one database."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = create_store_engine(self.url)
        try:
            create_tables(self.engine)
        except (OperationalError, DBAPIError) as exc:
            raise StoreError(f"cannot open the store {self.display_url}: {exc.orig}") from None
        self._insert_requests = self._insert_sql("requests", REQUEST_COLUMNS)
        self._insert_bodies = self._insert_sql("request_bodies", BODY_COLUMNS)
        offset_marks = _placeholders(self.engine, 5)
        self._upsert_offset = (
            f"INSERT INTO source_offsets (source, inode, \"offset\", line_no, updated_at) "
            f"VALUES ({offset_marks}) ON CONFLICT (source) DO UPDATE SET "
            "inode = excluded.inode, \"offset\" = excluded.\"offset\", "
            "line_no = excluded.line_no, updated_at = excluded.updated_at"
        )
        self._insert_rejected = (
            "INSERT INTO rejected_lines (source, line_no, reason, excerpt, seen_at) "
            f"VALUES ({_placeholders(self.engine, 5)})"
        )

    def _insert_sql(self, table: str, columns: tuple[str, ...]) -> str:
        names = ", ".join(columns)
        marks = _placeholders(self.engine, len(columns))
        return f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT (request_id) DO NOTHING"

    @property
    def display_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------

    def write(self, batch: SourceBatch) -> WriteResult:
        """Rows, rejected lines and the new offsets in one transaction: all or nothing."""
        records = batch.records
        now = time.time()
        with self.engine.begin() as conn:
            added = 0
            if records:
                result = conn.exec_driver_sql(
                    self._insert_requests, [request_tuple(r) for r in records]
                )
                added = max(result.rowcount, 0)
                conn.exec_driver_sql(self._insert_bodies, [body_tuple(r) for r in records])
            if batch.rejected:
                conn.exec_driver_sql(
                    self._insert_rejected,
                    [(r.path, r.line_no, r.reason, r.excerpt, now) for r in batch.rejected],
                )
            if batch.positions:
                conn.exec_driver_sql(
                    self._upsert_offset,
                    [(p.path, p.inode, p.offset, p.line_no, now) for p in batch.positions.values()],
                )
        return WriteResult(added=added, duplicates=len(records) - added, rejected=len(batch.rejected))

    # -- reading -------------------------------------------------------------------

    def positions(self) -> dict[str, FilePosition]:
        with self.engine.connect() as conn:
            rows = conn.execute(text('SELECT source, inode, "offset", line_no FROM source_offsets'))
            return {row[0]: FilePosition(row[0], row[1], row[2], row[3]) for row in rows}

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM requests")).scalar_one()

    def recent(self, limit: int = 2000) -> list[RequestRecord]:
        """The newest `limit` requests, oldest first (the order a tail shows them in)."""
        query = text(
            f"SELECT {SELECT_COLUMNS} FROM requests r "
            "LEFT JOIN request_bodies b ON b.request_id = r.request_id "
            "ORDER BY r.ts DESC, r.id DESC LIMIT :limit"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"limit": limit}).all()
        return [record_from_row(row) for row in reversed(rows)]

    def get(self, request_id: str) -> RequestRecord | None:
        query = text(
            f"SELECT {SELECT_COLUMNS} FROM requests r "
            "LEFT JOIN request_bodies b ON b.request_id = r.request_id "
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
