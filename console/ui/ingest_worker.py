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
from console.ui.messages import HistoryLoaded, IngestFailed, RecordsArrived, SourceState, StoreTrouble

POST_INTERVAL = 0.1
BUDGET_SCOPES = ("model", "prompt_id", "user_id", "environment")
WAIT_SLICE = 0.1
FOLLOW_INTERVAL = 0.25  # store follow: how often new rows are polled
FOLLOW_BATCH = 5000  # rows taken a poll at most (more are taken at once on the next)
FOLLOW_RETRY = 2.0  # after the store could not be read (a restart, the network)
WRITE_RETRY_FIRST = 0.5  # a batch the store refused (disk full, read-only, locked) is retried
WRITE_RETRY_MOST = 10.0  # ... after a pause doubling from the first to at most this


def run_ingest(
    post: Callable[[Message], object],
    is_cancelled: Callable[[], bool],
    sources: list[str],
    store_url: str,
    history_rows: int,
    pricer: Pricer | None = None,
    feed: AnalyticsFeed | None = None,
    source_format: str = "auto",
) -> None:
    """With a pricer, records without cost_usd are priced before they are stored.

    With a feed, the analytics window is seeded from the store before tailing starts,
    then receives every record the store accepted as new (never a duplicate).
    source_format: "auto" (each file by its content), "jsonl" or "otlp".
    With no sources, the store is followed instead: rows written by other consoles and
    ingesters (team mode) arrive as they are committed.
    """
    from console.store import Store, StoreError

    try:
        store = Store(store_url)
    except StoreError as exc:
        post(IngestFailed(str(exc)))
        return
    try:
        last_id = None if sources else store.max_id()  # following: history up to here, then the rest
        post(
            HistoryLoaded(
                store.recent(history_rows, until_id=last_id),
                store.count(until_id=last_id),
                store.rejected_lines(500),
                store.rejected_count(),
            )
        )
        if feed is not None:
            _seed(feed, store, last_id)
        if sources:
            _follow(post, is_cancelled, store, sources, pricer, feed, source_format)
        else:
            follow_store(post, is_cancelled, store, last_id or 0, feed)
    except Exception as exc:  # the UI must hear why the feed stopped
        post(IngestFailed(f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        store.close()


def _seed(feed: AnalyticsFeed, store, until_id: int | None = None) -> None:
    now = time.time()
    since = now - HISTORY_SECONDS
    baseline = {}
    for budget in feed.settings.budgets:
        start, _end = period_bounds(now, budget.period)
        if start < since:
            scope = {f: getattr(budget, f) for f in BUDGET_SCOPES if getattr(budget, f) is not None}
            baseline[budget.name] = store.spend_between(start, since, scope)
    feed.seed(store.load_columns(since, until_id=until_id), baseline)


def _follow(post, is_cancelled, store, sources: list[str], pricer: Pricer | None = None, feed=None,
            source_format: str = "auto") -> None:
    from console.sources.detect import LogTail

    pending_records: list[RequestRecord] = []
    pending_rejected: list[RejectedLine] = []
    pending_added = 0
    last_post = 0.0
    with LogTail(sources, store.positions(), source_format=source_format) as tail:
        while not is_cancelled():
            batch = tail.read_available()
            if batch:
                if pricer is not None:
                    pricer.fill(batch.records)
                result = write_until_stored(post, is_cancelled, store, batch)
                if result is None:  # cancelled while the store refused the batch
                    return
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


def _write_faults() -> tuple[type[BaseException], ...]:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from console.store import StoreError

    return (OSError, sqlite3.OperationalError, OperationalError, StoreError)


def write_until_stored(post, is_cancelled, store, batch, first: float | None = None, most: float | None = None):
    """store.write(batch), retried until it goes through: a full disk, a read-only or locked
    store pauses the tail (nothing more is read) instead of stopping it. The batch's file
    positions are saved in the same transaction as its rows, so the saved offsets never run
    ahead of the rows. The header shows why while it lasts. None if cancelled meanwhile."""
    faults = _write_faults()
    pause = WRITE_RETRY_FIRST if first is None else first
    most = WRITE_RETRY_MOST if most is None else most
    failures = 0
    while True:
        try:
            result = store.write(batch)
        except faults as exc:
            failures += 1
            reason = str(exc) or type(exc).__name__
            post(StoreTrouble(f"cannot write to the store: {reason}; paused, retry {failures} in {pause:g} s"))
            store.discard_writer()  # a fresh connection for the retry
            _sleep(is_cancelled, pause)
            if is_cancelled():
                return None
            pause = min(pause * 2, most)
            continue
        if failures:
            post(StoreTrouble(None))
        return result


def _states(tail) -> list[SourceState]:
    return [
        SourceState(f.path, f.state, f.lines_ok, f.lines_rejected) for f in tail.files
    ]


def follow_store(post, is_cancelled, store, last_id: int, feed=None) -> None:
    """Team mode: poll rows with id > the last seen, a few times a second, into the UI.

    Writers commit in id order (console.store.writers), so nothing committed is skipped.
    The rows go the same way as tailed ones: RecordsArrived, and the analytics feed.
    """
    from sqlalchemy.exc import DBAPIError

    pending: list[RequestRecord] = []
    last_post = 0.0
    while not is_cancelled():
        try:
            rows = store.rows_after(last_id, FOLLOW_BATCH)
        except DBAPIError:  # the server restarted or the network blinked: try again
            _sleep(is_cancelled, FOLLOW_RETRY)
            continue
        if rows:
            last_id = rows[-1][0]
            records = [record for _, record in rows]
            if feed is not None:
                feed.add(records)
            pending.extend(records)
        now = time.monotonic()
        if now - last_post >= POST_INTERVAL and (pending or not last_post):
            post(RecordsArrived(pending, [], len(pending), []))
            pending, last_post = [], now
        if len(rows) < FOLLOW_BATCH:
            _sleep(is_cancelled, FOLLOW_INTERVAL)


def _sleep(is_cancelled, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not is_cancelled() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, WAIT_SLICE))
