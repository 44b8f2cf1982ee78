"""Rollup cells of what a store held before it wrote them (migrations 7, 9 and 10).

`build_all` makes every cell of the rows already stored (versions 7 and 10: from the column
blocks on SQLite, from the rows elsewhere); `build_coarse` makes the day cells and hour totals of the
hour cells already stored (version 9: the hour cells hold the same sums and sketches as their
rows, so no row is read).
"""

from __future__ import annotations

from typing import Iterable

from console.analytics.rollup import DAY, HOUR, REQUESTS, TOTALS, RowArrays, totals
from console.store.rollups import TABLE, Db, _merge_into, read_cells, rows_of_block, write_rows

# hour cells read at a time by build_coarse: whole days, so each day cell is made once
_COARSE_DAYS = 16


def build_all(conn, rows_of: Iterable[RowArrays]) -> int:
    """Cells of the rows already stored, fed in chunks (a migration, in its transaction): the
    tables are emptied first. Returns the rows counted."""
    db = Db(conn)
    for table in TABLE.values():
        db.execute(f"DELETE FROM {table}")
    counted = 0
    for rows in rows_of:
        write_rows(conn, rows)
        counted += len(rows)
    return counted


def build_coarse(conn) -> int:
    """The day cells and hour totals of the stored hour cells (a migration, in its
    transaction; any made before are replaced). Returns the hour cells read."""
    db = Db(conn)
    db.execute("DELETE FROM rollups WHERE span = ?", (DAY,))
    db.execute(f"DELETE FROM {TABLE[TOTALS]}")
    first, last = db.rows("SELECT min(bucket), max(bucket) FROM rollups WHERE span = ?", (HOUR,))[0]
    if first is None:
        return 0
    read = 0
    step = _COARSE_DAYS * DAY
    for low in range(int(first) // DAY * DAY, int(last) + 1, step):
        hours = read_cells(conn, REQUESTS, HOUR, low, low + step)
        if len(hours):
            _merge_into(db, hours.coarser(DAY))
            _merge_into(db, totals(hours))
            read += len(hours)
    return read


_BUILD_CHUNK = 65_536


def stored_rows(conn) -> Iterable[RowArrays]:
    """Every stored row, a chunk at a time, for build_all: from the column blocks (and the
    rows none covers) on SQLite, from the table elsewhere. conn: a SQLAlchemy connection."""
    from console.store import column_blocks

    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        ranges = column_blocks.covered_ranges(raw)
        for first_id, _last_id in ranges:  # one blob in memory at a time
            (data,) = raw.execute("SELECT data FROM column_blocks WHERE first_id = ?", (first_id,)).fetchone()
            yield rows_of_block(column_blocks.RawBlock.decode(data))
        for block in column_blocks.read_uncovered(raw, ranges, None, None, None):
            yield rows_of_block(block)
        return
    result = conn.exec_driver_sql(
        f"SELECT {', '.join(column_blocks.SOURCE_COLUMNS)} FROM requests ORDER BY id",
        execution_options={"stream_results": True},  # this statement's cursor only (server-side)
    )
    while rows := result.fetchmany(_BUILD_CHUNK):
        yield rows_of_block(column_blocks.raw_from_columns(list(zip(*rows)), len(rows)))
