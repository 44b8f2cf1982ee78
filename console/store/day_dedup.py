"""A new SQLite store finds a duplicate request by (UTC day of ts, request_id), not by
request_id across the whole store.

Why: request ids are random, so a UNIQUE (request_id) index takes every batch of inserts to
most of its leaf pages, and once it outgrows the page cache each batch rereads and rewrites
them: a narrow insert ran at 83k rows/s over the first million rows and 22-27k at 8-10M,
against 216k, flat, without that index. An index led by the day is written at its end, like
the ts index (215k overall): ingest of a big store no longer slows as it grows.

The layout (made when the `requests` table is created, by tables.py's after_create hook):
`day`, a virtual generated column (nothing stored, nothing for the writers to fill), and a
UNIQUE INDEX on (day, request_id); INSERT OR IGNORE skips a duplicate of the same day. The
same request_id on another UTC day is a second request. Stores made before keep their
UNIQUE (request_id) (a 10M-row table is not rebuilt on open), PostgreSQL stores too (several
writers, ON CONFLICT (request_id)): the same queries read both layouts.

A lookup or join by request_id reads that index by skip-scan (one seek per stored day), which
SQLite plans only when sqlite_stat1 says a day holds many rows; without it every such query
built an automatic index of the whole table (seconds at 10M rows). So the statistic is
planted with the table (SQLite documents that applications may write sqlite_stat1), and an
ordinary open plants it again (dropping that ANALYZE's other figures of `requests`) when an
ANALYZE run by hand on a small store left figures of a few rows a day: they would still be
read when the store had grown. The console itself never runs ANALYZE or PRAGMA optimize.

A join over a time window names the window's days (window_days, days_term): the seeks are then
one per day of the window, not one per stored day (a year-long store: ~12x a month's). The
days are listed (`day IN (...)`), not ranged: SQLite 3.40 plans `day BETWEEN a AND b` as the
same skip-scan over every stored day and checks the range on the rows it found (measured: the
same 590 ms for 500 labels' seven-day correction on a 365-day store, 2.7 ms with the list).
A seek a listed day is also ~4-5x cheaper than a skip-scan step, so triage's low_scored, over
all time, lists every stored day (bench/request_id_days.py).
"""

from __future__ import annotations

import sqlite3

DAY_INDEX = "ux_requests_day_request_id"
DAY_COLUMN = "day INTEGER GENERATED ALWAYS AS (CAST(ts / 86400 AS INTEGER)) VIRTUAL"
# rows of the table, rows a day, rows a (day, request_id): only the shape matters to the
# planner (many rows a day: skip-scan; one a key: a seek), not the figures
PLANTED_STAT = "1000000 30000 1"
# below this many rows a day in sqlite_stat1 the planner gives up skip-scan (it wants ~18)
FEWEST_ROWS_A_DAY = 1000
# generated columns are SQLite 3.31 (2020); an older library makes the old layout
SUPPORTED = sqlite3.sqlite_version_info >= (3, 31, 0)
OLD_LAYOUT_INDEX = "ux_requests_request_id"


def make_layout(conn) -> None:
    """On the `requests` table just created (a SQLAlchemy connection, in its transaction)."""
    if not SUPPORTED:
        conn.exec_driver_sql(f"CREATE UNIQUE INDEX {OLD_LAYOUT_INDEX} ON requests (request_id)")
        return
    conn.exec_driver_sql(f"ALTER TABLE requests ADD COLUMN {DAY_COLUMN}")
    conn.exec_driver_sql(f"CREATE UNIQUE INDEX {DAY_INDEX} ON requests (day, request_id)")
    plant_statistic(conn)


def window_days(conn, since: float | None, before: float | None) -> tuple[int, int] | None:
    """(first, last): the UTC days of the rows with since <= ts <= before (an open end: the
    oldest or newest stored row's), for days_term; None when the store has no day column (a
    store of the old layout, PostgreSQL: the statement stays as it was) or no rows.

    conn: a sqlite3 connection (the report's reader) or a SQLAlchemy one (either dialect)."""
    raw = isinstance(conn, sqlite3.Connection)
    if not raw and conn.dialect.name != "sqlite":
        return None

    def row(sql: str, params: tuple = ()) -> tuple | None:
        return (conn.execute(sql, params) if raw else conn.exec_driver_sql(sql, params)).fetchone()

    if row("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (DAY_INDEX,)) is None:
        return None
    # two seeks of the ts index (min and max in one SELECT would scan the table)
    oldest, newest = row("SELECT (SELECT min(ts) FROM requests), (SELECT max(ts) FROM requests)")
    if oldest is None:
        return None
    low = oldest if since is None else max(since, oldest)
    high = newest if before is None else min(before, newest)
    return day_of(low), max(day_of(high), day_of(low))


def day_of(ts: float) -> int:
    """The `day` SQLite computes, CAST(ts / 86400 AS INTEGER): the same float division, and int()
    truncates as CAST does (toward zero), so a bound's day is exactly its rows' day."""
    return int(ts / 86400)


def days_term(first: str, last: str, alias: str = "r") -> str:
    """`alias.day IN` the days from the placeholder `first` to `last` (window_days' pair):
    SQLite seeks (day, request_id) once for each listed day."""
    return (
        f"{alias}.day IN (WITH RECURSIVE window_day(n) AS "
        f"(SELECT {first} UNION ALL SELECT n + 1 FROM window_day WHERE n < {last}) SELECT n FROM window_day)"
    )


def days_bound(conn, since: float | None, before: float | None, params: dict) -> str | None:
    """days_term over window_days' days with named parameters, which it adds to params; None
    on a layout without a day column (the statement stays as it was)."""
    days = window_days(conn, since, before)
    if days is None:
        return None
    params["first_day"], params["last_day"] = days
    return days_term(":first_day", ":last_day")


def plant_statistic(conn) -> None:
    """The planted row, the only one of `requests`: an ANALYZE's rows of its other indexes say
    the table's size too, and a tiny one's (a few rows) made every lookup a scan once it grew."""
    # ANALYZE of sqlite_master (no indexes: no rows) creates sqlite_stat1 when missing; the
    # second one makes this connection read the planted row (others read it when they open)
    conn.exec_driver_sql("ANALYZE sqlite_master")
    conn.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'requests'")
    conn.exec_driver_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('requests', ?, ?)", (DAY_INDEX, PLANTED_STAT))
    conn.exec_driver_sql("ANALYZE sqlite_master")


def is_day_layout(conn) -> bool:
    """True when the store dedups by (day, request_id) (a SQLAlchemy connection to SQLite)."""
    found = conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (DAY_INDEX,))
    return found.first() is not None


def keep_statistic(conn) -> bool:
    """Plant the statistic again when it is missing or says a day holds few rows (an ANALYZE
    over a small store); True when it did (the caller commits)."""
    if not is_day_layout(conn):
        return False
    if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first() is not None:
        row = conn.exec_driver_sql(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'requests' AND idx = ?", (DAY_INDEX,)
        ).first()
        if row is not None and _rows_a_day(row[0]) >= FEWEST_ROWS_A_DAY:
            return False
    plant_statistic(conn)
    return True


def _rows_a_day(stat: str) -> int:
    try:
        return int(stat.split()[1])
    except (IndexError, ValueError):
        return 0
