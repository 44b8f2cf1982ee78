"""Column blocks: the store's numbers kept as arrays beside the rows, written in the rows'
own transaction, merged as they pile up, filled in for rows from before them; a load from
them is bit-for-bit the load from the rows."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from console.analytics.columns import Columns, request_key, request_keys
from console.sources.base import SourceBatch
from console.store import Store
from console.store import column_blocks
from test_history_load import assert_same_columns, varied_records


def block_rows(path) -> tuple[int, int, int]:
    """(blocks, rows they hold, rows in the table)"""
    with sqlite3.connect(path) as conn:
        blocks, held = conn.execute("SELECT count(*), coalesce(sum(rows), 0) FROM column_blocks").fetchone()
        return blocks, held, conn.execute("SELECT count(*) FROM requests").fetchone()[0]


def write_in_batches(store: Store, records, sizes) -> None:
    start = 0
    for size in sizes:
        store.write(SourceBatch(records=records[start : start + size]))
        start += size
    assert start >= len(records)


def ranges_of(records):
    """Ranges a console and a report load: all, since a ts, a ts slice, up to an id."""
    ts = sorted(r.ts for r in records)
    middle, late = ts[len(ts) // 2], ts[3 * len(ts) // 4]
    return [
        {}, {"since_ts": middle}, {"since_ts": ts[0] - 1, "before_ts": middle},
        {"since_ts": middle, "before_ts": late}, {"until_id": len(records) // 3},
        {"since_ts": middle, "until_id": len(records) // 2}, {"since_ts": ts[-1] + 10},
    ]  # fmt: skip


@pytest.mark.parametrize("in_time_order", [False, True])
def test_a_load_from_blocks_is_the_load_from_the_rows(tmp_path, in_time_order):
    """Out-of-order ts (or logged in time order: no sort), ties, missing values, duplicates
    within and across batches, writes of one row and of many: every range loads the same
    Columns (values, codes by first appearance, first_seen) from the blocks as from the rows."""
    records = varied_records(1500)
    if in_time_order:
        records.sort(key=lambda r: r.ts)
    duplicates = [records[5], records[5], records[700]]  # already stored / twice in a batch
    path = tmp_path / "store.db"
    with Store(str(path)) as store:
        write_in_batches(store, records, [1, 2, 3, 500, 1, 1, 1, 1, 1, 1, 1, 1, 300, 688])
        store.write(SourceBatch(records=[*duplicates, *varied_records(20, seed=9)]))
        blocks, held, total = block_rows(path)
        assert held == total == 1520 and blocks < 14, "small blocks were merged, every row is held once"
        for bounds in ranges_of(records):
            from_blocks = store.load_columns(**bounds)
            assert_same_columns(from_blocks, store.load_columns(**bounds, blocks=False))
        assert len(store.load_columns()) == 1520


def test_rows_written_without_a_block_are_read_from_the_table(tmp_path):
    """Rows a block does not cover (inserted by hand, or by a console from before blocks)
    are read from the table: nothing is missed, nothing counted twice."""
    records = varied_records(300)
    path = tmp_path / "store.db"
    with Store(str(path)) as store:
        write_in_batches(store, records, [100, 100, 100])
        with sqlite3.connect(path) as conn:  # the middle write's block gone: a gap
            conn.execute("DELETE FROM column_blocks WHERE first_id = (SELECT min(first_id) FROM column_blocks WHERE first_id > 1)")
        assert block_rows(path)[1] == 200
        for bounds in ranges_of(records):
            assert_same_columns(store.load_columns(**bounds), store.load_columns(**bounds, blocks=False))


def test_an_older_store_gets_blocks_for_its_rows_when_upgraded(tmp_path):
    records = varied_records(400)
    path = tmp_path / "store.db"
    with Store(str(path)) as store:
        write_in_batches(store, records, [150, 250])
    with sqlite3.connect(path) as conn:  # what version 4 had: no blocks
        conn.execute("DROP TABLE column_blocks")
        conn.execute("DELETE FROM schema_version WHERE version >= 5")
    with Store(str(path)) as store:
        assert block_rows(path) == (1, 400, 400)
        assert_same_columns(store.load_columns(), store.load_columns(blocks=False))


def test_merging_keeps_the_store_to_few_blocks(tmp_path, monkeypatch):
    """A live tail commits a row or two at a time: the blocks stay few, each row held once."""
    monkeypatch.setattr(column_blocks, "FAN_IN", 4)
    monkeypatch.setattr(column_blocks, "MERGE_MAX_ROWS", 64)
    records = varied_records(600)
    path = tmp_path / "store.db"
    with Store(str(path)) as store:
        write_in_batches(store, records, [1, 2] * 200)
        blocks, held, total = block_rows(path)
        assert held == total == 600
        # full blocks of up to 64 rows, plus at most 3 of each smaller level
        assert blocks <= 600 // 16 + 3 * 4, blocks
        with sqlite3.connect(path) as conn:
            spans = conn.execute("SELECT first_id, last_id FROM column_blocks ORDER BY first_id").fetchall()
        assert all(a[1] < b[0] for a, b in zip(spans, spans[1:])), "blocks never overlap"
        assert_same_columns(store.load_columns(), store.load_columns(blocks=False))


def test_a_block_is_written_with_its_rows_or_not_at_all(tmp_path, monkeypatch):
    """A failure while the block is stored rolls the rows back too: rows and blocks agree."""
    import console.store.sqlite_writer as writers

    path = tmp_path / "store.db"
    with Store(str(path)) as store:
        store.write(SourceBatch(records=varied_records(10)))

        def broken(*args, **kwargs):
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(writers, "add_block", broken)
        with pytest.raises(sqlite3.OperationalError):
            store.write(SourceBatch(records=varied_records(10, seed=5)))
        assert block_rows(path) == (1, 10, 10)


def test_request_keys_are_the_same_in_every_process():
    """Blocks keep request keys: they cannot depend on a process's hash seed."""
    ids = ["req-1", "é-2", "\U0001f600", ""]
    code = "from console.analytics.columns import request_key; print([request_key(i) for i in %r])" % ids
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": ""})  # fmt: skip
    assert other.stdout.strip() == str([request_key(i) for i in ids])
    assert request_keys(ids, len(ids)).tolist() == [request_key(i) for i in ids]


def test_an_empty_range_loads_an_empty_columns(tmp_path):
    with Store(str(tmp_path / "store.db")) as store:
        store.write(SourceBatch(records=varied_records(5)))
        empty = store.load_columns(since_ts=4e9)
        assert isinstance(empty, Columns) and len(empty) == 0
        assert_same_columns(empty, store.load_columns(since_ts=4e9, blocks=False))
        assert np.isnan(empty.latency_ms.sum()) or empty.latency_ms.sum() == 0


def test_blocks_of_every_stored_form_decode_to_the_same_arrays():
    """A block as written now (zstd'd MessagePack), as before compression (plain MessagePack)
    and from before estimated_cost_usd (schema 6) decode alike; the decoded arrays are views
    into the decoded buffer and stay valid once the blob is gone."""
    import msgspec

    records = varied_records(400)
    columns = [list(range(1, 401))]
    columns += [[getattr(r, name, None) for r in records] for name in column_blocks.SOURCE_COLUMNS[1:]]
    columns[column_blocks.SOURCE_COLUMNS.index("estimated_cost_usd")] = [1.5 if i % 7 else None for i in range(400)]
    block = column_blocks.raw_from_columns(columns, 400)
    arrays = {name: np.ascontiguousarray(column).tobytes() for name, column in block.arrays.items()}
    plain = msgspec.msgpack.encode(column_blocks._Encoded(len(block), arrays, block.names))
    for data in (block.encode(), plain):
        decoded = column_blocks.RawBlock.decode(bytes(data))
        del data
        assert decoded.names == block.names
        for name, column in block.arrays.items():
            assert np.array_equal(decoded.arrays[name], column, equal_nan=True), name
    del arrays["estimated_cost_usd"]
    older = column_blocks.RawBlock.decode(msgspec.msgpack.encode(column_blocks._Encoded(len(block), arrays, block.names)))
    assert np.isnan(older.arrays["estimated_cost_usd"]).all() and np.array_equal(older.arrays["ts"], block.arrays["ts"])


def test_request_keys_of_a_lone_surrogate_and_of_any_iterable():
    """request_keys encodes plainly, and again with surrogatepass when an id has a lone
    surrogate (which a JSON log's \\ud800 escape gives)."""
    ids = ["req-1", "a\ud800b", "é"]
    expected = [request_key(i) for i in ids]
    assert request_keys(ids, len(ids)).tolist() == expected
    assert request_keys(iter(ids), len(ids)).tolist() == expected
    assert request_keys(dict.fromkeys(ids), len(ids)).tolist() == expected


def test_text_columns_are_coded_by_first_appearance_none_as_no_value():
    """The text columns coded together (column_blocks._code_texts) as a pass over each alone
    codes them: by first appearance, None and "" one value."""
    from console.analytics.columns import NO_VALUE

    rng = np.random.default_rng(3)
    count = 500
    values = {
        name: [[None, "", "a", "b", "c@d", f"{name}-x"][i] for i in rng.integers(0, 6, count)]
        for name in column_blocks.TEXT_COLUMNS
    }
    values["user_id"] = [None if i == 0 else f"u{i}" for i in rng.integers(0, 90, count)]
    arrays: dict = {}
    names = column_blocks._code_texts(values, count, arrays)
    assert list(names) == list(column_blocks.TEXT_COLUMNS)
    for name in column_blocks.TEXT_COLUMNS:
        seen = list(dict.fromkeys(NO_VALUE if value is None else value for value in values[name]))
        assert names[name] == seen
        assert arrays[name].dtype == np.int32
        assert [seen[code] for code in arrays[name]] == [NO_VALUE if v is None else v for v in values[name]]
    empty: dict = {}
    assert column_blocks._code_texts({name: [] for name in column_blocks.TEXT_COLUMNS}, 0, empty) == {
        name: [] for name in column_blocks.TEXT_COLUMNS
    }
    assert all(len(empty[name]) == 0 for name in column_blocks.TEXT_COLUMNS)
