"""The ceiling of a block-only ingest (issue 20's 0.5 of DuckDB's load), measured before anyone
builds it: no 25-column `requests` row a request, only a narrow one.

    python bench/ingest_ceiling.py LOG WORKDIR [--parts narrow,pipeline,split]

bench/peers.py runs it in the same run as DuckDB's load (`--floors-only` runs only that) and
prints each result as a ratio to DuckDB's load. The parts, each a fresh set of processes:

- narrow: the insert alone of (id, request_id, ts) tuples, made before the clock, into a table
  with a primary key, a unique request_id and a ts index, 10,000 rows a transaction, WAL,
  synchronous=NORMAL, by the console's multi-row insert (sqlite_writer.insert_values); also
  without the ts index, with the request_key hash (int64) unique instead of the text, with
  no unique index, and with a unique (ts, request_id) index instead of both.
- pipeline: the console's own code on both cores. A decoding process reads 10,000 lines at a
  time, parses them (records.parse_line, JsonlTail's hot path), prices them (Pricer.fill, as
  `ingest` does), makes the request and body tuples (store.rows), the column block
  (column_blocks.block_of_inserted, RawBlock.encode), the body blocks (body_blocks.
  encode_bodies) and the rollup cells (rollups.rows_of_block, analytics.rollup.cells_of_rows,
  coarser), and pipes them as MessagePack. The writer process, in one transaction a batch:
  the narrow rows, the column block, the body blocks, the batch's minute cells and user hour
  cells as one blob (a new table; the cells' arrays as MessagePack, zstd level 1), the hour
  cells and the users' day cells merged into the `rollups` tables as today
  (rollups._merge_into), the file offset.
- split: the same with the decoding split over two processes (alternate batches; the writer
  takes them in order).

The ids of a batch are guessed by the decoder (no duplicates, no rejected lines in the bench's
log; the writer checks every row went in). Prints one JSON object: seconds end to end (process
start-up included, as for DuckDB) and us a row for each stage.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the console's CLI: no BLAS threads

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import msgspec  # noqa: E402
import numpy as np  # noqa: E402

BATCH = 10_000
NARROW_SCHEMA = (
    "CREATE TABLE narrow_requests (id INTEGER PRIMARY KEY, request_id TEXT NOT NULL UNIQUE, ts REAL NOT NULL)",
    "CREATE INDEX ix_narrow_ts ON narrow_requests (ts)",
    "CREATE TABLE cell_blobs (first_id INTEGER PRIMARY KEY, min_bucket INTEGER, max_bucket INTEGER, data BLOB NOT NULL)",
)
NARROW_INSERT = "INSERT OR IGNORE INTO narrow_requests (id, request_id, ts)"
COLUMN_BLOCK_INSERT = (
    "INSERT INTO column_blocks (first_id, last_id, rows, min_ts, max_ts, level, data) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


class Cells(msgspec.Struct, array_like=True):
    """A CellTable as bytes: what a batch's cells would be stored (or piped) as."""

    kind: str
    span: int
    bucket: bytes
    codes: dict[str, bytes]
    names: dict[str, list[str]]
    sums: dict[str, bytes]
    min_ts: bytes
    max_ts: bytes
    sketches: dict[str, tuple[bytes, bytes, bytes]]  # groups int32, keys int16, counts uint32


class Batch(msgspec.Struct, array_like=True, gc=False):
    first_id: int
    keys: list[tuple[str, float]]  # (request_id, ts) of the narrow rows
    column_block: bytes
    min_ts: float
    max_ts: float
    body_blocks: list[tuple[int, int, int, bytes]]
    fine_cells: bytes  # minute cells and user hour cells, zstd
    hours: bytes  # Cells of the hour cells, merged by the writer
    user_days: bytes
    offset: tuple[str, int, int, int]  # source, inode, offset, line_no


def encode_cells(table) -> bytes:
    from console.analytics.rollup import REQUESTS

    return msgspec.msgpack.encode(
        Cells(
            "requests" if table.kind is REQUESTS else "users", table.span, table.bucket.astype(np.int64).tobytes(),
            {name: codes.astype(np.int32).tobytes() for name, codes in table.codes.items()}, table.names,
            {name: values.astype(np.int64).tobytes() for name, values in table.sums.items()},
            table.min_ts.tobytes(), table.max_ts.tobytes(),
            {name: (e.groups.astype(np.int32).tobytes(), e.keys.astype(np.int16).tobytes(),
                    e.counts.astype(np.uint32).tobytes()) for name, e in table.sketches.items()},
        )
    )  # fmt: skip


def decode_cells(data: bytes):
    from console.analytics.rollup import REQUESTS, USERS, CellTable
    from console.analytics.sketch import Entries

    cells = msgspec.msgpack.decode(data, type=Cells)
    as64 = lambda raw, dtype=np.int32: np.frombuffer(raw, dtype).astype(np.int64)  # noqa: E731
    return CellTable(
        REQUESTS if cells.kind == "requests" else USERS, cells.span, np.frombuffer(cells.bucket, np.int64),
        {name: as64(raw) for name, raw in cells.codes.items()}, cells.names,
        {name: np.frombuffer(raw, np.int64) for name, raw in cells.sums.items()},
        np.frombuffer(cells.min_ts, np.float64), np.frombuffer(cells.max_ts, np.float64),
        {name: Entries(as64(g), as64(k, np.int16), as64(c, np.uint32)) for name, (g, k, c) in cells.sketches.items()},
    )  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.spent[stage] = self.spent.get(stage, 0.0) + now - self.last
        self.last = now


# -- the decoding process ----------------------------------------------------------------------


def decode(log: str, out_fd: int, part: int, parts: int) -> None:
    """Batches part, part + parts, ... of the log, made and sent to the writer."""
    import zstandard

    from console.analytics.prices import Pricer
    from console.analytics.rollup import DAY, HOUR, MINUTE, cells_of_rows
    from console.records import parse_line
    from console.store.body_blocks import encode_bodies
    from console.store.column_blocks import block_of_inserted
    from console.store.rollups import rows_of_block
    from console.store.rows import body_tuple, request_tuple

    import gc

    gc.disable()  # as ingest (console.ingest.paused_gc)
    out = Connection(out_fd, readable=False)
    encoder, pricer, compressor = msgspec.msgpack.Encoder(), Pricer(), zstandard.ZstdCompressor(level=1)
    clock = Clock()
    rows = 0
    with open(log, "rb") as handle:
        inode = os.fstat(handle.fileno()).st_ino
        for index in itertools.count():
            lines = list(itertools.islice(handle, BATCH))
            if not lines:
                break
            if index % parts != part:
                clock("read")
                continue
            offset = handle.tell()  # the buffered reader's: not the line's end (a bench's offset)
            clock("read")
            records = [parse_line(line) for line in lines]
            clock("parse")
            pricer.fill(records)
            clock("price")
            first_id = 1 + index * BATCH
            requests = [request_tuple(r) for r in records]
            bodies = [body_tuple(r) for r in records]
            keys = [(row[0], row[1]) for row in requests]
            clock("tuples")
            block = block_of_inserted(first_id, requests, None)
            ts = block.arrays["ts"]
            column_block = block.encode()
            clock("column block")
            body_blocks = encode_bodies(first_id, bodies)
            clock("body blocks")
            minute, users = cells_of_rows(rows_of_block(block), MINUTE)
            hours, user_days = minute.coarser(HOUR), users.coarser(DAY)
            fine = compressor.compress(encode_cells(minute) + encode_cells(users))
            clock("cells")
            payload = encoder.encode(
                Batch(first_id, keys, column_block, float(ts.min()), float(ts.max()), body_blocks, fine,
                      encode_cells(hours), encode_cells(user_days), (log, inode, offset, (index + 1) * BATCH))
            )  # fmt: skip
            clock("msgpack")
            out.send_bytes(payload)
            clock("send (waiting on the writer)")
            rows += len(records)
    out.close()
    print(json.dumps({"rows": rows, "spent": clock.spent}))


# -- the writer process ------------------------------------------------------------------------


def write(db: str, in_fds: list[int]) -> None:
    from console.store.body_blocks import insert_blocks
    from console.store.column_blocks import BACKFILL_LEVEL
    from console.store.rollups import Db, _merge_into
    from console.store.sqlite_writer import insert_values, open_sqlite_writer_connection
    from console.store.writers import _OFFSET_COLUMNS, _OFFSET_UPDATE

    import gc

    gc.disable()
    conn = open_sqlite_writer_connection(db)
    upsert_offset = f"INSERT INTO source_offsets ({_OFFSET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) {_OFFSET_UPDATE}"
    pipes = [Connection(fd, writable=False) for fd in in_fds]
    decoder = msgspec.msgpack.Decoder(Batch)
    clock = Clock()
    rows = 0
    for index in itertools.count():
        try:
            payload = pipes[index % len(pipes)].recv_bytes()
        except EOFError:
            break
        clock("receive (waiting on the decoder)")
        batch = decoder.decode(payload)
        clock("msgpack")
        conn.execute("BEGIN IMMEDIATE")
        first = batch.first_id
        added = insert_values(conn, NARROW_INSERT, [(first + i, *key) for i, key in enumerate(batch.keys)])
        if added != len(batch.keys):
            raise SystemExit(f"batch at {first}: {added} of {len(batch.keys)} rows new (the bench guesses ids)")
        last = first + added - 1
        clock("narrow rows")
        conn.execute(COLUMN_BLOCK_INSERT, (first, last, added, batch.min_ts, batch.max_ts, BACKFILL_LEVEL, batch.column_block))
        clock("column block")
        insert_blocks(conn, batch.body_blocks)
        clock("body blocks")
        conn.execute("INSERT INTO cell_blobs VALUES (?, ?, ?, ?)", (first, 0, 0, batch.fine_cells))
        clock("minute + user hour cells (one blob)")
        db_ = Db(conn)
        _merge_into(db_, decode_cells(batch.hours))
        _merge_into(db_, decode_cells(batch.user_days))
        clock("hour + user day cells (merged)")
        conn.execute(upsert_offset, ("bench", *batch.offset[:3], batch.offset[3], time.time()))
        conn.execute("COMMIT")
        clock("offset + commit")
        rows += added
    conn.close()
    print(json.dumps({"rows": rows, "spent": clock.spent}))


def pipeline(log: str, db: str, parts: int) -> dict:
    """Seconds end to end of `parts` decoding processes and one writer, and their stages."""
    _make_store(db)
    pipes = [os.pipe() for _ in range(parts)]
    here = [sys.executable, __file__]
    start = time.perf_counter()
    writer = subprocess.Popen([*here, "writer", db, *(str(r) for r, _ in pipes)], pass_fds=[r for r, _ in pipes],
                              stdout=subprocess.PIPE, cwd=REPO)  # fmt: skip
    decoders = [
        subprocess.Popen([*here, "decoder", log, str(w), str(part), str(parts)], pass_fds=[w], stdout=subprocess.PIPE, cwd=REPO)
        for part, (_, w) in enumerate(pipes)
    ]
    for r, w in pipes:
        os.close(r)
        os.close(w)
    found = [json.loads(child.communicate()[0]) for child in decoders]
    written = json.loads(writer.communicate()[0])
    seconds = time.perf_counter() - start
    if any(child.returncode for child in (writer, *decoders)):
        raise SystemExit("a pipeline process failed")
    rows = written["rows"]
    return {"seconds": seconds, "rows": rows, "decoders": [_per_row(f["spent"], rows) for f in found],
            "writer": _per_row(written["spent"], rows), "db_mb": sum(p.stat().st_size for p in Path(db).parent.glob(Path(db).name + "*")) / 1e6}  # fmt: skip


def stages(log: str, db: str) -> dict:
    """Each side alone, one after the other (no contention for the cores): the decoding
    process into a file, then the writer process from that file."""
    _make_store(db)
    spool = db + ".batches"
    with open(spool, "wb") as out:
        start = time.perf_counter()
        found = _run([sys.executable, __file__, "decoder", log, str(out.fileno()), "0", "1"], out.fileno())
        decode_s = time.perf_counter() - start
    with open(spool, "rb") as into:
        start = time.perf_counter()
        written = _run([sys.executable, __file__, "writer", db, str(into.fileno())], into.fileno())
        write_s = time.perf_counter() - start
    os.unlink(spool)
    rows = written["rows"]
    return {"decode_s": decode_s, "write_s": write_s, "rows": rows,
            "decoder": _per_row(found["spent"], rows), "writer": _per_row(written["spent"], rows)}  # fmt: skip


def _run(command: list[str], fd: int) -> dict:
    child = subprocess.run(command, pass_fds=[fd], stdout=subprocess.PIPE, cwd=REPO, check=True)
    return json.loads(child.stdout)


def _per_row(spent: dict[str, float], rows: int) -> dict[str, float]:
    return {stage: round(s / rows * 1e6, 2) for stage, s in spent.items()}


def _make_store(db: str) -> None:
    import sqlite3

    from console.store import Store

    Store("sqlite:///" + db).close()
    with sqlite3.connect(db) as conn:
        for sql in NARROW_SCHEMA:
            conn.execute(sql)


def narrow(log: str, db: str) -> dict:
    """The insert alone of the narrow rows (their tuples made before the clock), with and
    without the ts index."""
    import gc
    import sqlite3

    from console.records import parse_line
    from console.store.sqlite_writer import insert_values, open_sqlite_writer_connection

    gc.disable()
    from console.analytics.columns import request_keys

    keys = []
    with open(log, "rb") as handle:
        for line in handle:
            record = parse_line(line)
            keys.append((len(keys) + 1, record.request_id, record.ts))
    hashed = list(zip(range(1, len(keys) + 1), request_keys((k[1] for k in keys), len(keys)).tolist(), (k[2] for k in keys)))
    found = {}
    # The unique text index is where the time goes as a store grows (a batch's random keys
    # touch most of its leaf pages): the same with the request_key hash (int64) unique instead,
    # and with no unique index at all (dedup by other means)
    by_key = ("CREATE TABLE narrow_requests (id INTEGER PRIMARY KEY, request_id INTEGER NOT NULL UNIQUE, ts REAL NOT NULL)",
              NARROW_SCHEMA[1])  # fmt: skip
    no_unique = ("CREATE TABLE narrow_requests (id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, ts REAL NOT NULL)",
                 NARROW_SCHEMA[1])  # fmt: skip
    # a duplicate line has its ts too: unique (ts, request_id) is appended to like the ts index
    ts_first = (no_unique[0], "CREATE UNIQUE INDEX ix_narrow_ts_request ON narrow_requests (ts, request_id)")
    for name, schema, rows in (
        ("narrow", NARROW_SCHEMA[:2], keys), ("narrow_no_ts_index", NARROW_SCHEMA[:1], keys),
        ("narrow_int_key", by_key, hashed), ("narrow_no_unique", no_unique, keys), ("narrow_ts_request", ts_first, keys),
    ):  # fmt: skip
        remove(db)
        with sqlite3.connect(db) as conn:
            for sql in schema:
                conn.execute(sql)
        conn = open_sqlite_writer_connection(db)
        start = time.perf_counter()
        for first in range(0, len(rows), BATCH):
            conn.execute("BEGIN IMMEDIATE")
            insert_values(conn, NARROW_INSERT, rows[first : first + BATCH])
            conn.execute("COMMIT")
        found[name] = {"seconds": time.perf_counter() - start, "rows": len(keys)}
        conn.close()
    return found


def remove(db: str) -> None:
    for found in Path(db).parent.glob(Path(db).name + "*"):
        found.unlink()


def main() -> None:
    if sys.argv[1:2] == ["decoder"]:
        return decode(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    if sys.argv[1:2] == ["writer"]:
        return write(sys.argv[2], [int(fd) for fd in sys.argv[3:]])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log")
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--parts", default="narrow,stages,pipeline,split")
    args = parser.parse_args()
    found = {}
    for part in args.parts.split(","):
        db = str(args.workdir / f"ceiling-{part}.db")
        remove(db)
        if part == "narrow":
            found.update(narrow(args.log, db))
        elif part == "stages":
            found["stages"] = stages(args.log, db)
        else:
            found[part] = pipeline(args.log, db, {"pipeline": 1, "split": 2}[part])
        remove(db)
    print(json.dumps(found))


if __name__ == "__main__":
    main()
