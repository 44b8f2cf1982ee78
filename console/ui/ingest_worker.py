"""The background thread that tails the sources into the store and feeds the UI.

It owns all file and database I/O of the live view; the UI thread only receives
batches, coalesced to at most one message per POST_INTERVAL. The requests view's pager
hears of each commit at once (`committed`), not through the UI thread: new rows reach
the table without waiting for the coalescing or a hop on the event loop.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from console.analytics.prices import Pricer
from console.records import RequestRecord
from console.sources.base import RejectedLine
from console.ui.analytics_worker import HISTORY_SECONDS, AnalyticsFeed
from console.live.events import (
    HistoryLoaded, HistoryProgress, IngestFailed, Post, RecordsArrived, SourceState, StoreTrouble,
)

# The tail's SQLite page cache: the bulk-load 128 MiB would be a quarter of a console's
# memory after a few hundred thousand rows; the tail writes small batches at the end.
LIVE_WRITER_CACHE_MIB = 32
# Lines read at most per batch. Behind a firehose every batch is full, and up to three are in
# the console at once as records (one decoding, two in the writer process's pipe: ~2 KB a
# record): 20,000 a batch (LogTail's default) put the live console's RSS at 630-700 MB at
# 40-50k lines/s; 5,000 keeps it near 500 MB, and the batches' shorter wait made
# append-to-visible at 30k lines/s 0.8 s instead of 2.3 s at the same throughput.
LIVE_BATCH_LINES = 5_000
POST_INTERVAL = 0.25  # a batch message (and so a frame) at most 4 times a second: frames are the UI thread's main cost
WAIT_SLICE = 0.1
FOLLOW_INTERVAL = 0.25  # store follow: how often new rows are polled
FOLLOW_BATCH = 5000  # rows taken a poll at most (more are taken at once on the next)
FOLLOW_RETRY = 2.0  # after the store could not be read (a restart, the network)
WRITE_RETRY_FIRST = 0.5  # a batch the store refused (disk full, read-only, locked) is retried
WRITE_RETRY_MOST = 10.0  # ... after a pause doubling from the first to at most this
PERMANENT_TRIES = 3  # an error retrying cannot fix (no such table) stops ingest after this many tries


def run_ingest(
    post: Post,
    is_cancelled: Callable[[], bool],
    sources: list[str],
    store_url: str,
    pricer: Pricer | None = None,
    feed: AnalyticsFeed | None = None,
    source_format: str = "auto",
    committed: Callable[[], object] | None = None,
) -> None:
    """With a pricer, records without cost_usd are priced before they are stored.

    With a feed, the analytics window is seeded from the store before tailing starts,
    then receives every record the store accepted as new (never a duplicate).
    source_format: "auto" (each file by its content), "jsonl" or "otlp".
    With no sources, the store is followed instead: rows written by other consoles and
    ingesters (team mode) arrive as they are committed.
    committed() is called on this thread as soon as new rows are in the store.
    """
    from console.store import Store, StoreError

    try:
        store = Store(store_url, writer_cache_mib=LIVE_WRITER_CACHE_MIB)
    except StoreError as exc:
        post(IngestFailed(str(exc)))
        return
    filling = None  # the thread loading the older history (staged seed)
    try:
        last_id = None if sources else store.max_id()  # following: history up to here, then the rest
        if feed is not None:  # first: the panes' first figures are what the user waits for
            filling = _seed(feed, store, last_id, post, is_cancelled)
        post(
            HistoryLoaded(
                store.count(until_id=last_id),
                store.rejected_lines(500),
                store.rejected_count(),
            )
        )
        if sources:
            _follow(post, is_cancelled, store, sources, pricer, feed, source_format, committed)
        else:
            follow_store(post, is_cancelled, store, last_id or 0, feed, committed)
    except Exception as exc:  # the UI must hear why the feed stopped
        post(IngestFailed(f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        if filling is not None:
            filling.join(FILL_JOIN)  # it stops at its next chunk once cancelled
        store.close()


FIRST_STAGE_ROWS = 30_000  # at most this many (the newest) before the first report: well under 1 s to load
FILL_JOIN = 2.0  # seconds to wait at exit for the history thread to stop


class _Stopped(Exception):
    pass


def _seed(feed: AnalyticsFeed, store, until_id: int | None = None, post=None, is_cancelled=None):
    """Seed the analytics window, from a store with column blocks at once (a million rows
    load in about half a second), otherwise in stages, so the panes show figures within a
    second or two whatever the store's size:

    1. the newest rows the current window and the budgets' burn windows need (at most
       FIRST_STAGE_ROWS), seeded at once, with the budgets' spend before them from SQL and
       the older rows' first appearances (no false "new version") — a partial report;
    2. the rest of the history (7 days, at most feed.max_rows rows) read in a background
       thread, which posts HistoryProgress as it goes, then joined in front of the window:
       the report is then exactly build_report over the whole window.

    Returns the history thread (None when one stage held everything)."""
    from console.analytics.budget import budget_baselines
    from console.analytics.report import rows_needed_since

    now = time.time()
    if until_id is None:
        until_id = store.max_id()  # rows tailed from here on reach the feed as they come
    since = now - HISTORY_SECONDS
    bound = store.newest_ts(feed.max_rows, since)  # the count bound, when 7 days hold more
    if bound is not None:
        since = max(since, bound)
    stage = rows_needed_since(now, feed.window, feed.settings)
    stage = since if stage is None else max(since, stage)
    newest = store.newest_ts(FIRST_STAGE_ROWS, stage)
    if newest is not None:
        stage = max(stage, newest)
    spend, budgets = store.spend_nano_between, feed.settings.budgets
    # with column blocks the whole history loads about as fast as the first stage's SQL
    # sums over the older rows: one stage, exact figures at once
    if stage <= since or post is None or store.has_column_blocks():
        feed.seed(store.load_columns(since, until_id=until_id), {}, budget_baselines(spend, budgets, now, since))
        return None
    # SQLite does the older rows' sums in C with the GIL released: beside the load, each
    # in a thread of its own (a thread that failed is redone here, so its error surfaces)
    older_sums = {
        "first_seen": lambda: store.first_seen_between(since, stage, until_id),
        "baselines": lambda: budget_baselines(spend, budgets, now, stage),
    }
    done: dict = {}
    summing = [
        threading.Thread(target=lambda k=key, f=sum_of: done.__setitem__(k, f()), name=f"history-{key}", daemon=True)
        for key, sum_of in older_sums.items()
    ]
    for thread in summing:
        thread.start()
    columns = store.load_columns(stage, until_id=until_id)
    for thread in summing:
        thread.join()
    for key, sum_of in older_sums.items():
        if key not in done:
            done[key] = sum_of()
    columns.fold_first_seen(*done["first_seen"])
    feed.seed(columns, {}, done["baselines"], partial=True)
    total = store.count_between(since, stage)
    post(HistoryProgress(0, total))
    filling = threading.Thread(
        target=_fill_history,
        args=(feed, store, post, is_cancelled, now, since, stage, until_id, total, len(columns)),
        name="history", daemon=True,
    )
    filling.start()
    return filling


def _fill_history(feed, store, post, is_cancelled, now: float, since: float, stage: float, until_id: int,
                  total: int, seeded: int) -> None:
    """Stage 2 of _seed: the older rows, with progress, then handed to the feed (with room
    for the seeded rows and those arriving meanwhile: joining them copies nothing twice)."""
    from console.analytics.budget import budget_baselines

    def progress(loaded: int) -> None:
        if is_cancelled is not None and is_cancelled():
            raise _Stopped
        post(HistoryProgress(loaded, total))

    try:
        spare = seeded + max(seeded, total) // 8
        older = store.load_columns(since, until_id=until_id, before_ts=stage, progress=progress, spare=spare)
        baselines = budget_baselines(store.spend_nano_between, feed.settings.budgets, now, since)
    except _Stopped:
        return
    except Exception as exc:  # the figures stay partial; say why
        post(HistoryProgress(0, total, done=True, error=f"{type(exc).__name__}: {exc}"))
        return
    feed.complete_history(older, baselines)
    post(HistoryProgress(len(older), total, done=True))


def _follow(post, is_cancelled, store, sources: list[str], pricer: Pricer | None = None, feed=None,
            source_format: str = "auto", committed: Callable[[], object] | None = None) -> None:
    from console.sources.detect import LogTail

    pending_records: list[RequestRecord] = []
    pending_rejected: list[RejectedLine] = []
    pending_added = 0
    last_post = 0.0
    from console.ui.live_writer import LiveWriter

    with LogTail(sources, store.positions(), source_format=source_format, max_lines=LIVE_BATCH_LINES) as tail, \
            LiveWriter(post, is_cancelled, store, write_until_stored) as writer:  # fmt: skip
        while not is_cancelled():
            batch = tail.read_available()
            if batch:
                if pricer is not None:
                    pricer.fill(batch.records)
                written = writer.write(batch, behind=tail.has_more)
            else:
                written = writer.flush()
            if written is None:  # cancelled while the store refused a batch
                return
            if committed is not None and any(result.added for _, result in written):
                committed()  # first: the table's wait is what the user sees
            for stored, result in written:
                fresh = result.new_records(stored.records)
                drop_bodies(stored.records)
                if feed is not None:
                    feed.add(fresh)
                pending_records.extend(fresh)
                pending_rejected.extend(stored.rejected)
                pending_added += result.added
            now = time.monotonic()
            if now - last_post >= POST_INTERVAL and (pending_records or pending_rejected or not last_post):
                post(RecordsArrived(pending_records, pending_rejected, pending_added, _states(tail)))
                pending_records, pending_rejected, pending_added = [], [], 0
                last_post = now
            if not batch.lines_read:
                tail.wait_for_change(WAIT_SLICE)


def drop_bodies(records: list[RequestRecord]) -> None:
    """Committed records are only read for their figures from here on (the analytics window,
    the header's counts); the table and the scorers read the store. Their bodies (input,
    output, error text, metadata) go at once, not once the window and the UI have had them:
    a firehose holds tens of thousands of records on their way, and a bench record weighs
    623 bytes without its body against 1,455 with it (tracemalloc)."""
    for record in records:
        record.input = record.output = record.error_message = record.metadata = record.tags = None


def _write_faults() -> tuple[type[BaseException], ...]:
    """The exception classes a store write may fail with that are store faults: the OS's,
    SQLite's, SQLAlchemy's (which wrap psycopg's) and psycopg's own, and StoreError.
    console.store.writers.write_fault then tells the transient from the permanent."""
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    from console.store import StoreError

    faults: tuple[type[BaseException], ...] = (OSError, sqlite3.Error, SQLAlchemyError, StoreError)
    try:
        import psycopg
    except ImportError:  # PostgreSQL support not installed
        return faults
    return (*faults, psycopg.Error)


def write_until_stored(post, is_cancelled, store, batch, first: float | None = None, most: float | None = None):
    """store.write(batch), retried until it goes through: a full disk, a read-only or locked
    store, a PostgreSQL server restarting or a dropped connection pauses the tail (nothing
    more is read) instead of stopping it, for as long as it lasts, with a pause doubling to
    WRITE_RETRY_MOST. The batch's file positions are saved in the same transaction as its
    rows, so the saved offsets never run ahead of the rows, and a batch retried after a
    commit whose answer was lost is not stored twice (rows are unique by request_id).
    The header shows why while it lasts. Each retry gets a fresh connection.

    An error that retrying cannot fix (no such table or column: the schema is not what this
    console writes) stops ingest after PERMANENT_TRIES tries, with IngestFailed saying why:
    None is returned then, as when cancelled meanwhile."""
    from console.store.writers import PERMANENT, fault_reason, write_fault

    faults = _write_faults()
    pause = WRITE_RETRY_FIRST if first is None else first
    most = WRITE_RETRY_MOST if most is None else most
    failures = permanent = 0
    while True:
        try:
            result = store.write(batch)
        except faults as exc:
            kind = write_fault(exc)
            if kind is None:  # not a store fault: a bug, raised as it is
                raise
            failures += 1
            reason = fault_reason(exc)
            store.discard_writer()  # a fresh connection for the retry
            if kind == PERMANENT:
                permanent += 1
                if permanent >= PERMANENT_TRIES:
                    post(StoreTrouble(None))
                    post(IngestFailed(permanent_failure_message(store, reason)))
                    return None
            post(StoreTrouble(f"cannot write to the store: {reason}; paused, retry {failures} in {pause:g} s"))
            _sleep(is_cancelled, pause)
            if is_cancelled():
                return None
            pause = min(pause * 2, most)
            continue
        if failures:
            post(StoreTrouble(None))
        return result


def permanent_failure_message(store, reason: str) -> str:
    where = getattr(store, "display_url", "the store")
    return (
        f"the store {where} refused a batch with an error retrying cannot fix: {reason}. "
        "Nothing after the last saved offset was stored; restart the console "
        "(opening the store recreates missing tables) and it resumes from there."
    )


def _states(tail) -> list[SourceState]:
    return [
        SourceState(f.path, f.state, f.lines_ok, f.lines_rejected, _behind_lines(f)) for f in tail.files
    ]


def _behind_lines(status) -> int:
    """How many lines the tail is behind the writer, estimated from the bytes left."""
    left = max(status.size - status.offset, 0)
    if not left or not status.line_no or not status.offset:
        return 0
    return round(left / (status.offset / status.line_no))


def follow_store(post, is_cancelled, store, last_id: int, feed=None, committed: Callable[[], object] | None = None) -> None:
    """Team mode: poll rows with id > the last seen, a few times a second, into the UI.

    Writers commit in id order (console.store.writers), so nothing committed is skipped.
    The rows go the same way as tailed ones: RecordsArrived, and the analytics feed.
    When the store cannot be read (the server restarting, the network, every connection
    dropped) the poll is retried every FOLLOW_RETRY on a fresh connection, from the same
    last id, so nothing is skipped or shown twice; the header says so while it lasts. An
    error retrying cannot fix (the requests table dropped) stops with IngestFailed.
    """
    from console.store.writers import PERMANENT, fault_reason, write_fault

    faults = _write_faults()
    pending: list[RequestRecord] = []
    last_post = 0.0
    failures = permanent = 0
    while not is_cancelled():
        try:
            rows = store.rows_after(last_id, FOLLOW_BATCH, with_text=False)  # counts and figures only
        except faults as exc:  # the server restarted or the network blinked: try again
            kind = write_fault(exc)
            if kind is None:
                raise
            failures += 1
            reason = fault_reason(exc)
            if kind == PERMANENT:
                permanent += 1
                if permanent >= PERMANENT_TRIES:
                    post(StoreTrouble(None))
                    post(IngestFailed(f"cannot read the store {store.display_url}: {reason}"))
                    return
            post(StoreTrouble(f"cannot read the store: {reason}; retry {failures} in {FOLLOW_RETRY:g} s"))
            _sleep(is_cancelled, FOLLOW_RETRY)
            continue
        if failures:
            failures = permanent = 0
            post(StoreTrouble(None))
        if rows:
            last_id = rows[-1][0]
            if committed is not None:
                committed()
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
