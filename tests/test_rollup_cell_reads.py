"""Rollup cells are read a chunk of SQL rows at a time (console/store/rollup_cells.py `CellRowsGathered`):
whatever the chunk, the cells are those of one pass over every row (numbers, texts coded by
first appearance, sketches), on the plain sqlite3 reader and through a Store on SQLite and
PostgreSQL; and the hour cells hold every row."""

from __future__ import annotations

import numpy as np
import pytest

from console.analytics.rollup import DAY, HOUR, MINUTE, REQUESTS, USERS, CellTable
from console.commands.store_access import open_reader
from console.store import rollups
from tests.test_postgres import postgres_schema_url
from tests.test_rollups import END, _filled_store


def _flat(cells: CellTable) -> dict:
    found = {"bucket": cells.bucket.tolist(), "min_ts": cells.min_ts.tolist(), "max_ts": cells.max_ts.tolist(),
             "names": cells.names}  # fmt: skip
    found.update({f"code {name}": codes.tolist() for name, codes in cells.codes.items()})
    found.update({f"sum {name}": sums.tolist() for name, sums in cells.sums.items()})
    for name, entries in cells.sketches.items():
        found[name] = (entries.groups.tolist(), entries.keys.tolist(), entries.counts.tolist())
    assert all(values.dtype == np.int64 for values in (cells.bucket, *cells.codes.values(), *cells.sums.values()))
    return found


def _reads(conn) -> list[dict]:
    end = int(END.timestamp()) // DAY * DAY
    return [
        _flat(rollups.read_cells(conn, REQUESTS, HOUR, None, end)),
        _flat(rollups.read_cells(conn, REQUESTS, MINUTE, end - 2 * DAY, end)),
        _flat(rollups.read_cells(conn, USERS, DAY, None, None)),
        _flat(rollups.user_spend(conn, end - 5 * DAY + 7200, end - 3600)),
    ]


def _by_chunks(monkeypatch, conn, chunks: tuple[int, ...]) -> list[list[dict]]:
    found = []
    for chunk in chunks:
        monkeypatch.setattr(rollups, "_READ_CHUNK", chunk)
        found.append(_reads(conn))
    return found


def test_cells_read_in_chunks_are_the_cells_of_one_pass(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _filled_store(url, tmp_path, labels=False).close()
    with open_reader(url, missing_hint="x") as reader:
        one, *chunked = _by_chunks(monkeypatch, reader.conn, (10**9, 1, 7, 4096))
        hours = rollups.read_cells(reader.conn, REQUESTS, HOUR, None, None)
        (rows,) = reader.conn.execute("SELECT count(*) FROM requests").fetchone()
    assert len(one[0]["bucket"]) > 100 and len(one[1]["bucket"]) > 100 and len(one[2]["bucket"]) > 10
    for found in chunked:
        assert found == one
    assert int(hours.sums["requests"].sum()) == rows  # every row in one hour cell


def test_cells_read_in_chunks_through_a_store_on_sqlite_and_postgresql(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = _filled_store(url, tmp_path, labels=False)
    with store.engine.connect() as conn:
        one, chunked = _by_chunks(monkeypatch, conn, (10**9, 5))
    store.close()
    assert chunked == one
    with postgres_schema_url() as pg_url:
        pg = _filled_store(pg_url, tmp_path, labels=False)
        with pg.engine.connect() as conn:
            pg_one, pg_chunked = _by_chunks(monkeypatch, conn, (10**9, 5))
        pg.close()
    assert pg_chunked == pg_one


@pytest.mark.parametrize("chunk", [1, 3])
def test_an_empty_read_and_a_read_of_one_chunk(tmp_path, monkeypatch, chunk):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _filled_store(url, tmp_path, labels=False).close()
    monkeypatch.setattr(rollups, "_READ_CHUNK", chunk)
    with open_reader(url, missing_hint="x") as reader:
        empty = rollups.read_cells(reader.conn, REQUESTS, HOUR, 0, 3600)
        assert len(empty) == 0 and empty.names["model"] == []
        first = int(reader.conn.execute("SELECT min(bucket) FROM rollups WHERE span = 3600").fetchone()[0])
        one_hour = rollups.read_cells(reader.conn, REQUESTS, HOUR, first, first + HOUR)
    assert len(one_hour) >= 1 and set(one_hour.bucket.tolist()) == {first}


def test_each_text_is_coded_by_its_own_first_appearance(tmp_path):
    # the texts are coded together a row at a time; each must still read as one pass over its
    # own column codes it (names in first-appearance order, codes into them)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _filled_store(url, tmp_path, labels=False).close()
    with open_reader(url, missing_hint="x") as reader:
        cells = rollups.read_cells(reader.conn, REQUESTS, HOUR, None, None)
        texts = ("model", "prompt_id", "prompt_hash", "environment")
        rows = reader.conn.execute(f"SELECT {', '.join(texts)} FROM rollups WHERE span = 3600").fetchall()
        users = rollups.user_spend(reader.conn, None, float(END.timestamp()))
        user_rows = reader.conn.execute(
            "SELECT user_id FROM rollup_users WHERE span = ? AND bucket < ? UNION ALL "
            "SELECT user_id FROM rollup_users WHERE span = ? AND bucket >= ? AND bucket < ?",
            (DAY, int(END.timestamp()) // DAY * DAY, HOUR, int(END.timestamp()) // DAY * DAY, int(END.timestamp())),
        ).fetchall()
    assert len(rows) == len(cells) > 100
    for at, name in enumerate(texts):
        column = [row[at] for row in rows]
        first = list(dict.fromkeys(column))
        assert cells.names[name] == first
        assert [cells.names[name][code] for code in cells.codes[name].tolist()] == column
    assert len(set(cells.names["environment"])) >= 1 and len(cells.names["model"]) >= 2
    assert sorted(users.names["user"]) == sorted({row[0] for row in user_rows})
