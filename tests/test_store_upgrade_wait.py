"""A second opener of a SQLite store that another thread or process is upgrading waits for
the upgrade, however long it takes (found by opening a 1M-row schema-9 store with a slowed
upgrade: the second opener failed after the write lock's 30 s with 'database is locked';
version 10 rebuilds a 10M-row store's cells in ~50 s, and the live console opens the store
from three threads at once)."""

from __future__ import annotations

import json
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


def _open_in_thread(url: str, notes: list | None = None) -> tuple[threading.Thread, list]:
    outcome: list = []

    def open_it():
        try:
            Store(url, notice=None if notes is None else notes.append).close()
            outcome.append("opened")
        except StoreError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=open_it)
    thread.start()
    return thread, outcome


def test_a_second_opener_waits_for_an_upgrade_longer_than_the_lock_wait(tmp_path, monkeypatch):
    url = _older_store(tmp_path / "store.db")
    started = _slow_last_step(monkeypatch)
    first_notes, second_notes = [], []
    first, first_outcome = _open_in_thread(url, first_notes)
    assert started.wait(30)
    Store(url, notice=second_notes.append).close()  # waited (it failed after UPGRADE_BUSY_TIMEOUT_S before)
    first.join()
    assert first_outcome == ["opened"]
    assert first_notes == [f"upgrading the store from schema version {CURRENT_VERSION - 1} to {CURRENT_VERSION} "
                           "(once; a large store takes a while)"]  # fmt: skip
    assert second_notes == ["waiting for the store's upgrade, which another process or thread is running"]
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


def test_report_says_on_stderr_that_it_upgrades_the_store_and_its_json_stays_whole(tmp_path):
    import subprocess
    import sys

    url = _older_store(tmp_path / "store.db")
    command = [sys.executable, "-m", "console.cli", "report", "--store", url, "--since", "all", "--json"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"upgrading the store from schema version {CURRENT_VERSION - 1} to {CURRENT_VERSION}" in result.stderr
    assert json.loads(result.stdout)["requests"] == 0
    again = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert again.returncode == 0 and "upgrading" not in again.stderr  # once


async def test_the_console_header_says_the_store_is_being_upgraded_then_goes_on(tmp_path, monkeypatch):
    from conftest import wait_until
    from console.config import Settings
    from console.ui.app import ConsoleApp

    url = _older_store(tmp_path / "store.db")
    started = _slow_last_step(monkeypatch)
    app = ConsoleApp(sources=[], store_url=url, settings=Settings())
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, started.is_set)
        header = app.dashboard.status_header
        await wait_until(pilot, lambda: (header.store_trouble or "").startswith("upgrading the store"))
        await wait_until(pilot, lambda: header.store_trouble is None and app.dashboard.report is not None)


async def test_an_upgrade_noticed_before_the_screen_is_composed_is_shown_once_it_is(tmp_path):
    """The ingest thread opens (and upgrades) the store as the app starts: the notice can come
    before the dashboard has a header, and was dropped then."""
    from console.config import Settings
    from console.ui.app import ConsoleApp

    app = ConsoleApp(sources=[], store_url=f"sqlite:///{tmp_path / 'new.db'}", settings=Settings())
    app.dashboard.show_store_trouble("upgrading the store from schema version 9 to 10")  # not composed yet
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.dashboard.status_header.store_trouble == "upgrading the store from schema version 9 to 10"


async def test_a_quick_upgrade_is_still_told_once_the_dashboard_is_drawn(tmp_path):
    """A small store's upgrade is over in a blink: the header's 'upgrading' line was set and
    cleared before the dashboard was drawn, so the user never learnt that the store had been
    upgraded (and that an older llmops-console no longer opens it). A notification says so."""
    from conftest import wait_until
    from test_ui import screen_text

    from console.config import Settings
    from console.ui.app import ConsoleApp
    from console.ui.screens.dashboard import UPGRADED_SHOWN_S

    url = _older_store(tmp_path / "store.db")
    app = ConsoleApp(sources=[], store_url=url, settings=Settings())
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None)
        said = [str(n.message) for n in app._notifications if n.title == "Store upgraded"]
        upgraded = f"from schema version {CURRENT_VERSION - 1} to {CURRENT_VERSION}"
        assert said == [f"the store was upgraded {upgraded}; an older llmops-console no longer opens it"]
        assert "upgraded from schema version" in screen_text(app)  # on screen, as a toast
        assert app.dashboard.status_header.store_trouble is None  # the header's line is gone, as the upgrade
    assert UPGRADED_SHOWN_S >= 10
    with Store(url) as store:
        assert store.upgraded_from is None  # upgraded once: the next open says nothing


async def test_an_upgrade_over_before_the_screen_is_composed_is_told_from_its_mount(tmp_path):
    """Its seconds on screen count from the dashboard's mount, not from the upgrade's end."""
    import time

    from conftest import wait_until
    from test_ui import screen_text

    from console.config import Settings
    from console.ui.app import ConsoleApp

    app = ConsoleApp(sources=[], store_url=f"sqlite:///{tmp_path / 'new.db'}", settings=Settings())
    app.dashboard.show_store_upgraded("the store was upgraded from schema version 9 to 10")
    assert not app._notifications  # not yet: the screen is not there to show it
    before_mount = time.time()
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await wait_until(pilot, lambda: any(n.title == "Store upgraded" for n in app._notifications))
        (said,) = [n for n in app._notifications if n.title == "Store upgraded"]
        assert said.raised_at >= before_mount
        assert "upgraded from schema version" in screen_text(app)  # on screen, as a toast
