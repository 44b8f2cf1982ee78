"""Logfire stream openings waiting for their end, kept in the store (issue 18).

Logfire 5.4.0 writes a stream as two spans, an opening and, once the stream was read, a log
with its usage (console/sources/otel/logfire.py joins them). Between the two the opening
waits; held only in memory it was lost by a kill -9, although the export that carried it was
already answered 200 (the receiver) or the file's offset had moved past it. So a waiting
opening is written here in the transaction that stores what was read with it (its export's
acknowledgement, the file's offset), and deleted in the transaction that stores it, joined
with its end or alone after its wait: it is in the store exactly once, as a request or here.

One row per opening: the host and source that read it (a file's absolute path, or the
receiver's "otlp:/v1/traces"), its request id, the record as msgspec JSON and when it was
first read (wall clock: the wait goes on across a restart). The batch writers write the
rows (`held`) and deletions (`released`) a SourceBatch carries; load_held reads them back
when a tail or the receiver starts. The table is console.store.tables.StreamOpening (made by
create_all on every open: no schema version).
"""

from __future__ import annotations

import time

import msgspec
from sqlalchemy import Engine, text

from console.records import RequestRecord
from console.sources.base import SourceBatch

_COLUMNS = "host, source, request_id, record, read_at"


def hold_statement(mark: str) -> str:
    """Insert one waiting opening (mark: the driver's placeholder); a repeat is ignored."""
    return f"INSERT INTO stream_openings ({_COLUMNS}) VALUES ({', '.join([mark] * 5)}) ON CONFLICT DO NOTHING"


def release_statement(mark: str) -> str:
    """Delete one opening: joined with its end, or stored alone after its wait."""
    return f"DELETE FROM stream_openings WHERE host = {mark} AND source = {mark} AND request_id = {mark}"


def prepared(batch: SourceBatch, host: str) -> tuple[list[tuple], list[tuple]]:
    """The batch's openings to hold and to release, as the statements' parameters."""
    encode = msgspec.json.encode
    held = [(host, source, record.request_id, encode(record), read_at) for source, record, read_at in batch.held]
    released = [(host, source, request_id) for source, request_id in batch.released]
    return held, released


def load_held(engine: Engine, host: str) -> dict[str, list[tuple[RequestRecord, float]]]:
    """The openings this host left waiting, per source: (record, when first read)."""
    decoder = msgspec.json.Decoder(RequestRecord)
    out: dict[str, list[tuple[RequestRecord, float]]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT source, record, read_at FROM stream_openings WHERE host = :host ORDER BY read_at"),
            {"host": host},
        )
        for source, record, read_at in rows:
            out.setdefault(source, []).append((decoder.decode(bytes(record)), float(read_at)))
    return out


def held_openings(store) -> dict[str, list[tuple[RequestRecord, float]]]:
    """load_held for a console.store.Store."""
    return load_held(store.engine, store.host)


def age_s(read_at: float) -> float:
    """How long ago (wall clock) an opening was first read."""
    return max(time.time() - read_at, 0.0)
