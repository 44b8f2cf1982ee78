"""The PostgreSQL team store against a real server: concurrent ingesters, hosts, follow, tables.

The server's URL comes from LLMOPS_TEST_POSTGRES_URL (.ci/run sets it); without it these
tests skip. Each test gets a schema of its own (search_path in the URL), dropped afterwards.
The store suite itself (tests/test_store.py) also runs against PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Iterator

import pytest

from conftest import make_record
from console.records import parse_line
from console.sources.base import FilePosition, SourceBatch
from console.store import Store

POSTGRES_URL = os.environ.get("LLMOPS_TEST_POSTGRES_URL")
NO_POSTGRES = "LLMOPS_TEST_POSTGRES_URL is not set (the URL of a PostgreSQL server to test against)"
needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A store URL on a fresh, empty schema of the test server; the schema is dropped after."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"llmops_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema_url() as url:
        yield url


def records(n: int, **overrides):
    return [parse_line(json.dumps(make_record(**overrides))) for _ in range(n)]


@needs_postgres
def test_two_concurrent_ingesters_of_one_file_store_each_request_once(pg_url, tmp_path, write_log):
    log = write_log("app.jsonl", [make_record(request_id=f"req-{i:06d}") for i in range(25_000)])
    command = [sys.executable, "-m", "console.cli", "ingest", str(log), "--store", pg_url]
    env = {**os.environ, "COLUMNS": "200"}
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(2)]  # fmt: skip
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    added = [int(out.split(" rows added")[0].split()[-1].replace(",", "")) for out, _ in outputs]
    assert sum(added) == 25_000, outputs
    with Store(pg_url) as store:
        ids = list(store.request_ids())
        assert len(ids) == len(set(ids)) == 25_000
        assert store.positions()[str(log)].line_no == 25_000


@needs_postgres
def test_each_host_keeps_its_own_offsets_for_the_same_path(pg_url):
    path = "/var/log/app/requests.jsonl"  # the same path on every host of a fleet
    with Store(pg_url, host="web-1") as one, Store(pg_url, host="web-2") as two:
        one.write(SourceBatch(records=records(3), positions={path: FilePosition(path, 11, 300, 3)}))
        two.write(SourceBatch(records=records(5), positions={path: FilePosition(path, 11, 500, 5)}))
        assert one.positions() == {path: FilePosition(path, 11, 300, 3)}
        assert two.positions() == {path: FilePosition(path, 11, 500, 5)}
        assert one.count() == two.count() == 8


@needs_postgres
def test_offsets_past_two_gibibytes_fit(pg_url):
    big = FilePosition("/logs/huge.jsonl", inode=2**40 + 7, offset=5 * 2**30, line_no=9_000_000)
    with Store(pg_url) as store:
        store.write(SourceBatch(positions={big.path: big}))
        assert store.positions() == {big.path: big}


@needs_postgres
def test_a_follower_sees_every_row_of_concurrent_writers_exactly_once(pg_url):
    """Rows are polled by id > last seen: ids must grow in commit order across writers."""
    from console.live.store_follow import follow_store

    received: list[str] = []
    stop = threading.Event()
    expected = 2 * 20 * 50

    def post(message) -> None:
        received.extend(r.request_id for r in getattr(message, "records", []))

    with Store(pg_url) as viewer:
        follower = threading.Thread(target=follow_store, args=(post, stop.is_set, viewer, viewer.max_id()))
        follower.start()

        def writer(name: str) -> None:
            with Store(pg_url, host=name) as store:
                for _ in range(20):
                    store.write(SourceBatch(records=records(50)))

        writers = [threading.Thread(target=writer, args=(f"host-{i}",)) for i in range(2)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        deadline = time.monotonic() + 30
        while len(received) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        follower.join(10)
        assert len(received) == len(set(received)) == expected
        assert set(received) == set(viewer.request_ids())


@needs_postgres
def test_a_row_committed_late_with_a_lower_id_is_not_missed(pg_url, monkeypatch):
    """Writer A holds its transaction open after taking ids; writer B writes meanwhile.

    Were B to commit first, a follower would move past A's ids before they are visible.
    Writers take turns (an advisory lock), so B waits for A, and the follower sees both.
    """
    import console.store.writers as writers
    from console.live.store_follow import follow_store

    inside, release = threading.Event(), threading.Event()
    calls = {"n": 0}
    original = writers.body_tuple

    def slow_body_tuple(record):
        if record.request_id == "slow-0":
            calls["n"] += 1
            if calls["n"] == 2:  # the second call runs inside A's transaction, its ids taken
                inside.set()
                release.wait(30)
        return original(record)

    monkeypatch.setattr(writers, "body_tuple", slow_body_tuple)
    received: list[str] = []
    stop = threading.Event()
    with Store(pg_url) as viewer, Store(pg_url) as store_a, Store(pg_url) as store_b:
        follower = threading.Thread(
            target=follow_store,
            args=(lambda m: received.extend(r.request_id for r in m.records), stop.is_set, viewer, 0),
        )
        follower.start()
        slow = [parse_line(json.dumps(make_record(request_id=f"slow-{i}"))) for i in range(10)]
        fast = [parse_line(json.dumps(make_record(request_id=f"fast-{i}"))) for i in range(10)]
        thread_a = threading.Thread(target=store_a.write, args=(SourceBatch(records=slow),))
        thread_a.start()
        assert inside.wait(10)
        thread_b = threading.Thread(target=store_b.write, args=(SourceBatch(records=fast),))
        thread_b.start()
        thread_b.join(1.0)  # unserialized, B would commit now, and the follower would see it
        if not thread_b.is_alive():
            deadline = time.monotonic() + 5
            while len(received) < 10 and time.monotonic() < deadline:
                time.sleep(0.02)
        release.set()
        thread_a.join(10)
        thread_b.join(10)
        deadline = time.monotonic() + 5
        while len(received) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        stop.set()
        follower.join(10)
    assert sorted(received) == sorted(r.request_id for r in slow + fast)


@needs_postgres
def test_labels_scores_and_regression_runs_are_stored(pg_url):
    from sqlalchemy.exc import IntegrityError
    from sqlmodel import Session, select

    from console.store.tables import LabelRow, RegressionResultRow, RegressionRunRow, ScoreRow

    with Store(pg_url) as store:
        (record,) = records(1)
        store.write(SourceBatch(records=[record]))
        with Session(store.engine) as session:
            session.add(LabelRow(request_id=record.request_id, verdict="bad", reason="wrong refund policy",
                                 author="oncall", created_at=time.time()))
            session.add(ScoreRow(request_id=record.request_id, scorer="refusal", score=0.2, reason="apology",
                                 created_at=time.time()))
            run = RegressionRunRow(started_at=time.time(), status="finished", suite="cases.jsonl", target="replay",
                                   total=1, passed=1)
            session.add(run)
            session.commit()
            session.add(RegressionResultRow(run_id=run.id, case_id="case-1", status="pass", created_at=time.time()))
            session.commit()
            assert session.exec(select(LabelRow.verdict)).all() == ["bad"]
            assert session.exec(select(RegressionResultRow.case_id)).all() == ["case-1"]
            session.add(ScoreRow(request_id=record.request_id, scorer="refusal", score=0.9, reason="again",
                                 created_at=time.time()))
            with pytest.raises(IntegrityError):  # one score per scorer and request
                session.commit()


@needs_postgres
def test_a_bad_password_or_database_is_a_clear_error():
    from sqlalchemy.engine import make_url

    from console.store import StoreError

    url = make_url(POSTGRES_URL).set(database="llmops_no_such_database").render_as_string(hide_password=False)
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(url)
