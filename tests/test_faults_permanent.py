"""An error that never clears (issue 8): transient store faults are retried for as long as they
last, but an error retrying cannot fix (the requests table dropped: a schema error) stops
ingest after PERMANENT_TRIES tries with a message that says what happened and how to resume,
instead of retrying forever.

Transient: OSError (disk full, read-only file system), SQLite locked / busy / read-only /
disk I/O, PostgreSQL connection lost or server shutting down (psycopg OperationalError,
AdminShutdown, wrapped or not by SQLAlchemy). Permanent: no such table / column, syntax,
constraint and type errors (ProgrammingError, IntegrityError, DataError), a file that is not
a database. Anything else (a bug) is raised as it is.
"""

from __future__ import annotations

import errno
import json
import sqlite3
import threading
import time

import pytest
from sqlalchemy import exc as sa_exc

from conftest import line_of, make_record
from console import ingest
from console.records import parse_line
from console.sources.base import SourceBatch
from console.store import Store, StoreError, StoreLocked
from console.store.write_faults import PERMANENT, TRANSIENT, StoreBroken, fault_reason, write_fault
from console.live import ingest_thread, tail
from console.store import retry
from console.store.retry import RetryPolicy
from console.live.events import IngestFailed, RecordsArrived, StoreTrouble

pytestmark = pytest.mark.resilience


def batch_of(*ids: str) -> SourceBatch:
    return SourceBatch(records=[parse_line(json.dumps(make_record(request_id=i))) for i in ids])


def sa_wrapped(orig: Exception, cls=sa_exc.OperationalError) -> Exception:
    return cls("INSERT INTO requests ...", {}, orig)


def test_faults_are_told_apart():
    import psycopg
    from psycopg import errors as pg

    transient = [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EROFS, "Read-only file system"),
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("attempt to write a readonly database"),
        sqlite3.OperationalError("disk I/O error"),
        StoreLocked("the store x is locked by another process"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        pg.AdminShutdown("terminating connection due to administrator command"),
        psycopg.InterfaceError("the connection is closed"),
        sa_wrapped(pg.AdminShutdown("terminating connection due to administrator command")),
        sa_wrapped(sqlite3.OperationalError("database or disk is full")),
    ]
    permanent = [
        sqlite3.OperationalError("no such table: requests"),
        sqlite3.OperationalError("table requests has no column named model"),
        sqlite3.DatabaseError("file is not a database"),
        sqlite3.IntegrityError("NOT NULL constraint failed: requests.model"),
        pg.UndefinedTable('relation "requests" does not exist'),
        pg.UndefinedColumn('column "model" does not exist'),
        sa_wrapped(pg.UndefinedTable('relation "requests" does not exist'), sa_exc.ProgrammingError),
        sa_wrapped(sqlite3.OperationalError("no such table: requests")),
        StoreError("writing to /x/store.db failed: OperationalError: no such table: requests"),
        StoreBroken("the schema"),
    ]
    assert [write_fault(e) for e in transient] == [TRANSIENT] * len(transient)
    assert [write_fault(e) for e in permanent] == [PERMANENT] * len(permanent)
    assert write_fault(TypeError("a bug")) is None and write_fault(KeyError("x")) is None
    reason = fault_reason(sa_wrapped(pg.AdminShutdown("terminating connection\ndue to administrator command")))
    assert reason == "terminating connection due to administrator command", "the driver's words, one line, no SQL"


def test_write_faults_include_psycopg_and_sqlalchemy_errors():
    import psycopg

    faults = retry.store_faults()
    for error in (psycopg.OperationalError("x"), sa_exc.OperationalError("s", {}, Exception("x")),
                  sa_exc.PendingRollbackError("x"), sqlite3.DatabaseError("x"), OSError("x")):  # fmt: skip
        assert isinstance(error, faults), error


def dropped_table_store(tmp_path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.write(batch_of("before"))
    with sqlite3.connect(tmp_path / "store.db") as conn:
        conn.execute("DROP TABLE request_bodies")
    return store


def test_the_live_tail_stops_on_a_dropped_table_instead_of_retrying_forever(tmp_path):
    store = dropped_table_store(tmp_path)
    posted = []
    started = time.monotonic()
    result = tail.write_until_stored(posted.append, lambda: False, store, batch_of("after"), RetryPolicy(first_s=0.01, most_s=0.02))
    assert result is None and time.monotonic() - started < 5
    troubles = [m.reason for m in posted if isinstance(m, StoreTrouble)]
    (failed,) = [m.reason for m in posted if isinstance(m, IngestFailed)]
    assert len(troubles) == retry.PERMANENT_TRIES  # PERMANENT_TRIES - 1 retries, then cleared
    assert troubles[-1] is None and all("no such table: request_bodies" in t for t in troubles[:-1])
    assert "no such table: request_bodies" in failed and "retrying cannot fix" in failed
    assert "restart the console" in failed and "resumes" in failed
    assert store.count() == 1
    store.close()


def test_a_transient_fault_is_still_retried_for_as_long_as_it_lasts(tmp_path, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    failures = {"left": 12}
    real_write = Store.write

    def write(self, batch):
        if failures["left"]:
            failures["left"] -= 1
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real_write(self, batch)

    monkeypatch.setattr(Store, "write", write)
    posted = []
    result = tail.write_until_stored(posted.append, lambda: False, store, batch_of("a", "b"), RetryPolicy(first_s=0.001, most_s=0.004))
    assert result.added == 2 and failures["left"] == 0
    pauses = [float(m.reason.split(" in ")[-1].split()[0]) for m in posted if m.reason]
    assert len(pauses) == 12 and max(pauses) == 0.004, "capped backoff"
    assert not [m for m in posted if isinstance(m, IngestFailed)]
    store.close()


def test_the_worker_reports_the_dropped_table_and_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(retry, "RETRY_FIRST_S", 0.01)
    log, db = tmp_path / "app.jsonl", tmp_path / "store.db"
    log.write_text(line_of(make_record(request_id="first")))
    messages: list = []
    stop = threading.Event()
    worker = threading.Thread(target=ingest_thread.run_ingest, args=(messages.append, stop.is_set, [str(log)],
                                                                       f"sqlite:///{db}"))  # fmt: skip
    worker.start()
    deadline = time.monotonic() + 20
    while not any(isinstance(m, RecordsArrived) and m.records for m in list(messages)) and time.monotonic() < deadline:
        time.sleep(0.02)
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE request_bodies")
    with log.open("a") as handle:
        handle.write(line_of(make_record(request_id="second")))
    worker.join(20)
    stop.set()
    assert not worker.is_alive(), "it stopped by itself"
    (failed,) = [m for m in messages if isinstance(m, IngestFailed)]
    assert "no such table: request_bodies" in failed.reason


def test_one_shot_ingest_stops_with_a_message_and_a_rerun_resumes(tmp_path, monkeypatch):
    monkeypatch.setattr(retry, "RETRY_FIRST_S", 0.01)
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(make_record(request_id=f"r{i}")) for i in range(5)))
    store = dropped_table_store(tmp_path)
    with pytest.raises(StoreBroken) as info:
        ingest.ingest_files(store, [str(log)], parallel=False, on_trouble=lambda reason: None)
    message = str(info.value)
    assert "no such table: request_bodies" in message and "run the same command again to resume" in message
    store.close()
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as reopened:  # opening recreates the table
        totals = ingest.ingest_files(reopened, [str(log)], parallel=False)
        assert totals.added == 5 and reopened.count() == 6


def test_one_shot_ingest_gives_up_on_a_fault_that_outlasts_its_patience(tmp_path, monkeypatch):
    monkeypatch.setattr(retry, "RETRY_FIRST_S", 0.01)
    monkeypatch.setattr(retry, "RETRY_MOST_S", 0.02)
    monkeypatch.setattr(ingest, "INGEST_GIVE_UP_S", 0.2)
    monkeypatch.setattr(Store, "write", lambda self, batch: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    log = tmp_path / "app.jsonl"
    log.write_text(line_of(make_record()))
    troubles = []
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        with pytest.raises(StoreError) as info:
            ingest.ingest_files(store, [str(log)], parallel=False, on_trouble=troubles.append)
    message = str(info.value)
    assert "No space left on device" in message and "gave up after" in message and "run the same command again" in message
    assert len(troubles) >= 3


def test_follow_files_never_gives_up_on_a_transient_fault_and_stops_when_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(retry, "RETRY_FIRST_S", 0.01)
    monkeypatch.setattr(retry, "RETRY_MOST_S", 0.02)
    monkeypatch.setattr(ingest, "INGEST_GIVE_UP_S", 0.05)  # not for --follow
    monkeypatch.setattr(Store, "write", lambda self, batch: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    log = tmp_path / "app.jsonl"
    log.write_text(line_of(make_record()))
    troubles = []
    stop_after = time.monotonic() + 0.5
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        totals = ingest.follow_files(store, [str(log)], lambda: time.monotonic() > stop_after, on_trouble=troubles.append)
    assert totals.added == 0 and len(troubles) >= 5
