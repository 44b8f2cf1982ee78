"""The floor of a narrow store: could `ingest` reach 0.5 of DuckDB's load (issue 20's last target)?

A prototype, not the product: it measures, stage by stage on the same lines, what a store
made of narrow request rows, column blocks holding every column, and the raw lines in zstd
blocks would cost to load, against DuckDB's load and today's `llmops-console ingest` of the
same file in the same run:

  split     the file read and split into lines
  decode    each line strictly into a msgspec Struct (the schema's types; the bodies, tags and
            metadata left as raw JSON: the raw line is what the store keeps of them)
  columns   the column arrays of every column: epoch seconds, numbers, text columns coded
            (the product's JointCodes), request keys (xxh3), costs priced per model where
            the line has none (genai-prices' rate a token per model, vectorised)
  lines     the raw lines, zstd level 1, a block per 30,000 lines (what Enter and the word
            filter would decompress)
  block     the arrays as the product's column block (RawBlock.encode: MessagePack + zstd)
  insert    the narrow rows (id, request_id, ts, status; the ts and status indexes and UNIQUE
            (day, request_id) as today) and the two blobs, a transaction per 30,000 rows
  cells     the rollup cells of those rows merged in, in the same transaction (the product's
            rows_of_block and write_rows, into the product's tables); with --cells blob, the
            decoding process groups them (cells_of_rows, coarser) and the writer stores the
            minute and user-hour cells as one zstd blob (bench/ingest_ceiling.py's encoding)
            and merges only the hour, day, totals and user-day cells into the rollup tables

Prints microseconds a line for each stage, the one-process total, and the rate of a
two-process split (the decoding process: split to block; the writer: insert and cells) as the slower
half's (an estimate: today's ingest splits its work the same way, over a pipe), as a share of
DuckDB's rate and of today's ingest. Not measured: rejected lines' second path (a line the
strict decode refuses), OTLP inputs, the pipe between the two processes.
Usage: python bench/narrow_floor.py LOG [--lines 300000] [--cells merged|blob] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Iterator, Literal

import msgspec
import numpy as np
import zstandard

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from console.analytics.columns import request_keys  # noqa: E402
from console.records import Feedback, NonEmptyStr, NonNegFloat, NonNegInt  # noqa: E402
from console.store import Store  # noqa: E402
from console.store.column_blocks import INT_COLUMNS as BLOCK_INTS  # noqa: E402
from console.store.column_blocks import TEXT_COLUMNS as BLOCK_TEXT  # noqa: E402
from console.store.column_blocks import RawBlock  # noqa: E402
from console.analytics.rollup import DAY, HOUR, MINUTE, cells_of_rows, totals  # noqa: E402
from console.store.rollups import Db, _merge_into, rows_of_block, write_rows  # noqa: E402
from console.store.text_codes import JointCodes  # noqa: E402

GROUP = 30_000
TEXT_COLUMNS = (*BLOCK_TEXT, "response_model", "finish_reason", "error_type", "session_id", "variant")
INT_COLUMNS = (*BLOCK_INTS, "reasoning_tokens")
_THUMBS = {"up": 1.0, "down": -1.0}


class Line(msgspec.Struct, gc=False):
    ts: datetime | float
    request_id: NonEmptyStr
    model: NonEmptyStr
    prompt_id: NonEmptyStr
    prompt_version: NonEmptyStr
    input_tokens: NonNegInt
    output_tokens: NonNegInt
    latency_ms: NonNegFloat
    status: Literal["ok", "error"]
    cost_usd: NonNegFloat | None = None
    provider: str | None = None
    response_model: str | None = None
    ttft_ms: NonNegFloat | None = None
    cached_input_tokens: NonNegInt | None = None
    reasoning_tokens: NonNegInt | None = None
    finish_reason: str | None = None
    error_type: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    feedback: Feedback | None = None
    prompt_hash: str | None = None
    variant: str | None = None
    environment: str | None = None


_FIELDS = ("ts", "request_id", "status", "latency_ms", "ttft_ms", "cost_usd", "feedback", *INT_COLUMNS, *TEXT_COLUMNS)


def make_block(records: list[Line], first_id: int, prices: dict[str, tuple[float, float]]) -> RawBlock:
    """The records' column block, every column of the request row in it."""
    count = len(records)
    # a field of every record in one C loop (map over attrgetter): no Python loop a value
    values = {name: list(map(attrgetter(name), records)) for name in _FIELDS}
    feedback = values["feedback"]
    arrays = {
        "id": np.arange(first_id, first_id + count, dtype=np.int64),
        "request_key": request_keys(values["request_id"], count),
        "is_error": np.fromiter((status == "error" for status in values["status"]), np.bool_, count),
        "ts": np.fromiter((t if t.__class__ is float else t.timestamp() for t in values["ts"]), np.float64, count),
        "feedback": np.array([_THUMBS.get(f, f) if f.__class__ is str else f for f in feedback], np.float64),
        "estimated_cost_usd": np.full(count, np.nan),
    }
    for name in ("latency_ms", "ttft_ms", "cost_usd"):
        arrays[name] = np.array(values[name], dtype=np.float64)  # None -> nan
    for name in INT_COLUMNS:
        column = values[name]
        arrays[name] = np.array([0 if v is None else v for v in column] if None in column else column, np.int64)
    names = {}
    coder = JointCodes(len(TEXT_COLUMNS), np.int32)  # a row's texts looked up once, as a tuple
    coder.add([values[name] for name in TEXT_COLUMNS], count)
    for at, name in enumerate(TEXT_COLUMNS):
        arrays[name], names[name] = coder.codes(at)
    # priced per model, vectorised, where the line has no cost
    models = names["model"]
    rate_in = np.array([prices.get(name, (0.0, 0.0))[0] for name in models])
    rate_out = np.array([prices.get(name, (0.0, 0.0))[1] for name in models])
    model_codes = arrays["model"]
    priced = arrays["input_tokens"] * rate_in[model_codes] + arrays["output_tokens"] * rate_out[model_codes]
    arrays["cost_usd"] = np.where(np.isnan(arrays["cost_usd"]), priced, arrays["cost_usd"])
    return RawBlock(arrays, names)


def per_token_prices(models: set[str]) -> dict[str, tuple[float, float]]:
    """Each model's input and output price a token, from genai-prices (a million of each)."""
    from genai_prices import Usage, calc_price

    prices = {}
    for model in models:
        try:
            one_in = calc_price(Usage(input_tokens=1_000_000, output_tokens=0), model_ref=model)
            one_out = calc_price(Usage(input_tokens=0, output_tokens=1_000_000), model_ref=model)
            prices[model] = (float(one_in.total_price) / 1e6, float(one_out.total_price) / 1e6)
        except LookupError:
            continue
    return prices


NARROW = """CREATE TABLE requests (id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, ts REAL NOT NULL,
    status TEXT NOT NULL, day INTEGER GENERATED ALWAYS AS (CAST(ts / 86400 AS INTEGER)) VIRTUAL)"""
INDEXES = ("CREATE INDEX ix_ts ON requests (ts)", "CREATE INDEX ix_status ON requests (status)",
           "CREATE UNIQUE INDEX ux_day_request ON requests (day, request_id)")  # fmt: skip
BLOCKS = "CREATE TABLE blocks (first_id INTEGER PRIMARY KEY, last_id INTEGER, lines BLOB, columns BLOB)"
CELL_BLOBS = "CREATE TABLE cell_blobs (first_id INTEGER PRIMARY KEY, cells BLOB)"


def fresh_store(path: str) -> sqlite3.Connection:
    """The product's tables (its rollup cells among them), the requests table made narrow."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    Store(f"sqlite:///{path}").close()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-98304", "wal_autocheckpoint=16384"):
        conn.execute(f"PRAGMA {pragma}")
    for statement in ("DROP TABLE requests", NARROW, *INDEXES, BLOCKS, CELL_BLOBS):
        conn.execute(statement)
    return conn


def prototype(log: Path, directory: str, cells: str = "merged") -> tuple[dict[str, float], int, int]:
    """Seconds per stage, the lines loaded, the store's bytes."""
    spent = dict.fromkeys(("split", "decode", "columns", "lines", "block", "insert", "cells"), 0.0)
    decoder = msgspec.json.Decoder(Line)
    compressor = zstandard.ZstdCompressor(level=1)
    with log.open("rb") as head:
        prices = per_token_prices({decoder.decode(line).model for _, line in zip(range(2000), head)})
    path = os.path.join(directory, "narrow-floor.db")
    conn = fresh_store(path)
    next_id, count = 1, 0
    for group, seconds in groups_of_lines(log):
        spent["split"] += seconds
        count += len(group)
        mark = time.perf_counter()
        records = [decoder.decode(line) for line in group]
        spent["decode"] += (now := time.perf_counter()) - mark
        block = make_block(records, next_id, prices)
        spent["columns"] += (mark := time.perf_counter()) - now
        line_blob = compressor.compress(b"\n".join(group))
        spent["lines"] += (now := time.perf_counter()) - mark
        column_blob = block.encode()
        if cells == "blob":
            from ingest_ceiling import encode_cells

            minute, users = cells_of_rows(rows_of_block(block), MINUTE)
            hours = minute.coarser(HOUR)
            merged = (hours, hours.coarser(DAY), totals(hours), users.coarser(DAY))
            fine = compressor.compress(encode_cells(minute) + encode_cells(users))
        spent["block"] += (mark := time.perf_counter()) - now
        ids = range(next_id, next_id + len(records))
        rows = zip(ids, map(attrgetter("request_id"), records), block.arrays["ts"].tolist(), map(attrgetter("status"), records))
        conn.execute("BEGIN")
        conn.executemany("INSERT OR IGNORE INTO requests (id, request_id, ts, status) VALUES (?, ?, ?, ?)", rows)
        conn.execute("INSERT INTO blocks VALUES (?, ?, ?, ?)", (next_id, ids[-1], line_blob, column_blob))
        spent["insert"] += (now := time.perf_counter()) - mark
        if cells == "blob":
            conn.execute("INSERT INTO cell_blobs VALUES (?, ?)", (next_id, fine))
            db = Db(conn)
            for table in merged:
                _merge_into(db, table)
        else:
            write_rows(conn, rows_of_block(block))
        conn.execute("COMMIT")
        spent["cells"] += time.perf_counter() - now
        next_id += len(records)
    conn.close()
    size = sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
    return spent, count, size


def groups_of_lines(log: Path, chunk: int = 8 << 20) -> Iterator[tuple[list[bytes], float]]:
    """GROUP lines at a time, read in chunks as a tail reads (whole lines; the partial last one
    carried over), with the seconds the reading and splitting took."""
    pending: list[bytes] = []
    carry = b""
    seconds = 0.0
    with log.open("rb") as source:
        while True:
            started = time.perf_counter()
            data = source.read(chunk)
            if data:
                lines = (carry + data).split(b"\n")
                carry = lines.pop()
                pending.extend(lines)
            elif carry:
                pending.append(carry)
                carry = b""
            seconds += time.perf_counter() - started
            while len(pending) >= GROUP or (not data and pending):
                yield pending[:GROUP], seconds
                del pending[:GROUP]
                seconds = 0.0
            if not data:
                return


def duckdb_load(log: Path, directory: str) -> float:
    import duckdb

    path = os.path.join(directory, "narrow-floor.duckdb")
    if os.path.exists(path):
        os.remove(path)
    started = time.perf_counter()
    conn = duckdb.connect(path)
    conn.execute(f"CREATE TABLE requests AS SELECT * FROM read_json('{log}')")
    conn.close()
    return time.perf_counter() - started


def console_ingest(log: Path, directory: str) -> float:
    store = os.path.join(directory, "narrow-floor-console.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store + suffix):
            os.remove(store + suffix)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "console.cli", "ingest", "--store", store, str(log)], check=True,
                   capture_output=True, cwd=REPO)  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", type=Path, help="bench/ingest.py's log (its first --lines lines are used)")
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--cells", choices=("merged", "blob"), default="merged")
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()
    sample = Path(args.dir) / f"narrow-floor-{args.lines}.jsonl"
    with args.log.open("rb") as source, sample.open("wb") as out:
        for _, line in zip(range(args.lines), source):
            out.write(line)
    gc.disable()
    spent, count, size = prototype(sample, args.dir, args.cells)
    gc.enable()
    duck = duckdb_load(sample, args.dir)
    console = console_ingest(sample, args.dir)
    us = {stage: seconds / count * 1e6 for stage, seconds in spent.items()}
    writing = us["insert"] + us["cells"]
    decoding = sum(us.values()) - writing
    two = max(decoding, writing)
    duck_rate, console_rate, two_rate = count / duck, count / console, 1e6 / two
    print(f"{count:,} lines ({sample.stat().st_size / 1e6:,.0f} MB), cells {args.cells}, load {os.getloadavg()[0]:.1f}")
    for stage, value in us.items():
        print(f"  {stage:8s} {value:6.2f} us a line")
    print(f"  one process {sum(us.values()):.2f} us a line: {1e6 / sum(us.values()):,.0f} lines/s")
    print(f"  two processes (decoding {decoding:.2f} us | writer {writing:.2f} us): {two_rate:,.0f} lines/s")
    print(f"  DuckDB load {duck_rate:,.0f} lines/s; llmops-console ingest today {console_rate:,.0f} lines/s")
    print(f"  the prototype's two processes: {two_rate / duck_rate:.2f} of DuckDB, {two_rate / console_rate:.1f}x today's ingest")
    print(f"  prototype store {size / 1e6:,.0f} MB ({size / sample.stat().st_size:.2f} of the log)")


if __name__ == "__main__":
    main()
