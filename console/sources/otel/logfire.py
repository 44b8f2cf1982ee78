"""Logfire's streams: two spans for one request, joined back into one record.

Logfire's OpenAI integration ends the call's span when the stream opens (no usage, no
response id), and when the stream has been read it logs a zero-length span ("streaming
response from 'gpt-4o' took 0.09s") carrying the usage, the response and `duration`, the
time spent reading. Read apart they count the stream twice with neither latency right.

The end's log is emitted in the context the call was made in (Logfire's record_streaming
attaches the context taken before the call's span opened), so the two halves are siblings:
the same parent span, and the same trace when there is a parent; a call made outside any span
gives two roots of two traces. The end also repeats every attribute the call's span was given
(the request: request_data, gen_ai.input.messages, gen_ai.request.*, async). Both are folded
into one key per half (call_key): an end is joined only to an opening with its key, its model,
service, prompt, user and session, that ended before the reading began; of those, to the one
that ended last, since the reading starts microseconds after its call returns. What stays
ambiguous is only what nothing tells apart: two identical requests in the same parent (or
both outside any span) whose calls both returned before either was read; both are joined,
each end keeping its own response, tokens and id, and only their latencies may be swapped.

The request then runs from the opening's start to the log. Openings wait
(StreamJoiner.pending) until their end arrives, which may be lines (or exports) later. A
waiting opening is kept in the store as well (console/store/stream_openings.py): the caller
hands the joiner's changes (take_changes) to the writer with the batch that read it, so a
kill -9 loses none, and restore() gives them back to a new joiner. One whose end never comes
(a stream not read to its end) is stored as it is once it waited STREAM_WAIT_S: counted from
when it was first read (flush), or shown by later spans of the same source (flush_overdue:
a file read in one go, long after it was written).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import msgspec

from console.records import USAGE_MISSING, RequestRecord

# How long a stream opening waits for its end before it is stored alone: in a followed file, in
# the receiver's inbox, and (measured by the file's own later spans) in a one-shot ingest.
STREAM_WAIT_S = 60.0
MARK = "otel.logfire_stream"
CALL_KEY = "otel.logfire_call"
OPENING, END = "opening", "end"
# The opening's end and the log's start (its time less `duration`) come from the same clock,
# through floats: they agree to well under a microsecond.
_TOLERANCE_S = 10e-6
# Openings remembered once joined or stored alone, so one read or sent again (an exporter
# retrying an export it saw refused) is not stored a second time.
DONE_KEPT = 10_000
# Attributes Logfire gives the call's span and repeats on the stream's end (its span_data).
_REQUEST_KEYS = ("request_data", "gen_ai.input.messages", "gen_ai.system_instructions", "gen_ai.tool.definitions",
                 "async", "gen_ai.operation.name")  # fmt: skip


def stream_half(attrs: dict, scope: str, status: str, answered: bool) -> str | None:
    """OPENING or END for a half of a Logfire stream, None for any other span."""
    if not scope.startswith("logfire"):
        return None
    kind = attrs.get("logfire.span_type")
    if kind == "log" and "duration" in attrs and str(attrs.get("logfire.msg_template", "")).startswith("streaming"):
        return END
    missing = attrs.get(USAGE_MISSING) or ()
    if kind == "span" and status == "ok" and not answered and len(missing) == 2:
        return OPENING
    return None


def call_key(attrs: dict[str, Any], trace_id: str, parent_span_id: str) -> str:
    """What both halves of one stream say alike: their parent (and trace, under a parent) and
    the request. Read before the mapping takes attributes out."""
    request = [(key, attrs.get(key)) for key in _REQUEST_KEYS]
    request += sorted((key, value) for key, value in attrs.items() if key.startswith("gen_ai.request."))
    where = (trace_id, parent_span_id) if parent_span_id else ("", "")
    return hashlib.blake2b(msgspec.json.encode([where, request]), digest_size=12).hexdigest()


def _ended(record: RequestRecord) -> float:
    return record.ts + record.latency_ms / 1000


def _same_call(opening: RequestRecord, end: RequestRecord) -> bool:
    a, b = opening.metadata or {}, end.metadata or {}
    return (
        a.get(CALL_KEY) == b.get(CALL_KEY)
        and opening.model == end.model
        and a.get("service.name") == b.get("service.name")
        and (opening.prompt_ref, opening.user_id, opening.session_id) == (end.prompt_ref, end.user_id, end.session_id)
        and _ended(opening) <= end.ts + _TOLERANCE_S
    )


class StreamJoiner:
    """Joins the halves of Logfire streams across lines; other records pass through.

    Each waiting opening keeps when it was first read (wall clock, for the store, and
    monotonic, for its wait); take_changes says which openings began or stopped waiting
    since it was last called, for the store to keep what waits."""

    def __init__(self) -> None:
        self.pending: list[RequestRecord] = []
        self._read_at: list[float] = []  # time.time() when each waiting opening was first read
        self._arrived: list[float] = []  # time.monotonic() of the same moment
        self._kept: set[str] = set()  # request ids of the openings the store holds (as of take_changes)
        self._done: dict[str, None] = {}  # the latest DONE_KEPT openings joined or stored: a repeat is ignored
        self.seen_until = 0.0  # the latest end (span clock) of any record fed

    def feed(self, records: list[RequestRecord]) -> list[RequestRecord]:
        out = []
        for record in records:
            half = (record.metadata or {}).get(MARK)
            self.seen_until = max(self.seen_until, _ended(record))
            if half == OPENING:
                if record.request_id not in self._done and not self._waits(record.request_id):
                    self._wait(record, time.time())  # (read or sent again: not doubled)
            elif half == END:
                if record.request_id not in self._done:  # (an end sent again after its join: dropped)
                    out.append(self._join(record))
            else:
                out.append(record)
        return out

    def restore(self, openings: list[tuple[RequestRecord, float]]) -> None:
        """Openings the store kept waiting, with when each was first read: they wait on."""
        for record, read_at in openings:
            if not self._waits(record.request_id):
                self._wait(record, read_at)
                self._kept.add(record.request_id)

    def take_changes(self) -> tuple[list[tuple[RequestRecord, float]], list[str]]:
        """(openings waiting now that the store does not hold yet, with when each was first
        read; request ids of those it holds that no longer wait), since the last call."""
        waiting = {record.request_id for record in self.pending}
        new = [(record, read_at) for record, read_at in zip(self.pending, self._read_at) if record.request_id not in self._kept]
        gone = sorted(self._kept - waiting)
        self._kept = waiting
        return new, gone

    def flush(self, waited_s: float | None = None) -> list[RequestRecord]:
        """Openings still waiting (all, or those first read at least waited_s seconds ago),
        stored as they are: their stream was not read to its end, or its end was lost. The
        wait counts from when they were read, not from the span's clock: a trace read long
        after it was made (or from a host whose clock differs) still waits for the end on its
        next lines."""
        now = time.monotonic()
        return self._stop_waiting(lambda i: waited_s is None or now - self._arrived[i] >= waited_s)

    def flush_overdue(self, waited_s: float) -> list[RequestRecord]:
        """Openings that later records (span clock) show waited over waited_s for their end:
        a file read in one go shows it in the spans written after the opening."""
        return self._stop_waiting(lambda i: _ended(self.pending[i]) + waited_s < self.seen_until)

    def _waits(self, request_id: str) -> bool:
        return any(waiting.request_id == request_id for waiting in self.pending)

    def _finished(self, request_id: str) -> None:
        self._done[request_id] = None
        if len(self._done) > DONE_KEPT:
            del self._done[next(iter(self._done))]

    def _wait(self, record: RequestRecord, read_at: float) -> None:
        self.pending.append(record)
        self._read_at.append(read_at)
        self._arrived.append(time.monotonic() - max(time.time() - read_at, 0.0))

    def _stop_waiting(self, done) -> list[RequestRecord]:
        keep, out = [], []
        for i, entry in enumerate(zip(self.pending, self._read_at, self._arrived)):
            if done(i):
                record = entry[0]
                self._finished(record.request_id)
                record.metadata[MARK] = "opening without its end: the stream was not read to its end"
                record.metadata.pop(CALL_KEY, None)
                out.append(record)
            else:
                keep.append(entry)
        self.pending, self._read_at, self._arrived = (list(column) for column in zip(*keep)) if keep else ([], [], [])
        return out

    def _join(self, end: RequestRecord) -> RequestRecord:
        candidates = [i for i, opening in enumerate(self.pending) if _same_call(opening, end)]
        chosen = max(candidates, key=lambda i: _ended(self.pending[i]), default=None)
        if chosen is None:
            end.metadata[MARK] = "end without its opening: latency is the reading time only"
            end.metadata.pop(CALL_KEY, None)
            return end
        opening = self.pending.pop(chosen)
        del self._read_at[chosen], self._arrived[chosen]
        self._finished(opening.request_id)
        self._finished(end.request_id)
        stop = end.ts + end.latency_ms / 1000
        metadata = {**opening.metadata, **end.metadata}
        del metadata[MARK]
        if USAGE_MISSING not in end.metadata:  # the end carries the usage the opening had not
            metadata.pop(USAGE_MISSING, None)
        metadata.pop(CALL_KEY, None)
        metadata["otel.span_id"] = opening.metadata.get("otel.span_id")
        metadata["otel.stream_end_span_id"] = end.metadata.get("otel.span_id")
        changes = {"ts": opening.ts, "latency_ms": max(stop - opening.ts, 0.0) * 1000, "metadata": metadata}
        if end.request_id == f"{end.trace_id}-{end.metadata.get('otel.span_id')}":  # no response id
            changes["request_id"] = opening.request_id
        return msgspec.structs.replace(end, **changes)
