"""Spans received over OTLP/HTTP, on their way to the store: a bounded inbox that
console.ingest.tail_and_write reads as it reads a LogTail, so received spans are priced,
written and retried by the same loop, writer and retry policy as tailed lines.

The HTTP handlers (console.live.otlp_receiver) offer each decoded export; the inbox holds at
most `max_spans` records not yet stored, and an export that would pass that bound is refused
at once (the handler answers 503 with Retry-After), so a burst meets backpressure, never an
unbounded queue. A handler then waits for its export's records to be committed before it
answers 200: an acknowledged span is in the store (a rerun after a timeout is harmless, rows
are idempotent by request_id within its UTC day, and a re-sent span has the same ts).

Logfire's streams come as two spans, often in two exports (console/sources/otel/logfire.py).
The inbox joins them as the ingest thread reads the exports, in their order: an export that
leaves an opening waiting for its end is acknowledged once that opening is committed to the
store's stream_openings (console/store/stream_openings.py), in the batch that carries the
export; restore() gives them back after a restart (the console's or `receive`'s), so the end
still finds its opening; one whose end never comes is stored alone after STREAM_WAIT_S,
counted from when it was first received.

MergedSource reads a LogTail and the inbox as one source, for a console that tails files and
receives spans at once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from console.records import RequestRecord
from console.sources.base import RejectedLine, SourceBatch
from console.sources.otel.logfire import STREAM_WAIT_S, StreamJoiner
from console.sources.otlp import OtlpLine

# The most records not yet stored: ~2 KB each in memory, so ~40 MB at most.
MAX_PENDING_SPANS = 20_000
BATCH_RECORDS = 5_000  # records handed to the writer at once
RECEIVED_PATH = "otlp:/v1/traces"  # the "file" a refused span is listed under


@dataclass(eq=False)
class Export:
    """One accepted export request, until its records are committed."""

    records: list[RequestRecord]  # as read: Logfire's halves are joined when the ingest thread takes them
    rejected: list[RejectedLine]
    stored: threading.Event = field(default_factory=threading.Event)  # set once committed
    size: int = 0  # len(records) as offered


class OtlpInbox:
    """The bounded inbox, with the reading face of a LogTail (read_available, has_more,
    wait_for_change, files, total_spans_skipped) and settle(written) for the writer's results."""

    def __init__(self, max_spans: int = MAX_PENDING_SPANS, batch_records: int = BATCH_RECORDS) -> None:
        self.max_spans, self.batch_records = max_spans, batch_records
        self._cond = threading.Condition()
        self._queue: deque[Export] = deque()
        self._in_flight: dict[int, list[Export]] = {}  # id(batch) -> the exports it carries
        self._pending = 0  # records accepted and not yet committed (queued or in flight)
        self._joiner = StreamJoiner()  # Logfire's stream halves may come in two exports
        self._exports = 0
        self.spans_skipped = 0
        self.refused_busy = 0  # exports answered 503

    # -- the HTTP side --------------------------------------------------------------------------

    def offer(self, parsed: OtlpLine, peer: str = "") -> Export | None:
        """Queue an export's records; None (refuse it: busy) when that would pass max_spans.
        An export bigger than the whole inbox is taken when the inbox is empty."""
        with self._cond:
            size = len(parsed.records)
            if self._pending and self._pending + size > self.max_spans:
                self.refused_busy += 1
                return None
            self._exports += 1
            rejected = [RejectedLine(RECEIVED_PATH, self._exports, f"{reason} (from {peer or 'a client'})", "")
                        for reason in parsed.errors]  # fmt: skip
            export = Export(parsed.records, rejected, size=size)
            self._pending += size
            self.spans_skipped += parsed.skipped
            if not export.records and not export.rejected:  # nothing to store
                export.stored.set()
            else:
                self._queue.append(export)
                self._cond.notify_all()
            return export

    @property
    def pending(self) -> int:
        return self._pending

    def restore(self, openings: list[tuple[RequestRecord, float]]) -> None:
        """The stream openings the store kept waiting (stream_openings.load_held's, for
        RECEIVED_PATH): called before the ingest thread's first read."""
        with self._cond:
            self._joiner.restore(openings)

    @property
    def streams_waiting(self) -> int:
        return len(self._joiner.pending)

    # -- the LogTail face, read by console.ingest.tail_and_write ---------------------------------

    def read_available(self, batch: SourceBatch | None = None) -> SourceBatch:
        """The queued exports' records (up to batch_records), added to `batch` if given."""
        batch = SourceBatch() if batch is None else batch
        carried: list[Export] = []
        with self._cond:
            taken = 0
            while self._queue and (not carried or taken + self._queue[0].size <= self.batch_records):
                export = self._queue.popleft()
                batch.records.extend(self._joiner.feed(export.records))
                batch.rejected.extend(export.rejected)
                taken += export.size
                carried.append(export)
            if self._joiner.pending:  # openings whose end never came: stored alone
                batch.records.extend(self._joiner.flush(STREAM_WAIT_S))
            held, released = self._joiner.take_changes()  # kept in the store with this batch
            batch.held.extend((RECEIVED_PATH, record, read_at) for record, read_at in held)
            batch.released.extend((RECEIVED_PATH, request_id) for request_id in released)
            if carried:
                self._in_flight[id(batch)] = carried
            batch.lines_read += len(carried)
        return batch

    @property
    def has_more(self) -> bool:
        return bool(self._queue)

    def wait_for_change(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._queue), 0.25 if timeout is None else timeout)

    @property
    def files(self) -> list:
        return []

    @property
    def total_spans_skipped(self) -> int:
        return self.spans_skipped

    def settle(self, written) -> None:
        """The writer committed these (batch, result) pairs: their exports are stored."""
        with self._cond:
            for batch, _result in written:
                for export in self._in_flight.pop(id(batch), ()):  # an export is never split
                    self._pending -= export.size
                    export.stored.set()


class MergedSource:
    """A LogTail and an OtlpInbox read as one source: each read takes the tail's lines and
    the received spans; a wait ends when either has something (the tail's wait is sliced)."""

    SLICE_S = 0.05

    def __init__(self, tail, inbox: OtlpInbox) -> None:
        self.tail, self.inbox = tail, inbox

    def read_available(self) -> SourceBatch:
        return self.inbox.read_available(self.tail.read_available())

    @property
    def has_more(self) -> bool:
        return self.tail.has_more or self.inbox.has_more

    def wait_for_change(self, timeout: float | None = None) -> bool:
        deadline = time.monotonic() + (0.25 if timeout is None else timeout)
        while True:
            if self.inbox.wait_for_change(0):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self.tail.wait_for_change(min(self.SLICE_S, left)):
                return True

    @property
    def files(self):
        return self.tail.files

    @property
    def total_spans_skipped(self) -> int:
        return self.tail.total_spans_skipped + self.inbox.total_spans_skipped

    def settle(self, written) -> None:
        self.inbox.settle(written)
