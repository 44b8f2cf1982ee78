"""Rollup cells in the store: written with the rows, read for windows too large to load.

`write_rows` is called by both batch writers inside the transaction that inserts the rows
(a crash loses the rows and their cells together, or neither): the batch's minute cells, their
hour and day cells and hour totals are merged into the stored cells of the same buckets (read,
merged with console.analytics.rollup, the old rows replaced). Writers take turns on the
store's write lock (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so a
read-merge-write never races another. console/store/rollup_builds.py makes the cells of rows
stored before version 7, and the day cells and hour totals of hour cells stored before 9.

Works on a sqlite3 connection (the SQLite writer) or a SQLAlchemy connection (PostgreSQL,
and every reader), through `Db`.
"""

from __future__ import annotations

import math
import sqlite3
from typing import Iterator, Sequence

import numpy as np

from console.analytics.rollup import (
    DAY, HOUR, MINUTE, REQUESTS, TOTALS, USERS, CellKind, CellTable, RowArrays, cells_of_rows, prompt_keys, totals,
)  # fmt: skip
from console.store.rollup_cells import COLUMNS, TABLE, CellRowsGathered, cell_table, merged_cells, sql_columns

_DELETE_CHUNK = 500


class Db:
    """The few statements rollups need, on a sqlite3 connection or a SQLAlchemy one."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.raw = isinstance(conn, sqlite3.Connection)
        self.qmark = self.raw or conn.dialect.paramstyle == "qmark"
        self.sqlite = self.raw or conn.dialect.name == "sqlite"

    def _sql(self, sql: str) -> str:
        return sql if self.qmark else sql.replace("?", "%s")

    def rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        if self.raw:
            return self.conn.execute(sql, params).fetchall()
        # the driver's own cursor, in the connection's transaction: plain tuples, no Row objects
        cursor = self.conn.connection.driver_connection.cursor()
        try:
            cursor.execute(self._sql(sql), tuple(params))
            return cursor.fetchall()
        finally:
            cursor.close()

    def chunks(self, sql: str, params: Sequence, size: int) -> Iterator[list[tuple]]:
        """The rows of a query, `size` at a time."""
        cursor = self.conn.execute(sql, params) if self.raw else self.conn.connection.driver_connection.cursor()
        try:
            if not self.raw:
                cursor.execute(self._sql(sql), tuple(params))
            while rows := cursor.fetchmany(size):
                yield rows
        finally:
            cursor.close()

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        head = f"INSERT INTO {table} ({', '.join(columns)})"
        if self.raw:
            from console.store.sqlite_writer import insert_values  # multi-row statements (see there)

            insert_values(self.conn, head, rows)
        else:
            self.conn.exec_driver_sql(self._sql(f"{head} VALUES ({', '.join('?' * len(columns))})"), rows)

    def insert_columns(self, table: str, columns: Sequence[str], values: list[list]) -> None:
        """insert of rows given column by column (values[i]: every row's columns[i]); on SQLite
        laid out as insert_flat's one list by slice assignments (zipping them into tuples and
        flattening those took ~6x as long)."""
        count = len(values[0]) if values else 0
        if not count:
            return
        if not self.raw:
            self.insert(table, columns, list(zip(*values)))
            return
        from console.store.sqlite_writer import insert_flat  # multi-row statements (see there)

        width = len(values)
        flat: list = [None] * (count * width)
        for at, column in enumerate(values):
            flat[at::width] = column
        insert_flat(self.conn, f"INSERT INTO {table} ({', '.join(columns)})", flat, width)

    def execute(self, sql: str, params: Sequence = ()) -> None:
        if self.raw:
            self.conn.execute(sql, params)
        else:
            self.conn.exec_driver_sql(self._sql(sql), tuple(params))

    def delete_ids(self, table: str, ids: list[int]) -> None:
        for first in range(0, len(ids), _DELETE_CHUNK):
            chunk = ids[first : first + _DELETE_CHUNK]
            sql = f"DELETE FROM {table} WHERE id IN ({', '.join('?' * len(chunk))})"
            if self.raw:
                self.conn.execute(sql, chunk)
            else:
                self.conn.exec_driver_sql(self._sql(sql), tuple(chunk))



# Cells read a chunk of SQL rows at a time: the tuples of a whole read (~1 KB a cell, 21k hour
# cells in a 1M-row report) were held at once beside the columns made of them.
_READ_CHUNK = 4096


# -- writing -----------------------------------------------------------------------------------


# Minute cells are kept for the newest MINUTE_CELLS_KEPT_S of the store's data (whole UTC days
# further back); older minutes live on in their hour cells, which hold the same sums and
# sketches, and in the rows. At the bench's ~6 requests per minute and cell key the minute
# cells are a third as many as the rows: kept forever they would grow with the store. 40 days
# covers a week's backtest (`check --backtest`) and the month before it a budget looks at.
MINUTE_CELLS_KEPT_S = 40 * DAY


def write_rows(conn, rows: RowArrays) -> None:
    """Merge the cells of these rows (just inserted, in the caller's transaction) into the
    store, and drop the minute cells that fell out of MINUTE_CELLS_KEPT_S in the same
    transaction (a crash keeps the old cells or the new, never a part)."""
    if not len(rows):
        return
    db = Db(conn)
    minute, users = cells_of_rows(rows, MINUTE)
    hour = minute.coarser(HOUR)
    _merge_into(db, hour)
    _merge_into(db, hour.coarser(DAY))
    _merge_into(db, totals(hour))
    minute = minute.take(minute.bucket >= _prune_minutes(db, int(minute.bucket.max())))
    if len(minute):
        _merge_into(db, minute)
    _merge_into(db, users)
    _merge_into(db, users.coarser(DAY))


def _prune_minutes(db: Db, newest_in_batch: int) -> int:
    """Drop the minute cells older than the horizon (the newest minute stored or written
    minus MINUTE_CELLS_KEPT_S, back to a whole UTC day) and return it: the batch writes
    minute cells from there on (a late row further back is counted in its hour only).

    The horizon only moves forward, so the minute cells hold every row from the oldest one
    kept on (minutes_complete_from), which is what readers go by. Lowering
    MINUTE_CELLS_KEPT_S in a later version keeps that true; raising it would not (minutes
    pruned under the old value would be written again from the new horizon on, the ones
    between left out) without a stored boundary."""
    # two subqueries: SQLite reads a lone min() or max() off the index's end, both at once by a scan
    oldest, newest = db.rows(
        "SELECT (SELECT min(bucket) FROM rollups WHERE span = ?), (SELECT max(bucket) FROM rollups WHERE span = ?)",
        (MINUTE, MINUTE),
    )[0]
    newest = newest_in_batch if newest is None else max(int(newest), newest_in_batch)
    horizon = (newest - MINUTE_CELLS_KEPT_S) // DAY * DAY
    if oldest is not None and int(oldest) < horizon:
        db.execute("DELETE FROM rollups WHERE span = ? AND bucket < ?", (MINUTE, horizon))
    return horizon


def minutes_complete_from(conn) -> int | None:
    """The first minute from which the minute cells hold every stored row (the older
    minutes' rows are counted in their hour cells only, see MINUTE_CELLS_KEPT_S); None when
    there are no minute cells (no rows)."""
    found = Db(conn).rows("SELECT min(bucket) FROM rollups WHERE span = ?", (MINUTE,))[0][0]
    return None if found is None else int(found)


def _merge_into(db: Db, cells: CellTable) -> None:
    kind, table = cells.kind, TABLE[cells.kind]
    where, params = _where(kind, cells.span, int(cells.bucket.min()), int(cells.bucket.max()) + 1)
    found = db.rows(f"SELECT id, {', '.join(COLUMNS[kind])} FROM {table}{where}", params)
    # only the cells of keys this batch adds to are rewritten (a day's user cells: ~1 in 3 for a small batch)
    replaced = merged_cells(cells, found) if found else None
    if replaced is not None:
        ids, cells = replaced
        db.delete_ids(table, ids)
    db.insert_columns(table, COLUMNS[kind], sql_columns(cells))


# -- reading -----------------------------------------------------------------------------------


def read_cells(conn, kind: CellKind, span: int, since: float | None, before: float | None) -> CellTable:
    """The stored cells of a span whose buckets lie in [since, before) (whole buckets: both
    bounds should be multiples of the span)."""
    where, params = _where(kind, span, None if since is None else int(np.ceil(since)),
                           None if before is None else int(np.ceil(before)))  # fmt: skip
    names = [name for name in COLUMNS[kind] if name != "span"]  # the one asked for: ~2.5 us a cell fewer in all
    gathered = CellRowsGathered(names)
    for rows in Db(conn).chunks(f"SELECT {', '.join(names)} FROM {TABLE[kind]}{where}", params, _READ_CHUNK):
        gathered.add(rows)
    return gathered.table(kind, span)


def _where(
    kind: CellKind, span: int, since: int | None, before: int | None, span_literal: bool = False
) -> tuple[str, list]:
    """WHERE for cells of a span with since <= bucket < before (TOTALS: hours, no span column;
    span_literal: the span written into the SQL, as SQLite needs to use a partial index on it)."""
    if kind is TOTALS:
        terms, params = [], []
    else:
        terms, params = ([f"span = {int(span)}"], []) if span_literal else (["span = ?"], [span])
    if since is not None:
        terms.append("bucket >= ?")
        params.append(since)
    if before is not None:
        terms.append("bucket < ?")
        params.append(before)
    return (f" WHERE {' AND '.join(terms)}" if terms else ""), params


def day_parts(since: float | None, before: float) -> list[tuple[int, int | None, int]]:
    """[since, before) as (span, from, to) pieces in time order: its whole UTC days as day
    cells, the hours around them as hour cells (from None: from the first cell). Day cells
    are ~24x fewer: a month's window reads ~1/20 of the cells (see write_rows)."""
    days_from = None if since is None else math.ceil(since / DAY) * DAY
    days_to = math.floor(before / DAY) * DAY
    low, high = None if since is None else math.ceil(since), math.ceil(before)  # buckets are whole seconds
    if days_from is not None and days_from >= days_to:  # no whole day: hours only
        return [(HOUR, low, high)]
    parts = [(DAY, days_from, days_to), (HOUR, days_to, high)]
    return parts if since is None or low >= days_from else [(HOUR, low, days_from), *parts]


def _union(
    kind: CellKind, columns: str, since: float | None, before: float, extra: str = "", extra_params=(), indexed=None
):
    """(SQL, params): `columns` of the cells in [since, before) by day_parts, one UNION ALL
    (`extra` ends each part's WHERE; indexed: span -> SQLite's INDEXED BY clause for a part
    from the first cell on, which reads every cell of the span anyway)."""
    indexed = indexed or {}
    selects, params = [], []
    for span, low, high in day_parts(since, before):
        where, found = _where(kind, span, low, high, span_literal=True)
        table = f"{TABLE[kind]}{indexed.get(span, '') if low is None else ''}"
        selects.append(f"SELECT {columns} FROM {table}{where}{extra}")
        params += [*found, *extra_params]
    return " UNION ALL ".join(selects), params


def user_spend(conn, since: float | None, before: float) -> CellTable:
    """Each user's requests, priced requests and spend in [since, before) (whole hours), summed
    by the database (one row per user): the day cells of whole days, hour cells around them,
    each part summed per user first (the day cells' along rollup_tables.USER_DAYS_INDEX)."""
    db = Db(conn)
    sums = ", ".join(f"sum({name}) AS {name}" for name in USERS.sums)
    # without stats SQLite would read them by (span, bucket) and sort them by user
    indexed = {DAY: " INDEXED BY ix_rollup_users_days"} if db.sqlite else None
    union, params = _union(USERS, f"user_id, {sums}", since, before, " GROUP BY user_id", indexed=indexed)
    sums = ", ".join(f"sum({name})" for name in USERS.sums)
    rows = db.rows(f"SELECT 0, 0, user_id, {sums} FROM ({union}) AS cells GROUP BY user_id", params)
    return cell_table(USERS, HOUR, rows)


def cost_nano_between(conn, since: float, before: float, scope: dict[str, str]) -> int:
    """The spend in nano-dollars of the request cells in [since, before) (whole hours) whose
    columns equal scope's (model, prompt_id, environment)."""
    terms = "".join(f" AND {column} = ?" for column in scope)
    union, params = _union(REQUESTS, "cost_nano", since, before, terms, tuple(scope.values()))
    return int(Db(conn).rows(f"SELECT coalesce(sum(cost_nano), 0) FROM ({union}) AS cells", params)[0][0])


def first_seen(conn, before: float) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """The first ts of every model and (prompt_id, version) in the hour cells before `before`
    (day cells for the whole days: the same min_ts)."""
    db = Db(conn)
    union, params = _union(REQUESTS, "model, prompt_id, prompt_version, min_ts", None, before)
    models = db.rows(f"SELECT model, min(min_ts) FROM ({union}) AS cells GROUP BY model", params)
    prompts = db.rows(
        f"SELECT prompt_id, prompt_version, min(min_ts) FROM ({union}) AS cells GROUP BY prompt_id, prompt_version", params
    )
    return {m: float(ts) for m, ts in models}, {(p, v): float(ts) for p, v, ts in prompts}


def oldest_ts(conn) -> float | None:
    """The first ts of any cell: the oldest hour's cells' (one bucket, by the index)."""
    found = Db(conn).rows(
        "SELECT min(min_ts) FROM rollups WHERE span = ? AND bucket = (SELECT min(bucket) FROM rollups WHERE span = ?)",
        (HOUR, HOUR),
    )[0][0]
    return None if found is None else float(found)


def rows_of_block(block) -> RowArrays:
    """A column block's rows (console.store.column_blocks.RawBlock) as the cells take them:
    bad and rated by feedback, as before any label (labels are applied when a window is read)."""
    arrays, names = block.arrays, block.names
    codes = {
        "model": arrays["model"], "prompt_id": arrays["prompt_id"], "prompt_hash": arrays["prompt_hash"],
        "environment": arrays["environment"], "user": arrays["user_id"],
    }  # fmt: skip
    text = {"model": names["model"], "prompt_id": names["prompt_id"], "prompt_hash": names["prompt_hash"],
            "environment": names["environment"], "user": names["user_id"]}  # fmt: skip
    codes["prompt"], text["prompt"] = prompt_keys(
        arrays["prompt_id"], names["prompt_id"], arrays["prompt_version"], names["prompt_version"]
    )
    feedback = arrays["feedback"]
    return RowArrays(
        ts=arrays["ts"], latency_ms=arrays["latency_ms"], ttft_ms=arrays["ttft_ms"], cost_usd=arrays["cost_usd"],
        estimated_cost_usd=arrays["estimated_cost_usd"],
        is_error=arrays["is_error"], is_bad=np.nan_to_num(feedback, nan=0.0) < 0, is_rated=~np.isnan(feedback),
        tokens={name: arrays[name] for name in ("input_tokens", "output_tokens", "cached_input_tokens")},
        codes=codes, names=text,
    )  # fmt: skip
