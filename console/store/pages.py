"""The requests history as pages: row ids in order (optionally filtered), and the rows for
the ids on screen. The requests view keeps only the ids (8 bytes a row) and asks for the
few rows it draws, the way toolong keeps line offsets and reads lines from the file.
"""

from __future__ import annotations

import time

import numpy as np
from sqlalchemy import Engine, text

from console.analytics.filters import RecordFilter
from console.records import RequestRecord
from console.store.filter_sql import FilterSQL, compile_filter
from console.store.rows import SELECT_COLUMNS, record_from_row

VOCABULARY_TTL = 5.0  # seconds a column's distinct values are reused for compiling filters


class RequestPages:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._vocabulary: dict[tuple[str, ...], tuple[float, list[tuple]]] = {}

    def vocabulary(self, columns: tuple[str, ...]) -> list[tuple]:
        """The distinct values stored in `columns` (read from their index, so cheap)."""
        cached = self._vocabulary.get(columns)
        if cached is not None and time.monotonic() - cached[0] < VOCABULARY_TTL:
            return cached[1]
        names = ", ".join(columns)
        with self.engine.connect() as conn:
            values = [tuple(row) for row in conn.execute(text(f"SELECT DISTINCT {names} FROM requests"))]
        self._vocabulary[columns] = (time.monotonic(), values)
        return values

    def compile(self, record_filter: RecordFilter | None, *, indexed: bool) -> FilterSQL:
        """indexed: for scanning the history (IN lists of stored values, answered from the
        indexes); else LIKE conditions, for the few rows newer than the last look."""
        return compile_filter(record_filter, self.vocabulary if indexed else None)

    def max_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM requests")).scalar_one())

    def ids(self, where: FilterSQL, after_id: int, up_to_id: int | None = None) -> np.ndarray:
        """The ids of the rows with after_id < id <= up_to_id that match, ascending."""
        conditions = ["r.id > :after_id"]
        params: dict[str, object] = {"after_id": after_id, **where.params}
        if up_to_id is not None:
            conditions.append("r.id <= :up_to_id")
            params["up_to_id"] = up_to_id
        if where.where:
            conditions.append(f"({where.where})")
        join = " JOIN request_bodies b ON b.id = r.id" if where.needs_body else ""
        query = text(f"SELECT r.id FROM requests r{join} WHERE {' AND '.join(conditions)} ORDER BY r.id")
        with self.engine.connect() as conn:
            result = conn.execute(query, params)
            return np.fromiter((row[0] for row in result), dtype=np.int64)

    def records(self, ids: list[int]) -> dict[int, RequestRecord]:
        """The rows with these ids (a screenful), with their text."""
        if not ids:
            return {}
        marks = ", ".join(f":i{n}" for n in range(len(ids)))
        query = text(
            f"SELECT r.id, {SELECT_COLUMNS} FROM requests r "
            f"LEFT JOIN request_bodies b ON b.id = r.id WHERE r.id IN ({marks})"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query, {f"i{n}": int(i) for n, i in enumerate(ids)}).all()
        return {row[0]: record_from_row(row[1:]) for row in rows}
