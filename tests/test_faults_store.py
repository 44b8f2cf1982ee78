"""Faults survived (issue 8, item 3): the SQLite store locked by another process. A write
waits, retries with backoff, and then fails with a message naming the store."""

from __future__ import annotations

import sqlite3
import time

import pytest

from console.records import RequestRecord
from console.sources.base import SourceBatch
from console.store import LockRetry, Store, StoreError, StoreLocked

pytestmark = pytest.mark.resilience

FAST = LockRetry(timeout_s=0.05, retries=3, backoff_s=0.02)


def record(request_id: str) -> RequestRecord:
    return RequestRecord(
        ts=1.0, request_id=request_id, model="gpt-4o", prompt_id="p", prompt_version="v1",
        input_tokens=1, output_tokens=1, latency_ms=10.0, status="ok",
    )  # fmt: skip


def hold_the_lock(path) -> sqlite3.Connection:
    """Another process's view of it: a connection holding the write lock."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_a_locked_store_is_retried_with_backoff_then_a_clear_message(tmp_path):
    path = tmp_path / "store.db"
    store = Store(f"sqlite:///{path}", lock_retry=FAST)
    store.write(SourceBatch(records=[record("r0")]))  # the writer exists, then the lock is taken
    waits = []
    store._writer.on_lock_wait = lambda retry, pause, exc: waits.append((retry, pause))
    other = hold_the_lock(path)
    started = time.monotonic()
    with pytest.raises(StoreLocked) as info:
        store.write(SourceBatch(records=[record("r1")]))
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert isinstance(info.value, StoreError)
    assert str(path) in message and "locked by another process" in message and "4 tries" in message
    assert waits == [(1, 0.02), (2, 0.04), (3, 0.08)]  # doubling backoff
    assert elapsed < 5
    other.execute("ROLLBACK")
    other.close()
    # nothing half-written, and the store works again once the lock is gone
    assert store.count() == 1
    store.write(SourceBatch(records=[record("r1")]))
    assert store.count() == 2
    store.close()


def test_a_lock_released_during_the_backoff_lets_the_write_through(tmp_path):
    path = tmp_path / "store.db"
    store = Store(f"sqlite:///{path}", lock_retry=LockRetry(timeout_s=0.05, retries=5, backoff_s=0.01))
    store.write(SourceBatch())
    other = hold_the_lock(path)
    waits = []

    def waiting(retry, pause, exc):
        waits.append(retry)
        if retry == 2:  # the other process lets go during the second pause
            other.execute("ROLLBACK")
            other.close()

    store._writer.on_lock_wait = waiting
    result = store.write(SourceBatch(records=[record("a"), record("b")]))
    assert result.added == 2 and store.count() == 2
    assert waits == [1, 2]  # it waited twice, then went through
    store.close()


def test_other_sqlite_errors_are_not_mistaken_for_a_lock(tmp_path):
    path = tmp_path / "store.db"
    store = Store(f"sqlite:///{path}", lock_retry=FAST)
    store.write(SourceBatch())
    store._writer.conn.execute("DROP TABLE rejected_lines")
    from console.sources.base import RejectedLine

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        store.write(SourceBatch(rejected=[RejectedLine("f", 1, "bad", "x")]))
    store.close()


def test_ingest_into_a_locked_store_fails_with_the_message(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from conftest import line_of, make_record
    from console.cli import app
    from console.store import sqlite_writer as writers

    monkeypatch.setattr(writers, "LockRetry", lambda: FAST)  # the writer's default policy, made fast
    path = tmp_path / "store.db"
    Store(f"sqlite:///{path}").close()
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(make_record()) for _ in range(3)))
    other = hold_the_lock(path)
    try:
        result = CliRunner().invoke(app, ["ingest", str(log), "--store", f"sqlite:///{path}"])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.exit_code == 2, result.output
    assert "locked by another process" in " ".join(result.output.split())  # rich wraps the message
    assert str(path) in result.output.replace("\n", "")
    assert Store(f"sqlite:///{path}").count() == 0
