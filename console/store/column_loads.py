"""Store.load_columns from a SQLite file: the column blocks, or (for rows no block covers,
and the benchmarks' comparison) the rows themselves through the raw sqlite3 cursor, a column
at a time, optionally split by ts between this process and forked readers."""

from __future__ import annotations

import sqlite3
from typing import Callable

from console.analytics.columns import ROW_FIELDS, Columns
from console.malloc import gc_paused
from console.store.read_queries import ts_range

LOAD_CHUNK = 25_000  # rows converted to columns at a time (bounded memory for the row tuples)
# Columns.append_row_columns' input (ROW_FIELDS), a missing cached token count read as 0
# and status as 1/0 (SQLite's small ints, not a string per row; append_row_columns takes both)
_LOAD_EXPRESSIONS = {"cached_input_tokens": "coalesce(cached_input_tokens, 0)", "status": "status = 'error'"}
_LOAD_SELECT = ", ".join(_LOAD_EXPRESSIONS.get(name, name) for name in ROW_FIELDS)


def load_query(since_ts: float | None, until_id: int | None, before_ts: float | None) -> tuple[str, dict]:
    """SELECT of the columns a Columns holds, in (ts, id) order: what the ts index gives
    (a range scan on it when bounded by ts, no sort either way)."""
    conditions, params = ts_range(since_ts, before_ts)
    if until_id is not None:
        conditions.append("id <= :until_id")
        params["until_id"] = until_id
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {_LOAD_SELECT} FROM requests{where} ORDER BY ts, id", params


PARALLEL_MIN_ROWS = 200_000  # below this a load in parts costs more than it saves


def can_fork() -> bool:
    import multiprocessing
    import threading

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def read_rows(
    path: str, since_ts: float | None, until_id: int | None, before_ts: float | None, capacity: int,
    progress: Callable[[int], object] | None = None,
) -> Columns:
    """Store.load_columns' rows from a SQLite file on a connection of its own (also in a
    forked child, which must not touch the parent's), through the raw sqlite3 cursor."""
    query, params = load_query(since_ts, until_id, before_ts)
    columns = Columns(capacity + 16)
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    try:
        with gc_paused():
            cursor = conn.execute(query, params)
            while rows := cursor.fetchmany(LOAD_CHUNK):
                columns.append_row_columns(tuple(zip(*rows)), len(rows))
                if progress is not None:
                    progress(len(columns))
    finally:
        conn.close()
    return columns


def read_from_blocks(
    path: str, since_ts: float | None, until_id: int | None, before_ts: float | None, spare: int
) -> Columns | None:
    """load_columns from the column blocks; None when the store has none."""
    from console.store import column_blocks

    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    try:
        with gc_paused():
            return column_blocks.load(conn, since_ts, before_ts, until_id, spare)
    finally:
        conn.close()


def _send_columns(send, path: str, since_ts, until_id, before_ts, capacity: int) -> None:
    """A forked child's part of a load in parts."""
    send.send(read_rows(path, since_ts, until_id, before_ts, capacity))
    send.close()


def load_in_parts(
    path: str, since_ts: float | None, until_id: int | None, before_ts: float | None, total: int,
    processes: int, ts_at: Callable[[float | None, int], float | None],
) -> Columns:
    """read_rows split at ts boundaries into `processes` parts of about equal rows (ts_at:
    the ts `offset` rows after since_ts): the older parts read by forked children (sent back
    pickled), the newest here, then joined oldest first (Columns.extend: the same codes and
    first_seen as one load)."""
    import multiprocessing

    bounds: list[float | None] = [since_ts]
    for part in range(1, processes):
        bounds.append(ts_at(since_ts, total * part // processes))
    bounds.append(before_ts)
    context = multiprocessing.get_context("fork")
    children = []
    for low, high in zip(bounds[:-2], bounds[1:-1]):
        receive, send = context.Pipe(duplex=False)
        share = total // processes + 16
        child = context.Process(target=_send_columns, args=(send, path, low, until_id, high, share), daemon=True)
        child.start()
        send.close()
        children.append((child, receive, low, high))
    newest = read_rows(path, bounds[-2], until_id, bounds[-1], total // processes + 16)
    joined = Columns(total + 16)
    for child, receive, low, high in children:
        try:
            part = receive.recv()
        except (EOFError, OSError):  # the child failed: read its part here
            part = read_rows(path, low, until_id, high, total // processes + 16)
        finally:
            receive.close()
            child.join()
        joined.extend(part)
        del part
    joined.extend(newest)
    return joined


def load_file(
    path: str, since_ts: float | None, until_id: int | None, before_ts: float | None, *, processes: int,
    progress: Callable[[int], object] | None, spare: int, blocks: bool,
    count_between: Callable[[float | None, float | None], int], ts_at: Callable[[float | None, int], float | None],
) -> Columns:
    """Store.load_columns from a SQLite file, before the labels are applied (the Store's and the
    sqlite3 reader's, console/store/sqlite_reader.py): the column blocks and the rows none
    covers, else the rows (in parts over forked readers when large)."""
    if blocks:
        columns = read_from_blocks(path, since_ts, until_id, before_ts, spare)
        if columns is not None:
            if progress is not None:
                progress(len(columns))
            return columns
    total = count_between(since_ts, before_ts) + spare  # the ts index: sizes the arrays once
    if processes > 1 and total >= PARALLEL_MIN_ROWS and can_fork() and progress is None:
        return load_in_parts(path, since_ts, until_id, before_ts, total, processes, ts_at)
    return read_rows(path, since_ts, until_id, before_ts, total, progress)
