"""The requests view over the store: filters in SQL mean what they mean in memory, the
view pages a history bigger than what it keeps in memory, and jumps to the oldest row."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text as sql

from conftest import line_of, make_record, wait_until
from console.analytics.filters import parse_filter
from console.ingest import ingest_files
from console.records import parse_line
from console.store import Store
from console.store.pages import RequestPages
from console.ui.app import ConsoleApp

FILTERS = [
    "model:gpt", "model:GPT-4O", "model:gpt-4o*", "model:claude*", "-model:*mini", "model:*4o*", "model:nope",
    "model:gpt_4o", "model:gpt%", "model:gemini-2.5", "-model:gpt-4o",
    "version:v8", "-version:v8", "version:v*", "prompt:support", "prompt:support-answer", "prompt:support*@v7",
    "prompt:support-answer@v7", "prompt:*class*@v2", "prompt:@v8", "prompt:ticket-classifier@v*",
    "status:error", "-status:ok", "status:ok latency>2s", "latency<=500ms", "ttft>0.3s", "tokens>1000",
    "in<100", "out>=400", "cost>0.001", "-cost>0.001", "user:u_1", "env:prod", "-env:prod",
    "finish:length", "variant:b", "error:rate", "refund", "-refund", "50%", "under_score",
    "id:req_", "ünïcode", "model:gpt* version:v8 -status:error",
]  # fmt: skip


def _varied_records(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for n in range(count):
        error = rng.random() < 0.15
        record = make_record(
            model=rng.choice(["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "Gemini-2.5"]),
            prompt_id=rng.choice(["support-answer", "ticket-classifier"]),
            prompt_version=rng.choice(["v2", "v7", "V8", "v8"]),
            latency_ms=rng.uniform(100, 4000),
            input_tokens=rng.randint(10, 2000),
            output_tokens=rng.randint(0, 800),
            status="error" if error else "ok",
            output=None if error else rng.choice(["a refund is on its way", "50% off", "ünïcode reply", "plain"]),
            error_type="RateLimitError" if error else None,
            error_message="429 under_score" if error else None,
        )
        if rng.random() < 0.6:
            record["ttft_ms"] = rng.uniform(50, 900)
        if rng.random() < 0.7:
            record["cost_usd"] = rng.uniform(0, 0.003)
        for key, values in (("user_id", ["u_1", "u_12", "x"]), ("environment", ["prod", "staging"]),
                            ("finish_reason", ["stop", "length"]), ("variant", ["A", "B"])):  # fmt: skip
            if rng.random() < 0.7:
                record[key] = rng.choice(values)
        records.append(record)
    return records


@pytest.fixture(scope="module")
def varied_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages")
    log = path / "app.jsonl"
    records = _varied_records(1500)
    log.write_text("".join(line_of(r) for r in records), encoding="utf-8")
    url = f"sqlite:///{path / 'store.db'}"
    with Store(url) as store:
        ingest_files(store, [str(log)])
    return url, [parse_line(line_of(r)) for r in records]


@pytest.mark.parametrize("text", FILTERS)
def test_a_filter_in_the_store_matches_the_same_rows_as_in_memory(varied_store, text):
    url, records = varied_store
    record_filter = parse_filter(text)
    expected = {r.request_id for r in records if record_filter(r)}
    with Store(url) as store:
        pages = RequestPages(store.engine)
        for indexed in (True, False):
            ids = pages.keys(pages.compile(record_filter, indexed=indexed), 0)[0]
            found = {r.request_id for r in pages.records(ids.tolist()).values()}
            assert found == expected, (text, indexed)
            assert list(ids) == sorted(ids)


def test_history_is_read_in_stretches_that_add_up(varied_store):
    url, _ = varied_store
    with Store(url) as store:
        pages = RequestPages(store.engine)
        where = pages.compile(parse_filter("-status:error"), indexed=True)
        whole = pages.keys(where, 0)[0]
        top = pages.max_id()
        stretches = [pages.keys(where, low, min(low + 100, top))[0] for low in range(0, top, 100)]
        assert [int(i) for s in stretches for i in s] == whole.tolist()


def test_the_status_filter_uses_an_index(varied_store):
    """(Issue 20: model and version terms read the names from the rollups and scan; their
    indexes were a sixth of the store.)"""
    url, _ = varied_store
    with Store(url) as store:
        pages = RequestPages(store.engine)
        for text, index in (("status:error", "ix_requests_status"),):
            where = pages.compile(parse_filter(text), indexed=True)
            query = sql(f"EXPLAIN QUERY PLAN SELECT r.id FROM requests r WHERE {where.where}")
            with store.engine.connect() as conn:
                plan = conn.execute(query, where.params).all()
            assert any(index in str(row) for row in plan), (text, plan)


async def test_the_view_pages_a_history_bigger_than_it_keeps(tmp_path):
    records = [make_record(request_id=f"row-{n:05d}", ts=1_795_000_000 + n, output=f"answer n{n}x") for n in range(3000)]
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in records), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(url) as store:
        ingest_files(store, [str(log)])
    app = ConsoleApp(sources=[], store_url=url, capacity=500)
    async with app.run_test(size=(160, 40)) as pilot:
        view = app.requests_view
        await wait_until(pilot, lambda: view.row_count == 3000 and view.history_left == 0)
        await wait_until(pilot, lambda: view.current is not None)
        assert view.current.request_id == "row-02999", "the cursor starts on the newest row"
        view.focus()
        await pilot.press("g")
        await wait_until(pilot, lambda: view.current is not None and view.current.request_id == "row-00000")
        assert len(view._cache) <= 500, "rows far from the screen are not kept"
        await pilot.press("G")
        await wait_until(pilot, lambda: view.current is not None and view.current.request_id == "row-02999")

        await pilot.press("slash")
        await pilot.press(*"n17x")
        await pilot.press("enter")
        expected = ["row-00017"]
        await wait_until(pilot, lambda: view.row_count == len(expected) and view.history_left == 0)
        await wait_until(pilot, lambda: len(view.rows) == len(expected))
        assert [r.request_id for r in view.rows] == expected, "the filter searched the whole history"


async def test_new_rows_follow_the_filter_and_the_tail(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(make_record(request_id=f"old-{n}")) for n in range(10)), encoding="utf-8")
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}")
    async with app.run_test(size=(160, 40)) as pilot:
        view = app.requests_view
        await wait_until(pilot, lambda: view.row_count == 10)
        app.dashboard.apply_filter("status:error")
        await wait_until(pilot, lambda: view.history_left == 0 and view.row_count == 0)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(line_of(make_record(request_id="new-ok")))
            handle.write(line_of(make_record(request_id="new-error", status="error", output=None)))
        await wait_until(pilot, lambda: [r.request_id for r in view.rows] == ["new-error"])
        assert view.cursor == 0


async def test_the_history_is_in_time_order_across_files_and_new_rows_follow(tmp_path):
    """Two files ingested one after the other are shown interleaved by ts; a row committed
    later with an older ts lands at its place by time (after the row of the same ts)."""
    first = tmp_path / "a.jsonl"
    second = tmp_path / "b.jsonl"
    first.write_text("".join(line_of(make_record(request_id=f"a{n}", ts=1_795_000_000 + 2 * n)) for n in range(5)))
    second.write_text("".join(line_of(make_record(request_id=f"b{n}", ts=1_795_000_001 + 2 * n)) for n in range(5)))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(url) as store:
        ingest_files(store, [str(first)])
        ingest_files(store, [str(second)])
    app = ConsoleApp(sources=[], store_url=url)
    async with app.run_test(size=(160, 40)) as pilot:
        view = app.requests_view
        await wait_until(pilot, lambda: len(view.rows) == 10 and view.history_left == 0)
        assert [r.request_id for r in view.rows] == [x for n in range(5) for x in (f"a{n}", f"b{n}")]
        with Store(url) as store:
            late = tmp_path / "late.jsonl"
            late.write_text(line_of(make_record(request_id="late", ts=1_795_000_000)))
            ingest_files(store, [str(late)])
        await wait_until(pilot, lambda: len(view.rows) == 11)
        assert [r.request_id for r in view.rows][:3] == ["a0", "late", "b0"]


async def test_new_rows_reach_the_view_from_the_tail_without_the_ui_thread(tmp_path):
    """The tail pokes the pager right after each commit: new rows reach the table even if
    the UI thread never handles the coalesced RecordsArrived (here it drops them)."""
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(make_record(request_id=f"old-{n}")) for n in range(3)), encoding="utf-8")
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}")
    async with app.run_test(size=(160, 40)) as pilot:
        view = app.requests_view
        await wait_until(pilot, lambda: view.row_count == 3 and len(view.rows) == 3)
        arrivals = []
        app.dashboard.show_arrivals = arrivals.append  # the header's path, not the table's
        stored_before = app.status_header.stored
        with log.open("a", encoding="utf-8") as handle:
            for n in range(4):
                handle.write(line_of(make_record(request_id=f"new-{n}")))
                handle.flush()
        expected = [f"old-{n}" for n in range(3)] + [f"new-{n}" for n in range(4)]
        await wait_until(pilot, lambda: [r.request_id for r in view.rows] == expected)
        assert app.status_header.stored == stored_before, "RecordsArrived played no part"


async def test_the_scrollbar_follows_rows_that_arrive_after_it_is_shown(tmp_path):
    """Rows past the first screenful grow the view without a layout pass (only its length
    changes): the scrollbar's range, the end of the scroll and the cursor still follow."""
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(make_record(request_id=f"old-{n}")) for n in range(60)), encoding="utf-8")
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}")
    async with app.run_test(size=(160, 40)) as pilot:
        view = app.requests_view
        await wait_until(pilot, lambda: view.row_count == 60)
        assert view.show_vertical_scrollbar
        with log.open("a", encoding="utf-8") as handle:
            handle.write("".join(line_of(make_record(request_id=f"new-{n}")) for n in range(40)))
        await wait_until(pilot, lambda: view.row_count == 100)
        await pilot.pause(0.1)
        assert view.virtual_size.height == 101 == view.vertical_scrollbar.window_virtual_size
        assert view.cursor == 99 and view.scroll_y == view.max_scroll_y > 0, "still following the newest"
        assert view.rows[-1].request_id == "new-39"


def test_the_pager_loses_no_poke(tmp_path):
    """A poke after every commit, most of them while one is pending (and so dropped): every
    new id still reaches the view once, in id order, in no more messages than pokes."""
    import threading
    import time

    from console.live.events import RequestIdsLoaded, RequestsPagerFailed
    from console.live.requests_pager import RequestsPager

    url = f"sqlite:///{tmp_path / 'store.db'}"
    posted: list = []
    pager = RequestsPager(posted.append, url)
    stop = threading.Event()
    thread = threading.Thread(target=pager.run, args=(stop.is_set,), daemon=True)

    def tail() -> list[int]:
        """The history's ids (rows committed before the pager started) then the new ones."""
        loaded = [m for m in list(posted) if isinstance(m, RequestIdsLoaded)]
        history = [int(i) for m in reversed(loaded) if not m.at_end for i in m.ids]
        return history + [int(i) for m in loaded if m.at_end for i in m.ids]

    with Store(url) as store:
        pager.set_filter(None, 0)
        thread.start()
        try:
            for n in range(60):
                log = tmp_path / f"app-{n}.jsonl"
                # its own times, rising with the ids: make_record's default ts counts from a
                # counter shared by the whole run, and wraps at the hour (the view's order is
                # by ts: a full run put r22.. at 12:00 after r21 at 12:59)
                record = make_record(request_id=f"r{n}", ts=1_795_000_000 + n)
                log.write_text(line_of(record), encoding="utf-8")
                ingest_files(store, [str(log)])
                pager.rows_committed()
            with store.engine.connect() as conn:
                ids = [row[0] for row in conn.execute(sql("SELECT id FROM requests ORDER BY id"))]
            deadline = time.monotonic() + 15
            while tail() != ids and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            stop.set()
            pager.stop()
            thread.join(5)
    assert len(ids) == 60 and tail() == ids
    assert sum(isinstance(m, RequestIdsLoaded) and m.at_end for m in posted) <= 60
    assert not any(isinstance(m, RequestsPagerFailed) for m in posted)
