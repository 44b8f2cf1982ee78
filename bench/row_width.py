"""What the width of the `requests` row costs a bulk load: the floor under issue 20's ingest target.

The rows of a store `llmops-console ingest` made (bench/ingest.py's log) are read back and
inserted again with sqlite3 `executemany`, 30,000 rows a transaction (a bulk load's group),
WAL, a 96 MiB page cache, into fresh tables:

  wide          the store's own `requests` table, 25 columns, with its indexes (ts, status of the
                failed requests, UNIQUE (day, request_id))
  wide-bare     the same table with no index but the row id
  narrow        id, request_id, ts, status and the virtual day, with the same three indexes
  narrow-dedup  the narrow row with UNIQUE (day, request_id) alone
  narrow-bare   the narrow row with no index
  packed        the narrow row plus the other 20 columns packed as one JSON array (msgspec,
                timed with the insert) and read back as VIRTUAL generated columns
                (json_extract): every reader's column is still there by name, with the
                wide table's three indexes
  wide-product  the wide table with its indexes, through the console's own insert
                (console.store.sqlite_writer.insert_flat: multi-row VALUES, None bound as NaN)
  wide-apsw     the same through APSW's executemany (APSW's own SQLite), when apsw is
                installed (bench-only: `pip install apsw`): what another driver's binding
                would save the writer

Prints microseconds a row and each variant's rate over `narrow-bare`'s, measured in the same
run, and, with --duckdb-rate (rows/s of DuckDB's load of the same log, from bench/peers.py),
the share of DuckDB's per-row time each insert alone takes (at 0.5 of DuckDB's rate on 2
cores, the whole load has 4/rate seconds of CPU a row). Usage:
python bench/row_width.py STORE [--rows 300000] [--duckdb-rate R] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time

import msgspec

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

GROUP = 30_000
PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-98304", "wal_autocheckpoint=16384")
DAY = "day INTEGER GENERATED ALWAYS AS (CAST(ts / 86400 AS INTEGER)) VIRTUAL"
INDEXES = (
    "CREATE INDEX ix_ts ON requests (ts)",
    "CREATE INDEX ix_status ON requests (status) WHERE status = 'error'",  # as console.store.tables
    "CREATE UNIQUE INDEX ux_day_request ON requests (day, request_id)",
)
NARROW = ("id", "request_id", "ts", "status")


def read_rows(store: str, limit: int) -> tuple[str, list[str], list[tuple]]:
    conn = sqlite3.connect(store)
    table = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'requests'").fetchone()[0]
    columns = [row[1] for row in conn.execute("PRAGMA table_xinfo(requests)") if row[6] == 0]
    rows = conn.execute(f"SELECT {', '.join(columns)} FROM requests ORDER BY id LIMIT ?", (limit,)).fetchall()
    conn.close()
    return table, columns, rows


def insert(
    directory: str, name: str, table: str, indexes: tuple[str, ...], columns: list[str], rows: list, how: str = "executemany"
) -> float:
    """Seconds to insert the rows into a fresh store holding `table` and `indexes`; how:
    executemany (sqlite3), product (the console's insert_flat) or apsw."""
    path = os.path.join(directory, f"row-width-{name}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    if how == "apsw":
        import apsw

        conn = apsw.Connection(path)
    else:
        conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(table)
    for statement in indexes:
        conn.execute(statement)
    head = f"INSERT OR IGNORE INTO requests ({', '.join(columns)})"
    statement = f"{head} VALUES ({', '.join('?' * len(columns))})"
    if how == "product":
        from console.store.sqlite_writer import insert_flat

        width = len(columns)
        nullable = tuple(range(width))  # every column: where a None is, it is bound as NaN
        flat = [value for row in rows for value in row]  # the writer receives rows flat
    started = time.perf_counter()
    for first in range(0, len(rows), GROUP):
        conn.execute("BEGIN")
        if how == "product":
            insert_flat(conn, head, flat[first * width : (first + GROUP) * width], width, nullable)
        else:
            conn.executemany(statement, rows[first : first + GROUP])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return seconds


def packed_layout(columns: list[str]):
    """(the packed table, its inserted columns, rows -> packed rows)."""
    rest = [name for name in columns if name not in NARROW]
    generated = ", ".join(f"{name} GENERATED ALWAYS AS (json_extract(packed, '$[{i}]')) VIRTUAL" for i, name in enumerate(rest))
    table = (
        "CREATE TABLE requests (id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, ts REAL NOT NULL, "
        f"status TEXT NOT NULL, packed TEXT NOT NULL, {generated}, {DAY})"
    )
    narrow_at = [columns.index(name) for name in NARROW]
    rest_at = [columns.index(name) for name in rest]
    encode = msgspec.json.encode

    def pack(rows: list[tuple]) -> list[tuple]:
        return [(*(row[i] for i in narrow_at), encode([row[i] for i in rest_at]).decode()) for row in rows]

    return table, [*NARROW, "packed"], pack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", help="a SQLite store made by llmops-console ingest")
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--duckdb-rate", type=float, default=None, help="DuckDB's load, rows/s (bench/peers.py)")
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()
    wide_table, columns, rows = read_rows(args.store, args.rows)
    narrow_table = f"CREATE TABLE requests (id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, ts REAL NOT NULL, status TEXT NOT NULL, {DAY})"
    at = [columns.index(name) for name in NARROW]
    narrow_rows = [tuple(row[i] for i in at) for row in rows]
    variants = (
        ("wide", wide_table, INDEXES, columns, rows),
        ("wide-bare", wide_table, (), columns, rows),
        ("narrow", narrow_table, INDEXES, list(NARROW), narrow_rows),
        ("narrow-dedup", narrow_table, INDEXES[2:], list(NARROW), narrow_rows),
        ("narrow-bare", narrow_table, (), list(NARROW), narrow_rows),
    )
    seconds = {name: insert(args.dir, name, *rest) for name, *rest in variants}
    seconds["wide-product"] = insert(args.dir, "wide-product", wide_table, INDEXES, columns, rows, "product")
    try:
        import apsw  # noqa: F401
    except ImportError:
        print("  (apsw not installed: no wide-apsw)")
    else:
        seconds["wide-apsw"] = insert(args.dir, "wide-apsw", wide_table, INDEXES, columns, rows, "apsw")
    packed_table, packed_columns, pack = packed_layout(columns)
    started = time.perf_counter()
    packed_rows = pack(rows)
    packing = time.perf_counter() - started
    seconds["packed"] = packing + insert(args.dir, "packed", packed_table, INDEXES, packed_columns, packed_rows)
    base = seconds["narrow-bare"]
    print(f"{len(rows):,} rows of {args.store} ({len(columns)} columns), load {os.getloadavg()[0]:.1f}")
    for name, taken in seconds.items():
        line = f"  {name:13s} {taken / len(rows) * 1e6:6.2f} us a row, {base / taken:5.2f} of narrow-bare's rate"
        if args.duckdb_rate:
            budget = 4 / args.duckdb_rate  # 2 cores, half DuckDB's rate
            line += f", {taken / len(rows) / budget:4.2f} of the CPU a row at 0.5 of DuckDB"
        print(line)
    print(f"  (packed: of which {packing / len(rows) * 1e6:.2f} us a row making the JSON arrays)")


if __name__ == "__main__":
    main()
