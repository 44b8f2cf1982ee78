"""Team mode: the live console follows a store other consoles and ingesters write, rather
than tailing files itself."""

from __future__ import annotations

import time
from typing import Callable

from console.records import RequestRecord
from console.live.events import IngestFailed, Post, RecordsArrived, StoreTrouble
from console.live.tail import POST_INTERVAL
from console.store import StoreError
from console.store.retry import RetryPolicy, retry_store, sleep_unless_stopped

FOLLOW_INTERVAL = 0.25  # store follow: how often new rows are polled
FOLLOW_BATCH = 5000  # rows taken a poll at most (more are taken at once on the next)
FOLLOW_RETRY = 2.0  # after the store could not be read (a restart, the network)


def follow_store(post: Post, is_cancelled: Callable[[], bool], store, last_id: int, feed=None,
                 committed: Callable[[], object] | None = None) -> None:
    """Poll rows with id > the last seen, a few times a second, into the UI.

    Writers commit in id order (console.store.writers), so nothing committed is skipped.
    The rows go the same way as tailed ones: RecordsArrived, and the analytics feed.
    When the store cannot be read (the server restarting, the network, every connection
    dropped) the poll is retried every FOLLOW_RETRY (console.store.retry), from the same
    last id, so nothing is skipped or shown twice; the header says so while it lasts. An
    error retrying cannot fix (the requests table dropped) stops with IngestFailed.
    """
    policy = RetryPolicy(first_s=FOLLOW_RETRY, most_s=FOLLOW_RETRY)
    pending: list[RequestRecord] = []
    last_post = 0.0
    while not is_cancelled():
        try:
            rows = retry_store(
                lambda: store.rows_after(last_id, FOLLOW_BATCH, with_text=False),  # counts and figures only
                policy,
                where=store.display_url,
                on_trouble=lambda reason: post(StoreTrouble(reason)),
                should_stop=is_cancelled,
                doing="read",
            )
        except StoreError as exc:
            post(IngestFailed(str(exc)))
            return
        if rows is None:  # cancelled while the store could not be read
            return
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
            sleep_unless_stopped(FOLLOW_INTERVAL, is_cancelled)
