"""Store follow (team mode): a console started with only a store URL shows what others write.

Run against SQLite and, with LLMOPS_TEST_POSTGRES_URL, a real PostgreSQL server.
"""

from __future__ import annotations

import json
import threading
import time

from conftest import make_record
from console.records import parse_line
from console.sources.base import SourceBatch
from console.store import Store
from console.ui.app import ConsoleApp
from console.live.ingest_thread import run_ingest
from console.live.events import HistoryLoaded, RecordsArrived



def records(*ids: str):
    return [parse_line(json.dumps(make_record(request_id=i))) for i in ids]


def test_the_worker_follows_rows_written_by_another_ingester(sqlite_and_postgres_url):
    with Store(sqlite_and_postgres_url, host="ingester") as ingester:
        ingester.write(SourceBatch(records=records("old-1", "old-2")))
        messages: list = []
        arrived = threading.Condition()
        stop = threading.Event()

        def post(message) -> None:
            with arrived:
                messages.append(message)
                arrived.notify_all()

        def seen() -> list[str]:
            return [r.request_id for m in messages if isinstance(m, RecordsArrived) for r in m.records]

        worker = threading.Thread(target=run_ingest, args=(post, stop.is_set, [], sqlite_and_postgres_url))
        worker.start()
        try:
            with arrived:
                assert arrived.wait_for(lambda: any(isinstance(m, HistoryLoaded) for m in messages), 10)
            history = next(m for m in messages if isinstance(m, HistoryLoaded))
            assert history.stored == 2  # the table reads the stored rows itself (console.live.requests_pager)
            ingester.write(SourceBatch(records=records("new-1", "new-2", "old-1")))  # old-1: a duplicate
            ingester.write(SourceBatch(records=records("new-3")))
            with arrived:
                assert arrived.wait_for(lambda: len(seen()) >= 3, 10)
            assert seen() == ["new-1", "new-2", "new-3"]
        finally:
            stop.set()
            worker.join(10)
        assert not worker.is_alive()


async def test_a_console_with_only_a_store_url_shows_new_rows_live(sqlite_and_postgres_url):
    with Store(sqlite_and_postgres_url, host="ingester") as ingester:
        ingester.write(SourceBatch(records=records("before-1")))
        console = ConsoleApp(sources=[], store_url=sqlite_and_postgres_url)
        async with console.run_test(size=(160, 40)) as pilot:
            deadline = time.monotonic() + 10

            async def until(condition) -> None:
                while not condition():
                    assert time.monotonic() < deadline, "rows did not arrive"
                    await pilot.pause(0.02)

            def shown() -> list[str]:
                return [r.request_id for r in console.requests_view.rows]

            await until(lambda: shown() == ["before-1"])
            ingester.write(SourceBatch(records=records("live-1", "live-2")))
            await until(lambda: shown() == ["before-1", "live-1", "live-2"])
            assert console.status_header.stored == 3


def test_two_terminals_one_ingesting_one_viewing_the_same_store(sqlite_and_postgres_url, tmp_path):
    """`ingest --follow` tails a log into the store; a console with only the store URL shows it."""
    import os
    import signal
    import subprocess
    import sys

    from conftest import line_of

    log = tmp_path / "app.jsonl"
    log.write_text(line_of(make_record(request_id="first")), encoding="utf-8")
    ingester = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "ingest", "--follow", str(log), "--store", sqlite_and_postgres_url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    messages: list = []
    arrived = threading.Condition()
    stop = threading.Event()

    def post(message) -> None:
        with arrived:
            messages.append(message)
            arrived.notify_all()

    def seen() -> set[str]:
        return {r.request_id for m in messages if isinstance(m, RecordsArrived) for r in m.records}

    def first_seen() -> bool:
        """'first' came as a new row, or was in the store when the viewer opened it."""
        return "first" in seen() or any(isinstance(m, HistoryLoaded) and m.stored == 1 for m in messages)

    try:
        with Store(sqlite_and_postgres_url):  # the store exists before the viewer opens it
            pass
        viewer = threading.Thread(target=run_ingest, args=(post, stop.is_set, [], sqlite_and_postgres_url))
        viewer.start()
        with arrived:
            assert arrived.wait_for(first_seen, 20), messages
        with log.open("a", encoding="utf-8") as handle:
            handle.write(line_of(make_record(request_id="second")) + line_of(make_record(request_id="third")))
        with arrived:
            assert arrived.wait_for(lambda: {"second", "third"} <= seen(), 20)
    finally:
        stop.set()
        ingester.send_signal(signal.SIGTERM)
        output, _ = ingester.communicate(timeout=30)
    viewer.join(10)
    assert ingester.returncode == 0, output
    assert "following" in output and "stopped: 3 rows added" in output
