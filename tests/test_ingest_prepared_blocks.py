"""A parallel load prepares each batch's column block and body blocks in the decoding process
(ids guessed from the store's next id): the store must be the same as when the writer makes
them itself, whether the guesses hold or not (rows already stored, in the middle of a batch or
at its end, which shifts the next batch's ids)."""

from __future__ import annotations

import sqlite3

from conftest import make_record

from console.ingest import _ids_left_unused, ingest_files
from console.store import Store, WriteResult, body_blocks, column_blocks


def _contents(path) -> dict:
    conn = sqlite3.connect(path)
    try:
        found = {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("requests", "request_bodies", "rollups", "rollup_users")
        }
        found["rollups"] = sorted(row[1:] for row in found["rollups"])  # ids of cells aside
        found["rollup_users"] = sorted(row[1:] for row in found["rollup_users"])
        bodies = {}
        for data, in conn.execute("SELECT data FROM body_blocks"):
            ids, columns = body_blocks.decode(data)
            bodies.update(zip(ids.tolist(), zip(*columns)))
        found["bodies"] = bodies
        covered = {}
        for data, in conn.execute("SELECT data FROM column_blocks"):
            block = column_blocks.RawBlock.decode(data)
            for i, row_id in enumerate(block.arrays["id"].tolist()):
                covered[row_id] = (block.arrays["ts"][i], block.arrays["latency_ms"][i], block.arrays["request_key"][i])
        found["column_blocks"] = covered
        return found
    finally:
        conn.close()


def _load(path, logs, parallel: bool) -> list[tuple[int, int]]:
    store = Store(f"sqlite:///{path}")
    try:
        counts = []
        for log in logs:
            totals = ingest_files(store, [str(log)], parallel=parallel)
            counts.append((totals.added, totals.duplicates))
        return counts
    finally:
        store.close()


def test_ids_left_unused_counts_only_trailing_duplicates():
    assert _ids_left_unused(WriteResult(10, 0, 0)) == 0
    assert _ids_left_unused(WriteResult(8, 2, 0, (3, 9))) == 1
    assert _ids_left_unused(WriteResult(7, 3, 0, (7, 8, 9))) == 3
    assert _ids_left_unused(WriteResult(0, 4, 0, (0, 1, 2, 3))) == 4


def test_parallel_load_with_prepared_blocks_equals_the_serial_load(tmp_path, write_log):
    first = [make_record() for _ in range(12_000)]
    second = [make_record() for _ in range(23_000)]
    # the second log's first batch (10,000 lines) ends with 7 rows already stored, and 40 more
    # are spread through it: the blocks guessed for the batches after that one are off by 7
    second[9_993:9_993] = first[-7:]
    for at in range(500, 20_000, 500):
        second.insert(at, first[at // 500])
    logs = [write_log("first.jsonl", first), write_log("second.jsonl", second)]
    serial = _load(tmp_path / "serial.db", logs, parallel=False)
    parallel = _load(tmp_path / "parallel.db", logs, parallel=True)
    assert serial == parallel == [(12_000, 0), (23_000, 7 + 39)]
    assert _contents(tmp_path / "serial.db") == _contents(tmp_path / "parallel.db")
