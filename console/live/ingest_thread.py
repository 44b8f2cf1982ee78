"""The ingest thread of the live console: opens the store, seeds the analytics window, says
what the store holds, then tails the sources into it (console.live.tail) or, with no
sources, follows the store as other writers fill it (console.live.store_follow).

It owns all file and database I/O of the live view; the UI thread only receives events
(console.live.events), batches coalesced to at most one per POST_INTERVAL. The requests
view's pager hears of each commit at once (`committed`), not through the UI thread: new
rows reach the table without waiting for the coalescing or a hop on the event loop.
"""

from __future__ import annotations

import threading
from typing import Callable

from console.analytics.prices import Pricer
from console.live.analytics_feed import AnalyticsFeed
from console.live.events import HistoryLoaded, IngestFailed, Post, RecordsArrived, StoreTrouble, StoreUpgraded
from console.live.history import seed_history
from console.live.store_follow import follow_store
from console.live.otlp_inbox import OtlpInbox
from console.live.tail import follow_tail
from console.sources.otlp import OtlpOptions

# The tail's SQLite page cache: the bulk-load 128 MiB would be a quarter of a console's
# memory after a few hundred thousand rows; the tail writes small batches at the end.
LIVE_WRITER_CACHE_MIB = 32
FILL_JOIN = 2.0  # seconds to wait at exit for the history thread to stop


def run_ingest(
    post: Post,
    is_cancelled: Callable[[], bool],
    sources: list[str],
    store_url: str,
    pricer: Pricer | None = None,
    feed: AnalyticsFeed | None = None,
    source_format: str = "auto",
    committed: Callable[[], object] | None = None,
    otlp_options: OtlpOptions | None = None,
    otlp_inbox: OtlpInbox | object | None = None,
) -> None:
    """With a pricer, records without cost_usd are priced before they are stored.

    With a feed, the analytics window is seeded from the store before tailing starts,
    then receives every record the store accepted as new (never a duplicate).
    source_format: "auto" (each file by its content), "jsonl" or "otlp"; otlp_options: which
    span attributes name the prompt, user, session, environment (llmops.toml's [otel]).
    otlp_inbox: spans received over OTLP/HTTP (console.live.otlp_receiver), written with
    the files' lines (with it and no files, the store is not followed). Any other object
    there (commands/receiver_process.py's ReceiverProcess, which `--otlp` starts) means the
    spans are received and written by another process: the store is followed for the rows,
    in a thread of its own beside the tail when there are files (the tail then only writes).
    With no sources, the store is followed instead: rows written by other consoles and
    ingesters (team mode) arrive as they are committed.
    committed() is called on this thread as soon as new rows are in the store.
    """
    from console.store import Store, StoreError

    noticed: list[str] = []

    def say_on_header(text: str) -> None:  # an upgrade of a large store: a minute, say why
        noticed.append(text)
        post(StoreTrouble(text))

    try:
        store = Store(store_url, writer_cache_mib=LIVE_WRITER_CACHE_MIB, notice=say_on_header)
    except StoreError as exc:
        post(IngestFailed(str(exc)))
        return
    if noticed:
        post(StoreTrouble(None))
        post(StoreUpgraded(_upgraded_text(store.upgraded_from)))
    filling = None  # the thread loading the older history (staged seed)
    received_elsewhere = otlp_inbox is not None and not isinstance(otlp_inbox, OtlpInbox)
    inbox = None if received_elsewhere else otlp_inbox
    following = None  # the store follow beside the tail (received_elsewhere with files)
    try:
        tailing = bool(sources) or inbox is not None
        following_too = tailing and received_elsewhere
        # following: history up to here, then the rest
        last_id = store.max_id() if not tailing or following_too else None
        if feed is not None:  # first: the panes' first figures are what the user waits for
            filling = seed_history(feed, store, last_id, post, is_cancelled)
        post(
            HistoryLoaded(
                store.count(until_id=last_id),
                store.rejected_lines(500),
                store.rejected_count(),
            )
        )
        if received_elsewhere:  # the receiver's process failing is said, not silent, and so is its store trouble
            otlp_inbox.on_stop(lambda reason: post(IngestFailed(reason)))
            otlp_inbox.on_state(post)  # ReceiverState: the child's reports
        if following_too:
            following = threading.Thread(target=_follow_beside, name="store-follow", daemon=True,
                                         args=(post, is_cancelled, store_url, last_id or 0, feed, committed))  # fmt: skip
            following.start()
        if tailing:
            if following_too:  # the follow shows every new row, the tail's too: the tail only writes
                follow_tail(_rows_left_out(post), is_cancelled, store, sources, pricer, None, source_format, None,
                            otlp_options)  # fmt: skip
            else:
                follow_tail(post, is_cancelled, store, sources, pricer, feed, source_format, committed, otlp_options,
                            inbox)
        else:
            follow_store(post, is_cancelled, store, last_id or 0, feed, committed)
    except Exception as exc:  # the UI must hear why the feed stopped
        post(IngestFailed(f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        if filling is not None:
            filling.join(FILL_JOIN)  # it stops at its next chunk once cancelled
        if following is not None:
            following.join(FILL_JOIN)
        store.close()


def _upgraded_text(upgraded_from: int | None) -> str:
    """What the user is told once the store's upgrade is over (upgraded_from None: another
    opener upgraded it while this one waited)."""
    from console.store.schema_facts import CURRENT_VERSION

    if upgraded_from is None:
        versions = f"to schema version {CURRENT_VERSION}"
    else:
        versions = f"from schema version {upgraded_from} to {CURRENT_VERSION}"
    return f"the store was upgraded {versions}; an older llmops-console no longer opens it"


def _rows_left_out(post: Post) -> Post:
    """The tail's events without its rows (the store follow shows them): its rejected lines
    and its files' states still go on."""

    def forward(event):
        if isinstance(event, RecordsArrived):
            event = RecordsArrived([], event.rejected, 0, event.sources, event.posted_at)
        return post(event)

    return forward


def _follow_beside(post: Post, is_cancelled: Callable[[], bool], store_url: str, last_id: int, feed, committed) -> None:
    """The store followed on a connection of its own, beside the tail that writes."""
    from console.store import Store, StoreError

    try:
        with Store(store_url) as store:
            follow_store(post, is_cancelled, store, last_id, feed, committed)
    except StoreError as exc:
        post(IngestFailed(str(exc)))
