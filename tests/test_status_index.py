"""The status index holds the failed requests only, and the queries that look for them use it;
a store made before, with the whole column indexed, answers them the same."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text as sql

from conftest import line_of, make_record
from console.analytics.filters import parse_filter
from console.ingest import ingest_files
from console.records import parse_line
from console.sources.base import SourceBatch
from console.store import Store
from console.store.error_groups import _QUERY, _QUERY_IDS, error_counts
from console.store.pages import RequestPages


def _records(count: int) -> list[dict]:
    rng = random.Random(11)
    records = []
    for n in range(count):
        failed = rng.random() < 0.1
        records.append(
            make_record(
                request_id=f"req-{n:05d}", ts=1_795_000_000 + n, model=rng.choice(["gpt-4o", "claude-sonnet-4-5"]),
                status="error" if failed else "ok", error_type=rng.choice(["rate_limit", "timeout"]) if failed else None,
            )
        )  # fmt: skip
    return records


@pytest.fixture
def store_and_records(tmp_path):
    records = _records(800)
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in records), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(url) as store:
        ingest_files(store, [str(log)])
    return url, [parse_line(line_of(r)) for r in records]


def _uses_status_index(conn, query, params=None) -> bool:
    plan = conn.execute(sql(f"EXPLAIN QUERY PLAN {query}"), params or {}).all()
    return any("ix_requests_status" in str(row) for row in plan)


def _answers(url: str, records) -> None:
    """status:error and -status:error select the rows memory selects, the first through the
    index; the triage's error lines count every failed request, through it too."""
    failed = [r for r in records if r.status == "error"]
    with Store(url) as store:
        pages = RequestPages(store.engine)
        for text in ("status:error", "-status:error", "status:ok"):
            wanted = {r.request_id for r in records if parse_filter(text)(r)}
            where = pages.compile(parse_filter(text), indexed=True)
            ids = pages.keys(where, 0)[0]
            assert {r.request_id for r in pages.records(ids.tolist()).values()} == wanted, text
        where = pages.compile(parse_filter("status:error"), indexed=True)
        with store.engine.connect() as conn:
            assert _uses_status_index(conn, f"SELECT r.id FROM requests r WHERE {where.where}", where.params)
            assert _uses_status_index(conn, str(_QUERY))
            assert _uses_status_index(conn, str(_QUERY_IDS), {"after": 0, "through": 10_000})
        counted = sum(n for _model, _kind, n, _ts in error_counts(store.engine))
        assert counted == len(failed) > 0


def test_a_new_store_indexes_only_the_failed_requests(store_and_records):
    url, records = store_and_records
    with Store(url) as store, store.engine.connect() as conn:
        definition = conn.execute(sql("SELECT sql FROM sqlite_master WHERE name = 'ix_requests_status'")).scalar()
        assert "WHERE status = 'error'" in definition
        # the index's own entries: only the failed requests
        entries = conn.execute(sql("SELECT count(*) FROM requests INDEXED BY ix_requests_status WHERE status = 'error'"))
        assert entries.scalar() == sum(r.status == "error" for r in records)
    _answers(url, records)


def test_a_store_with_the_whole_column_indexed_answers_the_same(store_and_records):
    url, records = store_and_records
    with Store(url) as store, store.engine.begin() as conn:
        conn.execute(sql("DROP INDEX ix_requests_status"))
        conn.execute(sql("CREATE INDEX ix_requests_status ON requests (status)"))  # as stores made before
    _answers(url, records)
    with Store(url) as store, store.engine.connect() as conn:  # opening it left it as it was
        definition = conn.execute(sql("SELECT sql FROM sqlite_master WHERE name = 'ix_requests_status'")).scalar()
        assert "WHERE" not in definition


def test_a_postgresql_store_indexes_only_the_failed_requests():
    from test_postgres import postgres_schema_url

    records = [parse_line(line_of(r)) for r in _records(300)]
    with postgres_schema_url() as url, Store(url) as store:
        store.write(SourceBatch(records=records))
        with store.engine.connect() as conn:
            definition = conn.execute(sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_requests_status'"))
            assert "WHERE" in definition.scalar()
        failed = sum(r.status == "error" for r in records)
        assert sum(n for _model, _kind, n, _ts in error_counts(store.engine)) == failed
        pages = RequestPages(store.engine)
        where = pages.compile(parse_filter("status:error"), indexed=True)
        assert len(pages.keys(where, 0)[0]) == failed
