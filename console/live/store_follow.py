"""Team mode: the live console follows a store other consoles and ingesters write, rather
than tailing files itself."""

from __future__ import annotations

import time
from typing import Callable

from console.records import RequestRecord
from console.live.events import IngestFailed, RecordsArrived, StoreTrouble
from console.live.tail import PERMANENT_TRIES, POST_INTERVAL, _sleep, _write_faults

FOLLOW_INTERVAL = 0.25  # store follow: how often new rows are polled
FOLLOW_BATCH = 5000  # rows taken a poll at most (more are taken at once on the next)
FOLLOW_RETRY = 2.0  # after the store could not be read (a restart, the network)


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
