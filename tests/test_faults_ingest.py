"""Faults survived in the live tail (issue 8, item 3): the store refusing writes (disk full,
read-only, locked) pauses ingest with a message on the header and retries the same batch;
a log file that is unreadable or missing is reported on the header while the others go on."""

from __future__ import annotations

import errno
import os
import sqlite3

import pytest

from conftest import make_record
from console.sources.base import SourceBatch
from console.store import Store
from console.live import tail
from console.store import retry
from console.store.retry import RetryPolicy
from console.ui.app import ConsoleApp
from console.live.events import StoreTrouble
from test_ui import append, screen_text, shown, wait_until

pytestmark = pytest.mark.resilience


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(retry, "RETRY_FIRST_S", 0.02)
    monkeypatch.setattr(retry, "RETRY_MOST_S", 0.1)


class FailingWrites:
    """Store.write failing with `error` while `failing` is set (or `times` more times)."""

    def __init__(self, monkeypatch, error: Exception, times: int | None = None) -> None:
        self.error, self.times, self.failing = error, times, True
        self.failures = 0
        real = Store.write

        def write(store, batch: SourceBatch):
            if (self.times is None and self.failing) or (self.times is not None and self.failures < self.times):
                self.failures += 1
                raise self.error
            return real(store, batch)

        monkeypatch.setattr(Store, "write", write)


def header_text(app) -> str:
    return str(app.status_header.render()).replace("\xa0", " ")  # a part's spaces do not break


def stored_state(db):
    """What another process sees in the store: request ids, and the saved offsets."""
    with sqlite3.connect(db) as conn:
        ids = [row[0] for row in conn.execute("SELECT request_id FROM requests")]
        offsets = {row[0]: row[1] for row in conn.execute('SELECT source, "offset" FROM source_offsets')}
    return ids, offsets


@pytest.mark.parametrize(
    "error",
    [OSError(errno.ENOSPC, "No space left on device"), sqlite3.OperationalError("attempt to write a readonly database")],
    ids=["disk-full", "read-only"],
)
async def test_a_store_refusing_writes_pauses_ingest_then_resumes_with_every_line_once(
    tmp_path, monkeypatch, fast_retries, error
):
    log, db = tmp_path / "app.jsonl", tmp_path / "store.db"
    first = [make_record() for _ in range(3)]
    append(log, *first)
    fault = FailingWrites(monkeypatch, error)
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{db}")
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_until(pilot, lambda: "ingest paused" in header_text(app) and fault.failures >= 3)
        text = header_text(app)
        assert "cannot write to the store" in text and (str(error) in text)
        later = [make_record() for _ in range(4)]
        append(log, *later)  # written while paused: nothing is read meanwhile
        ids, offsets = stored_state(db)
        assert ids == [] and offsets == {}, "offsets never run ahead of the rows"
        assert shown(app) == []
        fault.failing = False  # space returns
        expected = [r["request_id"] for r in first + later]
        await wait_until(pilot, lambda: shown(app) == expected)
        await wait_until(pilot, lambda: "ingest paused" not in header_text(app))
        assert "ingest stopped" not in header_text(app)
    ids, offsets = stored_state(db)
    assert sorted(ids) == sorted(expected) and len(ids) == len(set(ids))
    assert offsets == {str(log): log.stat().st_size}


async def test_write_failing_n_times_then_succeeding_stores_every_line_exactly_once(tmp_path, monkeypatch, fast_retries):
    log, db = tmp_path / "app.jsonl", tmp_path / "store.db"
    records = [make_record() for _ in range(50)]
    append(log, *records[:20])
    fault = FailingWrites(monkeypatch, OSError(errno.ENOSPC, "No space left on device"), times=4)
    seen = []
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{db}")
    real_post = app.post_message

    def post(message):
        event = getattr(message, "event", None)  # the live thread's event inside the message
        if isinstance(event, StoreTrouble):
            seen.append(event.reason)
        return real_post(message)

    app.post_message = post
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 20)
        append(log, *records[20:])
        await wait_until(pilot, lambda: len(shown(app)) == 50)
        assert "ingest paused" not in header_text(app)
    assert fault.failures == 4
    assert len(seen) == 5 and all("No space left on device" in r for r in seen[:4]) and seen[4] is None
    ids, offsets = stored_state(db)
    assert sorted(ids) == sorted(r["request_id"] for r in records)
    assert offsets == {str(log): log.stat().st_size}


def test_write_until_stored_retries_the_same_batch_and_stops_when_cancelled(tmp_path):
    class Refusing:
        def __init__(self):
            self.calls, self.discarded = [], 0

        def write(self, batch):
            self.calls.append(batch)
            raise OSError(errno.EROFS, "Read-only file system")

        def discard_writer(self):
            self.discarded += 1

    store, posted = Refusing(), []
    batch = SourceBatch()
    cancelled = lambda: len(store.calls) >= 3  # noqa: E731
    assert tail.write_until_stored(posted.append, cancelled, store, batch, RetryPolicy(first_s=0.001, most_s=0.002)) is None
    assert all(b is batch for b in store.calls) and store.discarded == 3
    assert [m.reason.split(";")[0] for m in posted] == ["cannot write to the store: [Errno 30] Read-only file system"] * 3


async def test_an_unreadable_or_missing_log_is_on_the_header_and_the_others_go_on(tmp_path, monkeypatch):
    bad, missing, good = tmp_path / "bad.jsonl", tmp_path / "missing.jsonl", tmp_path / "good.jsonl"
    append(bad, make_record(request_id="req-bad"))
    append(good, make_record(request_id="req-good"))
    real_open = os.open
    blocked = {str(bad)}

    def fake_open(path, *args, **kwargs):
        if os.fspath(path) in blocked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)
    app = ConsoleApp(sources=[str(bad), str(missing), str(good)], store_url=f"sqlite:///{tmp_path / 'store.db'}")
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_until(pilot, lambda: shown(app) == ["req-good"])
        await wait_until(pilot, lambda: "permission denied" in header_text(app))
        text = header_text(app)
        assert "bad.jsonl (unreadable: permission denied)" in text
        assert "missing.jsonl (waiting)" in text and "good.jsonl" in text
        append(good, make_record(request_id="req-good-2"))  # the others go on
        await wait_until(pilot, lambda: shown(app) == ["req-good", "req-good-2"])
        blocked.clear()  # permissions fixed; the missing file appears
        append(missing, make_record(request_id="req-late"))
        await wait_until(pilot, lambda: set(shown(app)) == {"req-good", "req-good-2", "req-bad", "req-late"})
        await wait_until(pilot, lambda: "(unreadable" not in header_text(app) and "(waiting)" not in header_text(app))
        assert "ingest stopped" not in screen_text(app)
