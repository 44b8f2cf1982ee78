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
