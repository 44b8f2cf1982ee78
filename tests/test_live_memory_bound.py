"""The live console's memory stays bounded however many rows its window needs (issue 20):
rows arriving while the feed reads a report from the store are held to the count bound at
once (not only at the next recompute, which waits several times the read's length), and a
report over a time-sorted window reads views of the columns instead of copying a dozen of
them. Counted in rows and bytes allocated, never in time."""

from __future__ import annotations

import threading
import time
import tracemalloc

import numpy as np

from conftest import make_record
from console.analytics.columns import Columns
from console.analytics.report import build_report, contiguous
from console.config import Settings
from console.live import analytics_feed
from console.live.analytics_feed import AnalyticsFeed
from console.records import RequestRecord


def records(n: int, newest: float, start: int = 0) -> list[RequestRecord]:
    return [
        RequestRecord(**{**make_record(request_id=f"r{start + i}", latency_ms=100.0 + i % 997), "ts": newest - (n - i) * 1e-3})
        for i in range(n)
    ]


def test_rows_arriving_while_the_figures_come_from_the_store_are_held_to_the_bound(monkeypatch):
    posted: list = []
    reads = threading.Event()
    feed = AnalyticsFeed(posted.append, Settings(), window="1h", max_rows=2000)

    def from_store(live, now, window, held_since, partial):  # the window needs more than memory holds
        reads.set()
        return "store report", True

    monkeypatch.setattr(feed, "_figures", from_store)
    monkeypatch.setattr(analytics_feed, "STORE_REPORT_SPACING", 1e9)  # the next read: far away
    monkeypatch.setattr(analytics_feed, "comparison_ready", lambda cols, a, b, **kw: ("held", len(cols)))
    stop = threading.Event()
    feed.seed(Columns(), {}, held_since=None)
    feed.attach_store(object())
    thread = threading.Thread(target=feed.run, args=(stop.is_set,))
    thread.start()
    try:
        assert reads.wait(10)
        now = time.time()
        for batch in range(20):  # 10,000 rows, five times the bound
            feed.add(records(500, now - 60 + batch, start=batch * 500))
        held = []
        for _ in range(2):  # the second is answered after the loop's pass over all the rows
            count = len(posted)
            feed.request_compare("a", "b", "t")
            deadline = time.monotonic() + 10
            while len(posted) == count and time.monotonic() < deadline:
                time.sleep(0.01)
            held.append(posted[-1][1])
    finally:
        stop.set()
        feed.stop()
        thread.join(10)
    assert posted.count("store report") == 1  # no recompute meanwhile: the rows were held anyway
    assert held[-1] <= 2000 + 1000 + 500  # the bound, its slack (evict_to_bound) and a batch


def test_a_time_sorted_window_is_aggregated_from_views_of_its_columns():
    now = 1_800_000_000.0
    cols = Columns()
    cols.append(records(200_000, now))
    assert contiguous(np.arange(5, 9)) == slice(5, 9)
    assert isinstance(contiguous(np.array([1, 3])), np.ndarray)
    build_report(cols, now, "1h", Settings())  # imports and caches out of the count
    tracemalloc.start()
    try:
        report = build_report(cols, now, "1h", Settings())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.requests == 200_000
    # a sort's order, its sorted values and their regrouping, the costs in nano-dollars...:
    # ~90 bytes a row; copying each row's dozen columns first made it ~160
    assert peak / 200_000 < 120, peak / 200_000


def test_the_first_whole_figures_start_scipys_import_ahead_of_the_first_comparison(monkeypatch):
    """The console's first `c` waited 1.5-3.4 s for scipy.stats' import in this thread (a user
    trial): it is started in a thread of its own once the first whole figures are out, and
    only once."""
    warmed = []
    monkeypatch.setattr(analytics_feed, "warm_up", lambda: warmed.append(time.monotonic()))
    posted: list = []
    feed = AnalyticsFeed(posted.append, Settings(), window="1h")
    monkeypatch.setattr(feed, "_figures", lambda live, now, window, held_since, partial: ("report", False))
    stop = threading.Event()
    feed.seed(Columns(), {}, held_since=None)
    thread = threading.Thread(target=feed.run, args=(stop.is_set,))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not warmed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert posted and len(warmed) == 1
        feed.add(records(5, time.time() - 60))  # more figures: no second warm-up
        time.sleep(0.5)
        assert len(warmed) == 1
    finally:
        stop.set()
        thread.join(10)
