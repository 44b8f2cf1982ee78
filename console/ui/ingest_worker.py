"""The background thread that tails the sources into the store and feeds the UI.

It owns all file and database I/O of the live view; the UI thread only receives
batches, coalesced to at most one message per POST_INTERVAL.
"""

from __future__ import annotations

import time
from typing import Callable

from textual.message import Message

from console.records import RequestRecord
from console.sources.base import RejectedLine
from console.ui.messages import HistoryLoaded, IngestFailed, RecordsArrived, SourceState

POST_INTERVAL = 0.1
WAIT_SLICE = 0.1


def run_ingest(
    post: Callable[[Message], object],
    is_cancelled: Callable[[], bool],
    sources: list[str],
    store_url: str,
    history_rows: int,
) -> None:
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
        if sources:
            _follow(post, is_cancelled, store, sources)
    except Exception as exc:  # the UI must hear why the feed stopped
        post(IngestFailed(f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        store.close()


def _follow(post, is_cancelled, store, sources: list[str]) -> None:
    from console.sources.jsonl import JsonlTail

    pending_records: list[RequestRecord] = []
    pending_rejected: list[RejectedLine] = []
    pending_added = 0
    last_post = 0.0
    with JsonlTail(sources, store.positions()) as tail:
        while not is_cancelled():
            batch = tail.read_available()
            if batch:
                result = store.write(batch)
                pending_records.extend(batch.records)
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
