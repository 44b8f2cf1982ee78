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
from console.store.block_words import BlockWords
from console.store.body_blocks import fill, reader_of_engine
from console.store.rows import BODY_AT, SELECT_COLUMNS, record_from_row
from console.store.word_history import history_conditions, history_with_words, keyset_cut

_ROLLUP_NAMES = {"model", "prompt_id", "prompt_version"}
VOCABULARY_TTL = 5.0  # seconds a column's distinct values are reused for compiling filters


class RequestPages:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._bodies = reader_of_engine(engine)  # bodies in blocks (console.store.body_blocks)
        self._words = BlockWords(self._bodies.path) if self._bodies is not None else None
        self._vocabulary: dict[tuple[str, ...], tuple[float, list[tuple]]] = {}

    def vocabulary(self, columns: tuple[str, ...]) -> list[tuple]:
        """The distinct values stored in `columns` (model, prompt_id, prompt_version: read from
        the hour rollups, which hold every stored row's, so cheap; status is never asked: it is
        ok or error)."""
        cached = self._vocabulary.get(columns)
        if cached is not None and time.monotonic() - cached[0] < VOCABULARY_TTL:
            return cached[1]
        names = ", ".join(columns)
        with self.engine.connect() as conn:
            source = "rollups WHERE span = 3600" if set(columns) <= _ROLLUP_NAMES else "requests"
            values = [tuple(row) for row in conn.execute(text(f"SELECT DISTINCT {names} FROM {source}"))]
        self._vocabulary[columns] = (time.monotonic(), values)
        return values

    def compile(self, record_filter: RecordFilter | None, *, indexed: bool) -> FilterSQL:
        """indexed: for scanning the history (IN lists of stored values, answered from the
        indexes); else conditions on the columns, for the few rows newer than the last look."""
        return compile_filter(record_filter, self.vocabulary if indexed else None, blocks=self._bodies is not None)

    def max_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM requests")).scalar_one())

    def keys(
        self, where: FilterSQL, after_id: int, up_to_id: int | None = None, up_to_ts: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """ids and ts of the rows with after_id < id <= up_to_id that match, by id: the rows
        committed since the last look, which the pager then places by time. up_to_ts: only
        those with ts <= it (the figures' fixed or replayed moment)."""
        with self.engine.connect() as conn:
            return _columns(conn.execute(*self._by_id(where, after_id, up_to_id, up_to_ts)).all())

    @staticmethod
    def _by_id(where: FilterSQL, after_id: int, up_to_id: int | None, up_to_ts: float | None = None):
        conditions = ["r.id > :after_id"]
        params: dict[str, object] = {"after_id": after_id, **where.params}
        if up_to_id is not None:
            conditions.append("r.id <= :up_to_id")
            params["up_to_id"] = up_to_id
        if up_to_ts is not None:
            conditions.append("r.ts <= :up_to_ts")
            params["up_to_ts"] = up_to_ts
        if where.where:
            conditions.append(f"({where.where})")
        join = " LEFT JOIN request_bodies b ON b.id = r.id" if where.needs_body else ""
        return text(f"SELECT r.id, r.ts FROM requests r{join} WHERE {' AND '.join(conditions)} ORDER BY r.id"), params

    def time_span(self) -> tuple[float, float] | None:
        """The oldest and newest ts stored (two lookups on the ts index), for progress."""
        with self.engine.connect() as conn:
            low = conn.execute(text("SELECT min(ts) FROM requests")).scalar()
            high = conn.execute(text("SELECT max(ts) FROM requests")).scalar()
        return None if low is None else (float(low), float(high))

    def keys_in_time(
        self, where: FilterSQL, after_ts: float, up_to_ts: float, up_to_id: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """ids and ts of the rows with after_ts < ts <= up_to_ts (and id <= up_to_id) that
        match, in time order (a replay's rows as its clock reaches them: console/live/replay.py)."""
        conditions = ["r.ts > :after_ts", "r.ts <= :up_to_ts"]
        params: dict[str, object] = {"after_ts": after_ts, "up_to_ts": up_to_ts, **where.params}
        if up_to_id is not None:
            conditions.append("r.id <= :up_to_id")
            params["up_to_id"] = up_to_id
        if where.where:
            conditions.append(f"({where.where})")
        join = " LEFT JOIN request_bodies b ON b.id = r.id" if where.needs_body else ""
        query = text(f"SELECT r.id, r.ts FROM requests r{join} WHERE {' AND '.join(conditions)} ORDER BY r.ts, r.id")
        with self.engine.connect() as conn:
            return _columns(conn.execute(query, params).all())

    def history_keys(
        self, where: FilterSQL, up_to_id: int, before: tuple[float, int] | None, limit: int,
        up_to_ts: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray, tuple[float, int] | None]:
        """Up to `limit` rows with id <= up_to_id that come just before `before` (a (ts, id)
        position; None: the newest) in (ts, id) order, ascending: their ids and ts; and the
        position to continue from (None when the oldest row was reached).

        The history is shown in time order (several files ingested one after the other
        are interleaved by ts); rows committed later are placed among them by the pager
        (console/live/shown_order.py). Read newest first by keyset on the ts index (whose
        entries end with the rowid on SQLite, so ORDER BY ts DESC, id DESC is the index's
        own order; PostgreSQL sorts the ties of each ts incrementally).
        up_to_ts: only rows with ts <= it (a replay's moment).

        With text words on a store with body blocks, a step may return fewer rows before
        the end (console.store.word_history)."""
        if where.words and self._words is not None:
            with self.engine.connect() as conn:
                return history_with_words(conn, self._words, where, up_to_id, before, limit, up_to_ts)
        conditions, params = history_conditions(up_to_id, up_to_ts, where.where, where.params)
        conditions += keyset_cut(before, params)
        params["limit"] = limit
        join = " LEFT JOIN request_bodies b ON b.id = r.id" if where.needs_body else ""
        query = text(
            f"SELECT r.id, r.ts FROM requests r{join} WHERE {' AND '.join(conditions)} "
            "ORDER BY r.ts DESC, r.id DESC LIMIT :limit"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query, params).all()
        if not rows:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64), None
        last = rows[-1]
        ids, ts = _columns(rows[::-1])
        return ids, ts, (None if len(rows) < limit else (float(last[1]), int(last[0])))

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
        rows = fill(self._bodies, rows, 0, BODY_AT + 1)
        return {row[0]: record_from_row(row[1:]) for row in rows}


def _columns(rows) -> tuple[np.ndarray, np.ndarray]:
    """(id, ts) rows as an int64 and a float64 array."""
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    ts = np.fromiter((row[1] for row in rows), dtype=np.float64, count=len(rows))
    return ids, ts
