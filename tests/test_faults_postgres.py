"""PostgreSQL restarted mid-session (issue 8): every connection of the store dropped, again and
again, while it is written and followed. A restart is simulated with pg_terminate_backend on
the store's own connections (found by application_name); the server itself keeps running.

Promises proved here, against a real server (LLMOPS_TEST_POSTGRES_URL; skipped without it):
- one-shot ingest (`ingest_files`, and `llmops-console ingest` as a subprocess) retries the
  batch on a fresh connection and stores every line exactly once;
- `ingest --follow` (follow_files) and the live tail (write_until_stored) do the same;
- team-mode follow (follow_store) shows every row exactly once, in id order;
- an error retrying cannot fix (a table dropped) stops ingest with a clear message.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from conftest import line_of, make_record
from console import ingest
from console.records import parse_line
from console.sources.base import RejectedLine, SourceBatch
from console.store import Store, StoreError
from console.live import ingest_thread, store_follow, tail
from console.store import retry
from console.live.events import IngestFailed, RecordsArrived, StoreTrouble
from test_postgres import POSTGRES_URL, needs_postgres, postgres_schema_url

pytestmark = [pytest.mark.resilience, needs_postgres]


@pytest.fixture
def pg_url():
    with postgres_schema_url() as url:
        yield url


def named(url: str, app: str) -> str:
    """The store URL with its connections named, so they can be found and terminated."""
    return make_url(url).update_query_dict({"application_name": app}).render_as_string(hide_password=False)


class Terminator:
    """Drops every connection named `app` at seeded random moments `between` seconds apart,
    up to `times` rounds that found a connection to drop: a server restart as the store sees
    it (its connections die mid-statement, mid-transaction or idle). Spaced out so a batch
    can get through between two restarts, as with a real one."""

    def __init__(
        self, app: str, between: tuple[float, float] = (0.1, 0.3), times: int = 6, seed: int = 8, until=None,
    ) -> None:
        """until(): also go on past `times` until it is true (a drop that met a statement)."""
        self.app, self.between, self.times, self.until = app, between, times, until
        self.random = random.Random(seed)
        self.engine = create_engine(POSTGRES_URL)
        self.terminated = 0  # connections dropped
        self.restarts = 0  # rounds that dropped at least one
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def terminate_now(self) -> int:
        with self.engine.begin() as conn:
            count = conn.execute(
                text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                     "WHERE application_name = :app AND pid <> pg_backend_pid()"),
                {"app": self.app},
            ).scalar_one()
        self.terminated += count
        self.restarts += bool(count)
        return count

    def _run(self) -> None:
        while (self.restarts < self.times or (self.until is not None and not self.until())) and not self._stop.wait(
            self.random.uniform(*self.between)
        ):
            self.terminate_now()

    def start(self) -> Terminator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        self.engine.dispose()


def write_log(path, count: int, prefix: str) -> list[str]:
    ids = [f"{prefix}-{i:06d}" for i in range(count)]
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(line_of(make_record(request_id=rid)) for rid in ids)
    return ids


def assert_stored_once(url: str, expected: list[str], log=None) -> None:
    with Store(url) as store:
        stored = list(store.request_ids())
        assert len(stored) == len(set(stored)), "no request stored twice"
        assert sorted(stored) == sorted(expected), f"{len(set(expected) - set(stored))} rows lost"
        if log is not None:
            assert store.positions()[str(log)].offset == log.stat().st_size


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(retry, "RETRY_FIRST_S", 0.01)  # ingest, ingest --follow and the live tail alike
    monkeypatch.setattr(retry, "RETRY_MOST_S", 0.05)
    monkeypatch.setattr(store_follow, "FOLLOW_RETRY", 0.05)
    monkeypatch.setattr(store_follow, "FOLLOW_INTERVAL", 0.02)


def test_one_shot_ingest_retries_when_every_connection_is_dropped(pg_url, tmp_path, monkeypatch, fast):
    monkeypatch.setattr(ingest, "INGEST_BATCH_LINES", 200)
    log = tmp_path / "app.jsonl"
    expected = write_log(log, 6000, "one")  # 30 batches
    app = f"llmops-fault-{uuid.uuid4().hex[:8]}"
    troubles: list[str | None] = []
    store = Store(named(pg_url, app))
    discarded = []
    real_discard = store.discard_writer
    store.discard_writer = lambda: (discarded.append(1), real_discard())
    killer = Terminator(app, (0.05, 0.2), times=8, seed=1)
    first_batch = threading.Event()
    try:
        def progressed(_n: int) -> None:
            if not first_batch.is_set():
                first_batch.set()
                killer.start()

        totals = ingest.ingest_files(store, [str(log)], progressed, parallel=False, on_trouble=troubles.append)
    finally:
        killer.stop()
        store.close()
    assert totals.added == 6000
    failures = [t for t in troubles if t]
    assert killer.restarts >= 3 and len(failures) >= 3, (killer.terminated, troubles)
    assert len(discarded) == len(failures), "each failed try drops the writer for a fresh connection"
    print(f"\none-shot: {killer.restarts} restarts, {killer.terminated} connections dropped, {len(failures)} retries")
    assert any("terminating connection" in t or "server closed" in t or "connection" in t for t in failures)
    assert_stored_once(pg_url, expected, log)


def test_the_ingest_command_survives_a_restart_and_a_rerun_stores_nothing_twice(pg_url, tmp_path):
    log = tmp_path / "app.jsonl"
    # 6 batches: since ingest inserts through psycopg's executemany it stores 10,000 rows in
    # ~0.2 s, so a 2-batch load was done before the first drop (0.3-0.8 s after its first batch)
    expected = write_log(log, 60_000, "cli")
    app = f"llmops-fault-{uuid.uuid4().hex[:8]}"
    Store(pg_url).close()  # the schema exists before the drops start
    command = [sys.executable, "-m", "console.cli", "ingest", str(log), "--store", named(pg_url, app)]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "COLUMNS": "200"})
    killer = Terminator(app, (0.3, 0.8), times=2, seed=2)
    try:
        with Store(pg_url) as reader:  # mid-ingest: once its first batch is in
            while reader.count() == 0 and run.poll() is None:
                time.sleep(0.05)
        killer.start()
        out, err = run.communicate(timeout=180)
    finally:
        killer.stop()
    assert run.returncode == 0, (out, err)
    assert "60,000 rows added" in out
    assert killer.restarts >= 1, "the connections were dropped while it ran"
    print(f"\ncli: {killer.restarts} restarts, {killer.terminated} connections dropped; stderr: {err.strip()[:300]}")
    assert_stored_once(pg_url, expected, log)
    assert "error ignored" not in err, "psycopg's pipeline warning after a drop is not shown"
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert rerun.returncode == 0 and "0 rows added" in rerun.stdout, rerun
    assert_stored_once(pg_url, expected, log)


def test_ingest_follow_keeps_tailing_through_restarts(pg_url, tmp_path, fast):
    log = tmp_path / "app.jsonl"
    log.touch()
    app = f"llmops-fault-{uuid.uuid4().hex[:8]}"
    store = Store(named(pg_url, app))
    stop = threading.Event()
    troubles: list[str | None] = []
    done: list = []
    worker = threading.Thread(
        target=lambda: done.append(ingest.follow_files(store, [str(log)], stop.is_set, on_trouble=troubles.append))
    )
    worker.start()
    # as for the live tail: a dropped connection met between writes is replaced unseen
    # (pre-ping), so the drops and the rows go on until one met a write (under load, six
    # drops could all fall between writes)
    killer = Terminator(app, (0.05, 0.2), times=6, seed=3, until=lambda: any(troubles)).start()
    expected: list[str] = []
    try:
        for round_no in range(200):
            expected += write_log(log, 100, f"follow{round_no}")
            time.sleep(0.05)
            if round_no >= 19 and any(troubles):
                break
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with Store(pg_url) as reader:
                if reader.count() >= len(expected) and reader.positions().get(str(log)):
                    if reader.positions()[str(log)].offset == log.stat().st_size:
                        break
            time.sleep(0.1)
    finally:
        killer.stop()
        stop.set()
        worker.join(30)
        store.close()
    assert not worker.is_alive() and done, "follow_files stopped when asked, without raising"
    assert killer.restarts >= 3 and any(troubles), (killer.terminated, troubles)
    print(f"\nfollow_files: {killer.restarts} restarts, {killer.terminated} dropped, {sum(map(bool, troubles))} retries")
    assert_stored_once(pg_url, expected, log)


def test_the_live_tail_retries_psycopg_faults_and_shows_each_row_once(pg_url, tmp_path, fast):
    log = tmp_path / "app.jsonl"
    log.touch()
    app = f"llmops-fault-{uuid.uuid4().hex[:8]}"
    url = named(pg_url, app)
    Store(url).close()
    messages: list = []
    stop = threading.Event()
    worker = threading.Thread(target=ingest_thread.run_ingest, args=(messages.append, stop.is_set, [str(log)], url))
    worker.start()
    deadline = time.monotonic() + 30  # mid-session: once it loaded its history and tails
    while not any(isinstance(m, RecordsArrived) for m in list(messages)) and time.monotonic() < deadline:
        time.sleep(0.02)
    def troubled() -> bool:
        return any(isinstance(m, StoreTrouble) and m.reason for m in list(messages))

    # a dropped connection the tail was not using is replaced unseen (pre-ping): the drops go
    # on, and so do the rows, until one met a write
    killer = Terminator(app, (0.05, 0.2), times=6, seed=4, until=troubled).start()
    expected: list[str] = []
    try:
        for round_no in range(200):
            expected += write_log(log, 50, f"live{round_no}")
            time.sleep(0.05)
            if round_no >= 19 and troubled():
                break
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with Store(pg_url) as reader:
                if reader.count() >= len(expected):
                    break
            time.sleep(0.1)
    finally:
        killer.stop()
        time.sleep(0.3)  # the last RecordsArrived is posted
        stop.set()
        worker.join(30)
    assert not worker.is_alive()
    troubles = [m.reason for m in messages if isinstance(m, StoreTrouble) and m.reason]
    assert killer.restarts >= 3 and troubles, (killer.terminated, troubles)
    assert not [m for m in messages if isinstance(m, IngestFailed)]
    shown = [r.request_id for m in messages if isinstance(m, RecordsArrived) for r in m.records]
    assert len(shown) == len(set(shown)), "no row shown twice"
    print(f"\nlive tail: {killer.restarts} restarts, {killer.terminated} dropped, {len(troubles)} retries, "
          f"{len(set(expected) - set(shown))} rows stored but not shown")
    # A retry after a commit whose answer was lost finds its rows stored: they are not shown
    # again (never twice), but they are in the store. Nearly always, nothing is missing.
    assert len(set(expected) - set(shown)) <= 5 * 50
    assert_stored_once(pg_url, expected, log)


def test_team_follow_reconnects_and_shows_every_row_once_in_order(pg_url, fast):
    app = f"llmops-fault-{uuid.uuid4().hex[:8]}"
    follower = Store(named(pg_url, app))
    messages: list = []
    stop = threading.Event()
    worker = threading.Thread(target=store_follow.follow_store, args=(messages.append, stop.is_set, follower, 0))
    worker.start()
    killer = Terminator(app, (0.02, 0.1), times=6, seed=5).start()
    expected: list[str] = []
    try:
        with Store(pg_url, host="writer") as writer:  # the writer's connections are left alone
            for round_no in range(40):
                batch = [parse_line(json.dumps(make_record(request_id=f"team{round_no}-{i}"))) for i in range(25)]
                writer.write(SourceBatch(records=batch))
                expected += [r.request_id for r in batch]
                time.sleep(0.02)

        def shown() -> list[str]:
            return [r.request_id for m in list(messages) if isinstance(m, RecordsArrived) for r in m.records]

        deadline = time.monotonic() + 30
        while len(shown()) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        killer.stop()
        stop.set()
        worker.join(30)
        follower.close()
    assert killer.restarts >= 3, killer.restarts
    assert shown() == expected, "every row once, in commit order"
    # A poll that was cut off is retried (StoreTrouble on the header); an idle connection that
    # was dropped is replaced unseen when it is next taken from the pool (pre-ping).
    cut = sum(isinstance(m, StoreTrouble) and bool(m.reason) for m in messages)
    print(f"\nteam follow: {killer.restarts} restarts, {killer.terminated} dropped, {cut} polls cut off and retried, "
          f"{len(expected)} rows shown once")


def test_a_dropped_table_stops_ingest_with_a_clear_message(pg_url, fast):
    batch = SourceBatch(records=[parse_line(json.dumps(make_record()))], rejected=[RejectedLine("f", 1, "bad", "x")])
    with Store(pg_url) as store:
        store.write(SourceBatch(records=[parse_line(json.dumps(make_record()))]))
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE rejected_lines")
        posted: list = []
        calls = []
        real_write = store.write
        store.write = lambda b: (calls.append(1), real_write(b))[1]
        assert tail.write_until_stored(posted.append, lambda: False, store, batch) is None
        assert len(calls) == retry.PERMANENT_TRIES, "not retried forever"
        (failed,) = [m for m in posted if isinstance(m, IngestFailed)]
        assert "rejected_lines" in failed.reason and "does not exist" in failed.reason
        assert "retrying cannot fix" in failed.reason and "resumes" in failed.reason
        with pytest.raises(StoreError, match="retrying cannot fix"):
            ingest.write_retrying(store, batch)
        assert store.count() == 1, "nothing of the refused batch was stored"


def test_a_team_follow_poll_cut_off_by_a_restart_is_retried_from_the_same_row(pg_url, fast):
    from sqlalchemy.exc import OperationalError

    app = f"llmops-fault-{uuid.uuid4().hex[:8]}"
    follower = Store(named(pg_url, app))
    killer = Terminator(app)
    with follower.engine.connect() as conn:  # a real one: the server dropped the connection mid-session
        conn.execute(text("SELECT 1"))
        killer.terminate_now()
        with pytest.raises(OperationalError) as cut:
            conn.execute(text("SELECT 1"))
    killer.stop()
    with Store(pg_url, host="writer") as writer:
        writer.write(SourceBatch(records=[parse_line(json.dumps(make_record(request_id=f"t{i}"))) for i in range(3)]))
    real_rows_after, calls = follower.rows_after, []

    def rows_after(last_id, limit, **options):
        calls.append(last_id)
        if len(calls) <= 2:
            raise cut.value
        return real_rows_after(last_id, limit, **options)

    follower.rows_after = rows_after
    messages: list = []
    stop = threading.Event()
    worker = threading.Thread(target=store_follow.follow_store, args=(messages.append, stop.is_set, follower, 0))
    worker.start()
    deadline = time.monotonic() + 10
    while not any(isinstance(m, RecordsArrived) and m.records for m in list(messages)) and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    worker.join(10)
    follower.close()
    troubles = [m.reason for m in messages if isinstance(m, StoreTrouble)]
    assert len(troubles) == 3 and troubles[-1] is None
    assert all("cannot read the store: terminating connection due to administrator command" in t for t in troubles[:2])
    assert calls[:3] == [0, 0, 0], "retried from the same last id"
    assert [r.request_id for m in messages if isinstance(m, RecordsArrived) for r in m.records] == ["t0", "t1", "t2"]
