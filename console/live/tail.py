"""The live console's tail: the sources' new lines into the store, and what was committed
on to the analytics window, the requests view's pager and the UI (RecordsArrived, coalesced
to at most one per POST_INTERVAL). The loop is console.ingest's, as `ingest --follow` runs
it; a store refusing a batch pauses it (write_until_stored)."""

from __future__ import annotations

import time
from typing import Callable

from console.analytics.prices import Pricer
from console.records import ESTIMATED_COST, ESTIMATED_TOKENS, RequestRecord, estimated_cost_usd
from console.ingest import IngestTotals, Written, tail_and_write
from console.live.analytics_feed import AnalyticsFeed
from console.live.events import IngestFailed, Post, RecordsArrived, SourceState, StoreTrouble
from console.live.live_writer import LiveWriter
from console.live.otlp_inbox import RECEIVED_PATH, MergedSource, OtlpInbox
from console.sources.base import RejectedLine, SourceBatch
from console.sources.otlp import OtlpOptions
from console.store import StoreError, WriteResult
from console.store.retry import RetryPolicy, retry_store

# Lines read at most per batch. Behind a firehose every batch is full, and up to three are in
# the console at once as records (one decoding, two in the writer process's pipe: ~2 KB a
# record): 20,000 a batch (LogTail's default) put the live console's RSS at 630-700 MB at
# 40-50k lines/s; 5,000 keeps it near 500 MB, and the batches' shorter wait made
# append-to-visible at 30k lines/s 0.8 s instead of 2.3 s at the same throughput.
LIVE_BATCH_LINES = 5_000
POST_INTERVAL = 0.25  # a batch message (and so a frame) at most 4 times a second: frames are the UI thread's main cost
WAIT_SLICE = 0.1


def follow_tail(post: Post, is_cancelled: Callable[[], bool], store, sources: list[str], pricer: Pricer | None = None,
                feed: AnalyticsFeed | None = None, source_format: str = "auto",
                committed: Callable[[], object] | None = None, otlp_options: OtlpOptions | None = None,
                otlp_inbox: OtlpInbox | None = None) -> None:
    """console.ingest's tail-and-write loop with the live console's hooks: batches are
    written through a writer process while the tail is behind (LiveWriter), and what was
    committed goes on to the pager, the analytics window and the UI (Arrivals). otlp_options:
    llmops.toml's [otel] (None: the defaults). With an otlp_inbox, the spans an app posts to
    the receiver (console.live.otlp_receiver) are read with the files, and their exports
    are acknowledged once committed."""
    from console.sources.detect import LogTail
    from console.store.stream_openings import held_openings

    held = held_openings(store)  # Logfire stream openings left waiting, per file and for the receiver
    if otlp_inbox is not None:
        otlp_inbox.restore(held.pop(RECEIVED_PATH, []))
    with LogTail(sources, store.positions(), source_format=source_format, max_lines=LIVE_BATCH_LINES,
                 otlp_options=otlp_options, held=held) as tail, \
            LiveWriter(store, lambda batch: write_until_stored(post, is_cancelled, store, batch),
                       tail if otlp_inbox is None else None, pricer, source_format) as writer:  # fmt: skip
        source = DeferringTail(tail, writer) if otlp_inbox is None else MergedSource(tail, otlp_inbox)
        arrivals = Arrivals(post, source, feed, committed)

        def written(done: Written) -> None:
            arrivals.take(done)
            if otlp_inbox is not None:
                otlp_inbox.settle(done)

        tail_and_write(source, writer, is_cancelled, IngestTotals(), written, pricer=pricer, idle_wait_s=WAIT_SLICE)


class DeferringTail:
    """The tail, leaving its JSONL lines unparsed for the writer's decoding process while
    it is behind (its last read was full: the next one will be too)."""

    def __init__(self, tail, writer: LiveWriter) -> None:
        self._tail, self._writer = tail, writer

    def read_available(self) -> SourceBatch:
        self._tail.defer_jsonl = self._tail.has_more and self._writer.decodes_elsewhere
        return self._tail.read_available()

    def lines_in_flight(self) -> dict[str, int]:
        return self._writer.lines_in_flight()

    def __getattr__(self, name: str):
        return getattr(self._tail, name)


class Arrivals:
    """What the tail committed, on to the requests view's pager at once (committed()), to
    the analytics window, and to the UI coalesced: a RecordsArrived at most every
    POST_INTERVAL (and a first one at once, with the sources' states)."""

    def __init__(self, post: Post, tail, feed: AnalyticsFeed | None, committed: Callable[[], object] | None) -> None:
        self._post, self._tail, self._feed, self._committed = post, tail, feed, committed
        self._records: list[RequestRecord] = []
        self._rejected: list[RejectedLine] = []
        self._added = 0
        self._last_post = 0.0

    def take(self, written: Written) -> None:
        if self._committed is not None and any(result.added for _, result in written):
            self._committed()  # first: the table's wait is what the user sees
        for stored, result in written:
            if stored.columns is not None:  # decoded by the writer's decoding process
                if self._feed is not None:
                    self._feed.add_columns(stored.columns, arrived=True)
                self._rejected.extend(stored.rejected)
                self._added += result.added
                continue
            fresh = result.new_records(stored.records)
            drop_bodies(stored.records)
            if self._feed is not None:
                self._feed.add(fresh)
            self._records.extend(fresh)
            self._rejected.extend(stored.rejected)
            self._added += result.added
        now = time.monotonic()
        if now - self._last_post >= POST_INTERVAL and (self._added or self._records or self._rejected or not self._last_post):
            self._post(RecordsArrived(self._records, self._rejected, self._added, _states(self._tail)))
            self._records, self._rejected, self._added = [], [], 0
            self._last_post = now


def drop_bodies(records: list[RequestRecord]) -> None:
    """Committed records are only read for their figures from here on (the analytics window,
    the header's counts); the table and the scorers read the store. Their bodies (input,
    output, error text, metadata) go at once, not once the window and the UI have had them:
    a firehose holds tens of thousands of records on their way, and a bench record weighs
    623 bytes without its body against 1,455 with it (tracemalloc). An estimated usage's
    spend stays (the window counts it apart: console.records.estimated_cost_usd)."""
    for record in records:
        estimate = estimated_cost_usd(record.metadata)
        record.input = record.output = record.error_message = record.metadata = record.tags = None
        if estimate is not None:
            record.metadata = {ESTIMATED_TOKENS: {}, ESTIMATED_COST: estimate}


# What the user can do once the store refused a batch for good (console.store.retry).
RESTART_HINT = "Nothing after the last saved offset was stored: restart the console and it resumes from there."


def write_until_stored(
    post: Post, is_cancelled: Callable[[], bool], store, batch: SourceBatch, policy: RetryPolicy | None = None
) -> WriteResult | None:
    """store.write(batch) under the store's retry policy, never giving up (by default): a full
    disk, a read-only or locked store, a PostgreSQL server restarting or a dropped connection
    pauses the tail (nothing more is read) instead of stopping it, for as long as it lasts;
    the header shows why meanwhile (StoreTrouble). The batch's file positions are saved in
    the same transaction as its rows, so the saved offsets never run ahead of the rows.

    An error that retrying cannot fix (no such table or column) stops ingest, with
    IngestFailed saying why: None is returned then, as when cancelled meanwhile."""
    try:
        return retry_store(
            lambda: store.write(batch),
            policy or RetryPolicy(),
            where=getattr(store, "display_url", ""),
            on_trouble=lambda reason: post(StoreTrouble(reason)),
            should_stop=is_cancelled,
            reset=store.discard_writer,
            hint=RESTART_HINT,
        )
    except StoreError as exc:
        post(IngestFailed(str(exc)))
        return None


def _states(tail) -> list[SourceState]:
    files = tail.files
    read = [(f.offset, f.line_no) for f in files if f.line_no and f.offset]
    mean_line = sum(o for o, _ in read) / sum(n for _, n in read) if read else UNREAD_LINE_BYTES
    # read but not committed yet counts as behind: the demo's summary said OK over 30,000 rows
    # stored while 16,000 were in the decoding process's pipe (WARN a second later)
    in_flight = tail.lines_in_flight() if isinstance(tail, DeferringTail) else {}
    return [
        SourceState(f.path, f.state, f.lines_ok, f.lines_rejected, _behind_lines(f, mean_line) + in_flight.get(f.path, 0))
        for f in files
    ]


# A file not read yet has no mean line length of its own: the other files' mean, else this.
UNREAD_LINE_BYTES = 500


def _behind_lines(status, mean_line: float = UNREAD_LINE_BYTES) -> int:
    """How many lines the tail is behind the writer, estimated from the bytes left. A file
    not read yet counts too: it was 0, so with the demo's two history files still unread the
    figures were not 'catching up' and the summary said OK two seconds before WARN."""
    left = max(status.size - status.offset, 0)
    if not left:
        return 0
    per_line = status.offset / status.line_no if status.line_no and status.offset else mean_line
    return round(left / per_line)

