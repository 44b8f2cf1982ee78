"""`open --at`: the requests view lists the rows up to the figures' moment only, as the figures
count them (rows stamped later are in no figure); the filter and the rows committed while it
runs keep to it too. The replay's mechanism (the pager's `until`), with a fixed moment."""

from __future__ import annotations

import threading
import time

from conftest import line_of, make_record, wait_until
from console.ingest import ingest_files
from console.store import Store
from console.ui.app import ConsoleApp

AT = 1_795_000_000.0


def _rows() -> list[dict]:
    """A row a minute from an hour before AT to an hour after; every tenth one failed."""
    return [
        make_record(request_id=f"r{n:03d}", ts=AT + 60 * (n - 60),
                    **({"status": "error", "error_type": "RateLimitError", "output": None} if n % 10 == 5 else {}))
        for n in range(121)
    ]  # fmt: skip


def _store(tmp_path, records) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in records), encoding="utf-8")
    with Store(url) as store:
        ingest_files(store, [str(log)])
    return url


def _commit(url: str, path, records) -> None:
    path.write_text("".join(line_of(r) for r in records), encoding="utf-8")
    with Store(url) as store:
        ingest_files(store, [str(path)])


async def test_the_requests_view_ends_at_the_at_moment(tmp_path):
    records = _rows()
    url = _store(tmp_path, records)
    up_to_at = [r["request_id"] for r in records if r["ts"] <= AT]
    app = ConsoleApp(sources=[], store_url=url, at=AT)
    async with app.run_test(size=(160, 48)) as pilot:
        view = app.requests_view
        # the old view listed all 121 rows, 60 of them after the moment the figures end at
        await wait_until(pilot, lambda: view.history_left == 0 and len(view.rows) == len(up_to_at))
        assert [r.request_id for r in view.rows] == up_to_at
        assert view.row_count == 61 == app.dashboard.report.requests  # the figures' window (1h) holds the same
        assert "(--at)" in str(view.border_subtitle)
        app.dashboard.apply_filter("status:error")
        errors = [r["request_id"] for r in records if r["ts"] <= AT and r.get("status") == "error"]
        await wait_until(pilot, lambda: view.history_left == 0 and [r.request_id for r in view.rows] == errors)
        app.dashboard.apply_filter("")
        await wait_until(pilot, lambda: view.history_left == 0 and len(view.rows) == len(up_to_at))
        # rows another ingester commits while it runs (the store is followed): the one stamped
        # before the moment takes its place by time, the one after is never listed
        _commit(url, tmp_path / "late.jsonl", [make_record(request_id="late-before", ts=AT - 90.5),
                                               make_record(request_id="late-after", ts=AT + 1)])  # fmt: skip
        await wait_until(pilot, lambda: len(view.rows) == len(up_to_at) + 1)
        await pilot.pause(0.5)
        shown = [r.request_id for r in view.rows]
        assert "late-after" not in shown and shown.index("late-before") == len(up_to_at) - 2


def test_the_pager_with_a_fixed_moment_shows_commits_up_to_it_only(tmp_path):
    from console.live.events import RequestIdsLoaded
    from console.live.requests_pager import RequestsPager

    url = _store(tmp_path, _rows())
    posted: list = []
    pager = RequestsPager(posted.append, url, until=lambda: AT)
    stop = threading.Event()
    thread = threading.Thread(target=pager.run, args=(stop.is_set,), daemon=True)

    def shown() -> set[int]:
        return {int(i) for m in list(posted) if isinstance(m, RequestIdsLoaded) for i in m.ids}

    def ids_of(*request_ids: str) -> set[int]:
        with Store(url) as store, store.engine.connect() as conn:
            from sqlalchemy import text

            rows = conn.execute(text("SELECT id, request_id FROM requests")).all()
        return {i for i, rid in rows if rid in request_ids}

    pager.set_filter(None, 0)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while len(shown()) < 61 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert shown() == ids_of(*(f"r{n:03d}" for n in range(61)))
        for n in range(3):
            _commit(url, tmp_path / f"late-{n}.jsonl", [make_record(request_id=f"after-{n}", ts=AT + 5 + n),
                                                        make_record(request_id=f"before-{n}", ts=AT - 5 - n)])  # fmt: skip
            pager.rows_committed()
        deadline = time.monotonic() + 15
        while len(shown()) < 64 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # more pokes find nothing new
        pager.rows_committed()
        time.sleep(0.5)
    finally:
        stop.set()
        pager.stop()
        thread.join(5)
    assert shown() == ids_of(*(f"r{n:03d}" for n in range(61)), "before-0", "before-1", "before-2")
