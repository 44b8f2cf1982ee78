"""A new SQLite store dedups by (UTC day of ts, request_id) (console/store/day_dedup.py); a
store made before keeps UNIQUE (request_id), PostgreSQL too; lookups by request_id seek."""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateTable

from conftest import make_record
from console.records import parse_line
from console.sources.base import SourceBatch
from console.store import Store
from console.store.day_dedup import DAY_INDEX, PLANTED_STAT
from console.store.writers import CoreBatchWriter
from test_postgres import postgres_schema_url

DAY = 86400


def record(request_id: str, ts: str, output: str = "first"):
    return parse_line(json.dumps(make_record(request_id=request_id, ts=ts, output=output)))


def old_layout_store(path) -> str:
    """A store at the current version whose `requests` table is the one made before day_dedup:
    UNIQUE (request_id)."""
    from sqlmodel import SQLModel

    from console.store.engine import create_store_engine
    from console.store.migrations import CURRENT_VERSION, _stamp
    from console.store.tables import RequestRow

    ddl = str(CreateTable(RequestRow.__table__).compile(dialect=sqlite_dialect.dialect())).strip()
    url = f"sqlite:///{path}"
    engine = create_store_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(ddl[: ddl.rindex(")")] + ", UNIQUE (request_id))")
        SQLModel.metadata.create_all(conn)  # the other tables and the indexes of requests
        for index in RequestRow.__table__.indexes:
            index.create(conn, checkfirst=True)
        _stamp(conn, CURRENT_VERSION)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite-writer", "core-writer"])
def new_store(tmp_path, request):
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        if request.param == "core-writer":
            opened._writer = CoreBatchWriter(opened.engine)
        yield opened


def stat_of(path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT tbl, idx, stat FROM sqlite_stat1 ORDER BY idx").fetchall()
    finally:
        conn.close()


def test_a_new_sqlite_store_has_the_day_index_and_its_statistic_and_no_unique_request_id(new_store):
    conn = sqlite3.connect(new_store.sqlite_path)
    indexes = {name: sql for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'requests' AND type = 'index'")}
    conn.close()
    assert "UNIQUE INDEX" in indexes[DAY_INDEX] and "(day, request_id)" in indexes[DAY_INDEX]
    assert not any(name.startswith("sqlite_autoindex_requests") for name in indexes)
    assert ("requests", DAY_INDEX, PLANTED_STAT) in stat_of(new_store.sqlite_path)


def test_a_duplicate_on_the_same_day_is_skipped_and_counted(new_store):
    first = record("req_same", "2026-11-20T09:00:00Z")
    again = record("req_same", "2026-11-20T23:59:59Z", output="second")  # same UTC day, later
    assert (new_store.write(SourceBatch(records=[first])).added, new_store.count()) == (1, 1)
    result = new_store.write(SourceBatch(records=[again, first]))
    assert (result.added, result.duplicates, result.duplicate_positions) == (0, 2, (0, 1))
    assert new_store.count() == 1
    assert new_store.get("req_same").output == "first"


def test_the_same_request_id_on_another_utc_day_is_a_second_request(new_store):
    """The decided semantics: dedup within the request's UTC day; a lookup by id finds the newest."""
    from console.store.evaluation import EvaluationStore

    monday = record("req_twice", "2026-11-20T23:59:59Z")
    tuesday = record("req_twice", "2026-11-21T00:00:00Z", output="second")
    assert new_store.write(SourceBatch(records=[monday])).added == 1
    assert new_store.write(SourceBatch(records=[tuesday])).added == 1
    assert new_store.count() == 2
    assert new_store.get("req_twice").output == "second"
    assert EvaluationStore(new_store).records(["req_twice"])["req_twice"].output == "second"
    assert new_store.write(SourceBatch(records=[monday, tuesday])).duplicates == 2


def test_triage_lists_an_id_stored_on_two_days_once(tmp_path):
    from console.store.evaluation import EvaluationStore

    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.write(SourceBatch(records=[record("req_twice", "2026-11-20T10:00:00Z"), record("req_twice", "2026-11-21T10:00:00Z")]))
        evaluation = EvaluationStore(store)
        evaluation.write_scores([("req_twice", "judge", 0.1, "wrong")])
        assert evaluation.low_scored(0.5, 10) == [("req_twice", 0.1)]
        evaluation.add_label("req_twice", "bad", author="t")
        assert len(list(evaluation.export_rows())) == 1


def test_an_old_layout_store_keeps_unique_request_id_and_works(tmp_path):
    url = old_layout_store(tmp_path / "old.db")
    with Store(url) as store:
        store.write(SourceBatch(records=[record("req_once", "2026-11-20T10:00:00Z")]))
        result = store.write(SourceBatch(records=[record("req_once", "2026-11-21T10:00:00Z", output="second")]))
        assert (result.added, result.duplicates) == (0, 1), "the old layout: one request per id in the whole store"
        assert store.get("req_once").output == "first"
    conn = sqlite3.connect(tmp_path / "old.db")
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'requests'")}
    conn.close()
    assert DAY_INDEX not in names and "sqlite_autoindex_requests_1" in names


def test_postgresql_keeps_unique_request_id():
    from sqlalchemy import inspect

    with postgres_schema_url() as url, Store(url) as store:
        store.write(SourceBatch(records=[record("req_pg", "2026-11-20T10:00:00Z")]))
        result = store.write(SourceBatch(records=[record("req_pg", "2026-11-21T10:00:00Z")]))
        assert (result.added, result.duplicates) == (0, 1)
        with store.engine.connect() as conn:
            unique = inspect(conn).get_unique_constraints("requests")
            columns = {c["name"] for c in inspect(conn).get_columns("requests")}
        assert [c["column_names"] for c in unique] == [["request_id"]] and "day" not in columns


def test_an_ordinary_open_plants_the_statistic_again_after_an_analyze_of_a_tiny_store(tmp_path):
    path = tmp_path / "store.db"
    with Store(f"sqlite:///{path}") as store:
        store.write(SourceBatch(records=[record(f"req_{i}", "2026-11-20T10:00:00Z") for i in range(3)]))
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")  # by hand: 3 rows, all on one day
    conn.commit()
    conn.close()
    assert ("requests", DAY_INDEX, "3 3 1") in stat_of(path)
    with Store(f"sqlite:///{path}"):
        pass
    assert [row for row in stat_of(path) if row[0] == "requests"] == [("requests", DAY_INDEX, PLANTED_STAT)]
