"""A second opener of a SQLite store that another thread or process is upgrading waits for
the upgrade, however long it takes (found by opening a 1M-row schema-9 store with a slowed
upgrade: the second opener failed after the write lock's 30 s with 'database is locked';
version 10 rebuilds a 10M-row store's cells in ~50 s, and the live console opens the store
from three threads at once)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from console.store import Store, StoreError, migrations
from console.store.schema_facts import CURRENT_VERSION

SLOW_S = 3.0


def _older_store(path) -> str:
    url = f"sqlite:///{path}"
    Store(url).close()
    with Store(url) as store, store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE rollups DROP COLUMN rated"))  # schema 9's shape
        conn.execute(text(f"UPDATE schema_version SET version = {CURRENT_VERSION - 1}"))
    return url


def _slow_last_step(monkeypatch) -> threading.Event:
    started = threading.Event()
    step = migrations.STEPS[CURRENT_VERSION]

    def slow(conn, host):
        started.set()
        step(conn, host)
        time.sleep(SLOW_S)  # an upgrade longer than the write lock's wait

    monkeypatch.setitem(migrations.STEPS, CURRENT_VERSION, slow)
    monkeypatch.setattr(migrations, "UPGRADE_BUSY_TIMEOUT_S", 1.0)
    return started


def _open_in_thread(url: str) -> tuple[threading.Thread, list]:
    outcome: list = []

    def open_it():
        try:
            Store(url).close()
            outcome.append("opened")
        except StoreError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=open_it)
    thread.start()
    return thread, outcome


def test_a_second_opener_waits_for_an_upgrade_longer_than_the_lock_wait(tmp_path, monkeypatch):
    url = _older_store(tmp_path / "store.db")
    started = _slow_last_step(monkeypatch)
    first, first_outcome = _open_in_thread(url)
    assert started.wait(30)
    Store(url).close()  # waited for the upgrade (it failed after UPGRADE_BUSY_TIMEOUT_S before)
    first.join()
    assert first_outcome == ["opened"]
    with Store(url) as store, store.engine.connect() as conn:
        assert conn.execute(text("SELECT max(version) FROM schema_version")).scalar() == CURRENT_VERSION
        assert conn.execute(text("SELECT count(*) FROM schema_version")).scalar() == 2  # upgraded once
    assert not (tmp_path / "store.db-upgrade.lock").exists()


def test_a_store_locked_by_an_ordinary_writer_is_still_named_after_the_wait(tmp_path, monkeypatch):
    """The upgrade lock is free then: the write lock's wait runs out as before."""
    import sqlite3

    url = _older_store(tmp_path / "store.db")
    monkeypatch.setattr(migrations, "UPGRADE_BUSY_TIMEOUT_S", 1.0)
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="database is locked"):
            Store(url)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
