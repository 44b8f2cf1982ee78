"""The background thread that tails the sources into the store and feeds the UI.

It owns all file and database I/O of the live view; the UI thread only receives
batches, coalesced to at most one message per POST_INTERVAL.
"""

from __future__ import annotations

import time
from typing import Callable

from textual.message import Message

from console.analytics.budget import period_bounds
from console.analytics.prices import Pricer
from console.records import RequestRecord
from console.sources.base import RejectedLine
from console.ui.analytics_worker import HISTORY_SECONDS, AnalyticsFeed
from console.ui.messages import HistoryLoaded, IngestFailed, RecordsArrived, SourceState

POST_INTERVAL = 0.1
BUDGET_SCOPES = ("model", "prompt_id", "user_id", "environment")
WAIT_SLICE = 0.1


def run_ingest(
    post: Callable[[Message], object],
    is_cancelled: Callable[[], bool],
    sources: list[str],
    store_url: str,
    history_rows: int,
    pricer: Pricer | None = None,
    feed: AnalyticsFeed | None = None,
) -> None:
    """With a pricer, records without cost_usd are priced before they are stored.

    With a feed, the analytics window is seeded from the store before tailing starts,
    then receives every record the store accepted as new (never a duplicate).
    """
    from console.store import Store, StoreError

    try:
        store = Store(store_url)
    except StoreError as exc:
        post(IngestFailed(str(exc)))
        return
    try:
        post(
            HistoryLoaded(
                store.recent(history_rows),
                store.count(),
                store.rejected_lines(500),
                store.rejected_count(),
            )
        )
        if feed is not None:
            _seed(feed, store)
        if sources:
            _follow(post, is_cancelled, store, sources, pricer, feed)
    except Exception as exc:  # the UI must hear why the feed stopped
        post(IngestFailed(f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        store.close()


def _seed(feed: AnalyticsFeed, store) -> None:
    now = time.time()
    since = now - HISTORY_SECONDS
    baseline = {}
    for budget in feed.settings.budgets:
        start, _end = period_bounds(now, budget.period)
        if start < since:
            scope = {f: getattr(budget, f) for f in BUDGET_SCOPES if getattr(budget, f) is not None}
            baseline[budget.name] = store.spend_between(start, since, scope)
    feed.seed(store.load_columns(since), baseline)


def _follow(post, is_cancelled, store, sources: list[str], pricer: Pricer | None = None, feed=None) -> None:
    from console.sources.jsonl import JsonlTail

    pending_records: list[RequestRecord] = []
    pending_rejected: list[RejectedLine] = []
    pending_added = 0
    last_post = 0.0
    with JsonlTail(sources, store.positions()) as tail:
        while not is_cancelled():
            batch = tail.read_available()
            if batch:
                if pricer is not None:
                    pricer.fill(batch.records)
                result = store.write(batch)
                fresh = result.new_records(batch.records)
                if feed is not None:
                    feed.add(fresh)
                pending_records.extend(fresh)
                pending_rejected.extend(batch.rejected)
                pending_added += result.added
            now = time.monotonic()
            if now - last_post >= POST_INTERVAL and (pending_records or pending_rejected or not last_post):
                post(RecordsArrived(pending_records, pending_rejected, pending_added, _states(tail)))
                pending_records, pending_rejected, pending_added = [], [], 0
                last_post = now
            if not batch.lines_read:
                tail.wait_for_change(WAIT_SLICE)


def _states(tail) -> list[SourceState]:
    return [
        SourceState(f.path, f.state, f.lines_ok, f.lines_rejected) for f in tail.files
    ]
