"""Logfire's streams: two spans for one request, joined back into one record.

Logfire's OpenAI integration ends the call's span when the stream opens (no usage, no
response id), and when the stream has been read it logs a zero-length span ("streaming
response from 'gpt-4o' took 0.09s") carrying the usage, the response and `duration`, the
time spent reading. Read apart they count the stream twice with neither latency right.

The end's log is emitted in the context the stream was created in, so both halves share the
trace of whatever span the call ran in, and the reading started right after the opening span
ended. An end is joined to the opening that ended last before its reading began, in the same
trace when one does, with the same model, service, prompt, user and session; the request
then runs from the opening's start to the log. Openings wait (StreamJoiner.pending) until
their end arrives, which may be lines later; one whose end never comes (a stream not read to
its end) is stored as it is when the reader gives up waiting (LogTail, see detect.py).
"""

from __future__ import annotations

import msgspec

from console.records import RequestRecord

MARK = "otel.logfire_stream"
OPENING, END = "opening", "end"
_TOLERANCE_S = 0.001  # the opening's end and the log's computed start are taken from two clocks


def stream_half(attrs: dict, scope: str, status: str, answered: bool) -> str | None:
    """OPENING or END for a half of a Logfire stream, None for any other span."""
    if not scope.startswith("logfire"):
        return None
    kind = attrs.get("logfire.span_type")
    if kind == "log" and "duration" in attrs and str(attrs.get("logfire.msg_template", "")).startswith("streaming"):
        return END
    missing = attrs.get("otel.usage_missing") or ()
    if kind == "span" and status == "ok" and not answered and len(missing) == 2:
        return OPENING
    return None


def _same_call(opening: RequestRecord, end: RequestRecord) -> bool:
    a, b = opening.metadata or {}, end.metadata or {}
    return (
        opening.model == end.model
        and a.get("service.name") == b.get("service.name")
        and (opening.prompt_ref, opening.user_id, opening.session_id) == (end.prompt_ref, end.user_id, end.session_id)
        and opening.ts + opening.latency_ms / 1000 <= end.ts + _TOLERANCE_S
    )


class StreamJoiner:
    """Joins the halves of Logfire streams across lines; other records pass through."""

    def __init__(self) -> None:
        self.pending: list[RequestRecord] = []

    def feed(self, records: list[RequestRecord]) -> list[RequestRecord]:
        out = []
        for record in records:
            half = (record.metadata or {}).get(MARK)
            if half == OPENING:
                self.pending.append(record)
            elif half == END:
                out.append(self._join(record))
            else:
                out.append(record)
        return out

    def flush(self, ended_before: float | None = None) -> list[RequestRecord]:
        """Openings still waiting (all, or those that ended before epoch second ended_before),
        stored as they are: their stream was not read to its end, or its end was lost."""
        keep, out = [], []
        for record in self.pending:
            if ended_before is None or record.ts + record.latency_ms / 1000 < ended_before:
                record.metadata[MARK] = "opening without its end: the stream was not read to its end"
                out.append(record)
            else:
                keep.append(record)
        self.pending = keep
        return out

    def _join(self, end: RequestRecord) -> RequestRecord:
        candidates = [i for i, opening in enumerate(self.pending) if _same_call(opening, end)]
        same_trace = [i for i in candidates if end.trace_id and self.pending[i].trace_id == end.trace_id]
        chosen = max(same_trace or candidates, key=lambda i: self.pending[i].ts, default=None)
        if chosen is None:
            end.metadata[MARK] = "end without its opening: latency is the reading time only"
            return end
        opening = self.pending.pop(chosen)
        stop = end.ts + end.latency_ms / 1000
        metadata = {**opening.metadata, **end.metadata}
        del metadata[MARK]
        metadata["otel.span_id"] = opening.metadata.get("otel.span_id")
        metadata["otel.stream_end_span_id"] = end.metadata.get("otel.span_id")
        changes = {"ts": opening.ts, "latency_ms": max(stop - opening.ts, 0.0) * 1000, "metadata": metadata}
        if end.request_id == f"{end.trace_id}-{end.metadata.get('otel.span_id')}":  # no response id
            changes["request_id"] = opening.request_id
        return msgspec.structs.replace(end, **changes)
