"""The store: idempotent batched writes, offsets in the same transaction, round trips."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import make_record
from console.records import parse_line
from console.sources.base import FilePosition, RejectedLine, SourceBatch
from console.store import Store, StoreError
from console.store.writers import CoreBatchWriter
from test_postgres import postgres_schema_url


def records(n: int, **overrides):
    return [parse_line(json.dumps(make_record(**overrides))) for _ in range(n)]


@pytest.fixture(params=["sqlite-writer", "core-writer", "postgresql"])
def store(tmp_path, request):
    """Both write paths: the raw sqlite3 one and the SQLAlchemy Core one (used for PostgreSQL),
    and a real PostgreSQL server (LLMOPS_TEST_POSTGRES_URL; skipped without it)."""
    if request.param == "postgresql":
        with postgres_schema_url() as url, Store(url) as opened:
            yield opened
        return
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        if request.param == "core-writer":
            opened._writer = CoreBatchWriter(opened.engine)
        yield opened


def test_a_batch_after_a_duplicate_batch_keeps_ids_and_bodies_aligned(store):
    first = records(5)
    store.write(SourceBatch(records=first))
    mixed = first[:2] + records(3, output="fresh")
    result = store.write(SourceBatch(records=mixed))
    assert (result.added, result.duplicates) == (3, 2)
    for record in first + mixed:
        assert store.get(record.request_id) == record


def test_default_sqlite_file_is_in_wal_mode(tmp_path):
    with Store(str(tmp_path / "nested" / "dir" / "console.db")) as store:
        with store.engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mode == "wal"
        assert (tmp_path / "nested" / "dir" / "console.db").exists()


def test_writing_the_same_batch_twice_adds_nothing_the_second_time(store):
    batch = SourceBatch(records=records(50))
    first = store.write(batch)
    second = store.write(batch)
    assert (first.added, first.duplicates) == (50, 0)
    assert (second.added, second.duplicates) == (0, 50)
    assert store.count() == 50


def test_duplicates_inside_one_batch_are_stored_once(store):
    batch = records(3)
    result = store.write(SourceBatch(records=batch + batch[:2]))
    assert (result.added, result.duplicates) == (3, 2)


def test_offsets_are_saved_with_the_rows(store):
    position = FilePosition("/logs/app.jsonl", inode=42, offset=1234, line_no=10)
    store.write(SourceBatch(records=records(10), positions={position.path: position}))
    assert store.positions() == {position.path: position}
    moved = FilePosition("/logs/app.jsonl", inode=42, offset=2000, line_no=15)
    store.write(SourceBatch(records=records(5), positions={moved.path: moved}))
    assert store.positions()[moved.path] == moved


def test_a_failed_write_saves_neither_rows_nor_offsets(store, monkeypatch):
    import console.store.writers as writers

    position = FilePosition("/logs/app.jsonl", inode=1, offset=99, line_no=3)

    def exploding_body_tuple(record):
        raise OSError("disk full")

    monkeypatch.setattr(writers, "body_tuple", exploding_body_tuple)
    with pytest.raises(OSError):
        store.write(SourceBatch(records=records(3), positions={position.path: position}))
    assert store.count() == 0
    assert store.positions() == {}


def test_records_round_trip_with_text_and_metadata(store):
    original = parse_line(json.dumps(make_record(
        input=[{"role": "user", "content": "hi [bold]"}], output={"label": "billing"},
        tags=["vip"], tenant="acme", cost_usd=0.002, feedback="down",
        error_message=None, trace_id="ab" * 16,
    )))  # fmt: skip
    store.write(SourceBatch(records=[original]))
    assert store.get(original.request_id) == original
    assert store.recent(10) == [original]
    assert store.get("nope") is None


def test_recent_returns_the_newest_rows_oldest_first(store):
    batch = [parse_line(json.dumps(make_record(ts=1_700_000_000 + i))) for i in range(20)]
    store.write(SourceBatch(records=list(reversed(batch))))
    newest = store.recent(5)
    assert [r.ts for r in newest] == [r.ts for r in batch[-5:]]


def test_rejected_lines_are_kept_with_file_line_and_reason(store):
    bad = RejectedLine("/logs/app.jsonl", 7, "invalid JSON: truncated", '{"ts": ')
    store.write(SourceBatch(rejected=[bad]))
    assert store.rejected_count() == 1
    assert store.rejected_lines() == [bad]


@pytest.mark.parametrize("url", ["nosuchdb://x", "postgresql+nodriver://u@h/db", "://"])
def test_a_bad_store_url_is_a_clear_error(url):
    with pytest.raises(StoreError):
        Store(url)


def test_the_result_says_which_records_were_new(store):
    first = records(3)
    store.write(SourceBatch(records=first[:1]))
    batch = first + first[1:2]
    result = store.write(SourceBatch(records=batch))
    assert result.duplicate_positions == (0, 3)
    assert result.new_records(batch) == first[1:]


def test_spend_between_sums_priced_rows_in_scope(store):
    store.write(SourceBatch(records=records(3, ts=100.0, cost_usd=1.0, model="a")
                            + records(2, ts=100.0, cost_usd=5.0, model="b")
                            + records(4, ts=100.0, model="a")
                            + records(1, ts=300.0, cost_usd=7.0, model="a")))
    assert store.spend_between(0, 200) == 13.0
    assert store.spend_between(0, 200, {"model": "a"}) == 3.0
    assert store.spend_between(0, 1000, {"model": "a"}) == 10.0


# -- schema migrations: an older store is upgraded, not broken -------------------------------

V1_SOURCE_OFFSETS = (  # version 1: offsets keyed by path alone, 32-bit on PostgreSQL
    'CREATE TABLE source_offsets (source VARCHAR NOT NULL, inode INTEGER NOT NULL, "offset" INTEGER NOT NULL, '
    "line_no INTEGER NOT NULL, updated_at FLOAT NOT NULL, PRIMARY KEY (source))"
)



def make_v1_store(url: str, record) -> None:
    """The schema as version 1 of the console created it, with a request and an offset in it."""
    from sqlalchemy import insert
    from sqlmodel import SQLModel

    from console.store.engine import create_store_engine
    from console.store.rows import body_tuple, request_tuple
    from console.store.tables import BODY_COLUMNS, REQUEST_COLUMNS, RequestBody, RequestRow

    engine = create_store_engine(url)
    current = [t for name, t in SQLModel.metadata.tables.items() if name not in ("source_offsets", "schema_version")]
    with engine.begin() as conn:
        SQLModel.metadata.create_all(conn, tables=current)
        conn.exec_driver_sql(V1_SOURCE_OFFSETS)
        conn.exec_driver_sql(
            "INSERT INTO source_offsets (source, inode, \"offset\", line_no, updated_at) "
            "VALUES ('/logs/app.jsonl', 42, 1234, 10, 1.0)"
        )
        conn.execute(insert(RequestRow.__table__).values(id=1, **dict(zip(REQUEST_COLUMNS, request_tuple(record)))))
        conn.execute(insert(RequestBody.__table__).values(**dict(zip(BODY_COLUMNS, (1, *body_tuple(record))))))
    engine.dispose()


def schema_versions(store) -> list[int]:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT version FROM schema_version ORDER BY version"))]


def test_a_version_1_store_is_upgraded_keeping_its_rows_and_offsets(sqlite_and_postgres_url):
    from console.store.migrations import CURRENT_VERSION

    (old,) = records(1, output="kept")
    make_v1_store(sqlite_and_postgres_url, old)
    with Store(sqlite_and_postgres_url, host="ops-1") as store:
        assert schema_versions(store) == list(range(2, CURRENT_VERSION + 1)) == [2, 3, 4, 5, 6, 7, 8, 9, 10]
        assert store.get(old.request_id) == old
        assert store.positions() == {"/logs/app.jsonl": FilePosition("/logs/app.jsonl", 42, 1234, 10)}
        moved = FilePosition("/logs/app.jsonl", 42, 5 * 2**30, 99)  # past 32 bits, now that it fits
        result = store.write(SourceBatch(records=[old, *records(2)], positions={moved.path: moved}))
        assert (result.added, result.duplicates) == (2, 1)
        assert store.positions() == {moved.path: moved}
    with Store(sqlite_and_postgres_url, host="ops-2") as other:  # another host: no offsets of its own yet
        assert other.positions() == {}
        assert schema_versions(other) == [2, 3, 4, 5, 6, 7, 8, 9, 10], "reopening an upgraded store changes nothing"


def test_concurrent_consoles_upgrade_an_old_store_once(sqlite_and_postgres_url):
    import threading

    make_v1_store(sqlite_and_postgres_url, records(1)[0])
    errors, opened = [], []

    def open_store() -> None:
        try:
            with Store(sqlite_and_postgres_url, host="ops-1") as store:
                opened.append(store.positions())
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(opened) == 4 and all(p["/logs/app.jsonl"].offset == 1234 for p in opened)
    with Store(sqlite_and_postgres_url) as store:
        assert schema_versions(store) == [2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_a_store_newer_than_the_console_is_refused(sqlite_and_postgres_url):
    from sqlalchemy import text

    with Store(sqlite_and_postgres_url) as store, store.engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version (version, migrated_at) VALUES (99, 0)"))
    with pytest.raises(StoreError, match="version 99, newer than this console"):
        Store(sqlite_and_postgres_url)


def test_a_new_store_starts_at_the_current_version(sqlite_and_postgres_url):
    with Store(sqlite_and_postgres_url) as store:
        assert schema_versions(store) == [10]
        assert store.max_id() == 0 and store.rows_after(0) == []
        batch = records(3)
        store.write(SourceBatch(records=batch))
        rows = store.rows_after(0)
        assert [r.request_id for _, r in rows] == [r.request_id for r in batch]
        assert store.rows_after(rows[0][0]) == rows[1:] and store.max_id() == rows[-1][0]
        assert store.count(until_id=rows[0][0]) == 1
        assert len(store.recent(10, until_id=rows[1][0])) == 2
        light = store.rows_after(0, with_text=False)  # a follower that only counts: no text read
        assert [(i, r.request_id, r.latency_ms) for i, r in light] == [(i, r.request_id, r.latency_ms) for i, r in rows]
        assert all(r.input is None and r.output is None for _, r in light) and rows[0][1].output is not None


def test_a_reading_command_opens_a_current_store_without_the_table_definitions(tmp_path):
    """report and compare open a store at this schema version without sqlmodel (a third of
    their imports); an older store still goes through the migration, which upgrades it."""
    import subprocess
    import sys

    db = tmp_path / "store.db"
    Store(f"sqlite:///{db}").close()
    probe = (
        "import sys; from console.commands.store_access import open_store; "
        f"store = open_store({str(db)!r}, missing_hint='load it first'); "
        "print(len(store.positions()), 'sqlmodel' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "False"]
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM schema_version WHERE version = (SELECT max(version) FROM schema_version)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "True"]
