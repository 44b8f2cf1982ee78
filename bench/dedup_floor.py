"""The floor a dedup index puts under SQLite inserts as the store grows.

A narrow `requests` table (id, request_id, ts), random request ids, 10,000-row transactions,
WAL, a 96 MiB page cache (the console's bulk writer's), 4 rows a second of ts (~29 days in
10M rows), with each way of finding duplicates:

  none   the ts index only: no dedup (the baseline)
  rid    UNIQUE (request_id): stores made before console/store/day_dedup.py
  day    a virtual day column and UNIQUE (day, request_id): a new store's layout
  tsrid  UNIQUE (ts, request_id) instead of the ts index

Prints rows/s per million and overall for each, and each overall rate as a ratio of `none`'s
measured in the same run (variants run one after another, so run it on a quiet machine and
report `uptime`'s load with it). Usage: python bench/dedup_floor.py [--rows 10000000]
[--variants none,rid,day,tsrid] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import time

BATCH = 10_000
SCHEMAS = {
    "none": ["CREATE INDEX its ON requests (ts)"],
    "rid": ["CREATE UNIQUE INDEX u ON requests (request_id)", "CREATE INDEX its ON requests (ts)"],
    "day": [
        "ALTER TABLE requests ADD COLUMN day INTEGER GENERATED ALWAYS AS (CAST(ts / 86400 AS INTEGER)) VIRTUAL",
        "CREATE UNIQUE INDEX u ON requests (day, request_id)",
        "CREATE INDEX its ON requests (ts)",
    ],
    "tsrid": ["CREATE UNIQUE INDEX u ON requests (ts, request_id)"],
}


def run(variant: str, rows: int, directory: str) -> float:
    path = os.path.join(directory, f"dedup-floor-{variant}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-98304", "wal_autocheckpoint=16384"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("CREATE TABLE requests (id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, ts REAL NOT NULL)")
    for statement in SCHEMAS[variant]:
        conn.execute(statement)
    rng = random.Random(1)
    started = last = time.perf_counter()
    for first in range(0, rows, BATCH):
        batch = [(first + i + 1, f"req_{rng.getrandbits(48):012x}", 1.7e9 + (first + i) * 0.25) for i in range(BATCH)]
        conn.execute("BEGIN")
        conn.executemany("INSERT OR IGNORE INTO requests (id, request_id, ts) VALUES (?, ?, ?)", batch)
        conn.execute("COMMIT")
        done = first + BATCH
        if done % 1_000_000 == 0:
            now = time.perf_counter()
            print(f"  {variant} {done // 1_000_000}M: {1e6 / (now - last):,.0f} rows/s over the last million", flush=True)
            last = now
    overall = rows / (time.perf_counter() - started)
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        os.remove(path + suffix) if os.path.exists(path + suffix) else None
    return overall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--variants", default="none,rid,day,tsrid")
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()
    variants = args.variants.split(",")
    if "none" not in variants:
        variants.insert(0, "none")
    print(f"load {os.getloadavg()[0]:.2f}, {args.rows:,} rows, SQLite {sqlite3.sqlite_version}")
    rates = {variant: run(variant, args.rows, args.dir) for variant in variants}
    print(f"load {os.getloadavg()[0]:.2f}")
    for variant, rate in rates.items():
        print(f"{variant:>6}: {rate:,.0f} rows/s overall, {rate / rates['none']:.2f} of none")


if __name__ == "__main__":
    main()
