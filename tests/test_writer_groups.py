"""A prepared batch carries its rows' ids, column block and body blocks made with the ids it
guessed (console.store.writers.PreparedBatch.first_id), and a bulk load's writer commits a few
batches together with one column block and one merge of cells: the store must end as when
each batch is written alone by a writer that makes everything itself, whether the guesses
hold or not (ids taken by another writer meanwhile, rows already stored, a request repeated
within a batch)."""

from __future__ import annotations

import json
import sqlite3

from conftest import make_record
from test_ingest_prepared_blocks import _contents

from console.records import RequestRecord, parse_line
from console.sources.base import SourceBatch
from console.store import Store, column_blocks
from console.store.rows import request_tuple
from console.store.schema_facts import REQUEST_COLUMNS
from console.store.sqlite_writer import NULLABLE_AT, SqliteBatchWriter
from console.store.writer_process import WriterProcess
from console.store.writers import PreparedBatch


def _records(count: int, **overrides) -> list[RequestRecord]:
    return [parse_line(json.dumps(make_record(**overrides))) for _ in range(count)]


def _batch(records: list[RequestRecord]) -> SourceBatch:
    return SourceBatch(records=records, rejected=[], positions={})


def _new_store(path) -> str:
    Store(f"sqlite:///{path}").close()
    return str(path)


def _stored(path) -> dict:
    """The store's tables (_contents), and its column blocks' every array and name as one
    block (where one block ends and the next begins is the writer's to choose)."""
    found = _contents(path)
    conn = sqlite3.connect(path)
    try:
        blocks = [column_blocks.RawBlock.decode(data) for data, in conn.execute("SELECT data FROM column_blocks ORDER BY first_id")]
    finally:
        conn.close()
    whole = column_blocks.concat(blocks)
    found["block_arrays"] = {name: column.tobytes() for name, column in whole.arrays.items()}  # NaN as bytes
    found["block_names"] = whole.names
    return found


def _reference(path, batches: list[list[RequestRecord]]) -> dict:
    """Each batch written alone by a writer that makes its blocks itself."""
    writer = SqliteBatchWriter(_new_store(path))
    try:
        for records in batches:
            writer.write_prepared(PreparedBatch.of(_batch(records), writer.host))
    finally:
        writer.close()
    return _stored(path)


def test_ids_taken_by_another_writer_meanwhile(tmp_path):
    """Prepared with the ids the store would have handed out, written after another writer
    took them: the rows, blocks and cells are made again with the ids they get."""
    first, other, second = _records(1500), _records(40), _records(2100, model="gpt-4o")
    path = _new_store(tmp_path / "guessed.db")
    writer = SqliteBatchWriter(path)
    try:
        writer.write_prepared(PreparedBatch.of(_batch(first), writer.host, first_id=1))
        guessed = PreparedBatch.of(_batch(second), writer.host, first_id=1501)
        writer.write_prepared(PreparedBatch.of(_batch(other), writer.host))  # takes 1501..1540
        result = writer.write_prepared(guessed)
    finally:
        writer.close()
    assert (result.added, result.duplicates) == (2100, 0)
    assert _stored(path) == _reference(tmp_path / "reference.db", [first, other, second])


def test_a_group_with_duplicates_and_wrong_guesses_equals_batches_written_alone(tmp_path):
    first = _records(3000)
    middle = _records(2500, prompt_version="v8")
    middle[100:100] = first[:5]  # already stored
    middle[700:700] = [middle[50]]  # repeated within the batch
    last = _records(1200, environment="prod")
    last.append(first[-1])  # stored already, at the end: the next ids move down
    after = _records(1100)
    path = _new_store(tmp_path / "grouped.db")
    writer = SqliteBatchWriter(path)
    try:
        prepared, guess = [], 1
        for records in (first, middle, last, after):
            prepared.append(PreparedBatch.of(_batch(records), writer.host, first_id=guess))
            guess += len(records)  # guessed as if every row were new
        results = writer.write_group(prepared[:3]) + writer.write_group(prepared[3:])
    finally:
        writer.close()
    assert [(r.added, r.duplicates) for r in results] == [(3000, 0), (2500, 6), (1200, 1), (1100, 0)]
    assert results[1].duplicate_positions == (100, 101, 102, 103, 104, 700)
    assert _stored(path) == _reference(tmp_path / "reference.db", [first, middle, last, after])


def test_the_writer_process_answers_a_group_cut_short_by_drain(tmp_path):
    """Two batches of a group of three: drain has them written and answered."""
    batches = [_records(1100), _records(1300)]
    path = _new_store(tmp_path / "drained.db")
    with WriterProcess(path, group=3) as writer:
        for at, records in enumerate(batches):
            assert writer.submit(PreparedBatch.of(_batch(records), "host", first_id=1 + 1100 * at)) == []
        results = writer.drain()
    assert [(r.added, r.duplicates) for r in results] == [(1100, 0), (1300, 0)]
    assert _stored(path) == _reference(tmp_path / "reference.db", batches)


def test_nones_are_bound_as_nan_and_stored_as_null(tmp_path):
    """The writer binds a None of a nullable requests column as NaN (sqlite3 binds a float
    faster than it adapts None): SQLite must store it as NULL, and the columns it does so for
    must be exactly the table's nullable ones."""
    path = _new_store(tmp_path / "nulls.db")
    conn = sqlite3.connect(path)
    try:
        nullable = [row[1] for row in conn.execute("PRAGMA table_info(requests)") if not row[3] and row[1] != "id"]
    finally:
        conn.close()
    assert sorted(REQUEST_COLUMNS[at - 1] for at in NULLABLE_AT) == sorted(
        name for name in nullable if name in REQUEST_COLUMNS
    )
    records = _records(300) + _records(5, provider=None, user_id=None, cost_usd=None, ttft_ms=None)
    writer = SqliteBatchWriter(path)
    try:
        writer.write_prepared(PreparedBatch.of(_batch(records), writer.host, first_id=1))
    finally:
        writer.close()
    conn = sqlite3.connect(path)
    try:
        types = conn.execute(
            f"SELECT {', '.join(f'typeof({REQUEST_COLUMNS[at - 1]})' for at in NULLABLE_AT)} FROM requests WHERE id > 300"
        ).fetchall()
    finally:
        conn.close()
    assert {kind for row in types for kind in row} <= {"null", "text", "integer", "real"}
    assert all(row[0] == "null" and row[NULLABLE_AT.index(1 + REQUEST_COLUMNS.index("user_id"))] == "null" for row in types)
    assert "real" not in {row[NULLABLE_AT.index(1 + REQUEST_COLUMNS.index("response_model"))] for row in types}
    conn = sqlite3.connect(path)
    try:
        stored = conn.execute(f"SELECT {', '.join(REQUEST_COLUMNS)} FROM requests ORDER BY id").fetchall()
    finally:
        conn.close()
    assert stored == [request_tuple(r) for r in records]  # None read back as None, no NaN anywhere
