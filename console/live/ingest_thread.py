"""The ingest thread of the live console: opens the store, seeds the analytics window, says
what the store holds, then tails the sources into it (console.live.tail) or, with no
sources, follows the store as other writers fill it (console.live.store_follow).

It owns all file and database I/O of the live view; the UI thread only receives events
(console.live.events), batches coalesced to at most one per POST_INTERVAL. The requests
view's pager hears of each commit at once (`committed`), not through the UI thread: new
rows reach the table without waiting for the coalescing or a hop on the event loop.
"""

from __future__ import annotations

from typing import Callable

from console.analytics.prices import Pricer
from console.live.analytics_feed import AnalyticsFeed
from console.live.events import HistoryLoaded, IngestFailed, Post
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
    otlp_inbox: OtlpInbox | None = None,
) -> None:
    """With a pricer, records without cost_usd are priced before they are stored.

    With a feed, the analytics window is seeded from the store before tailing starts,
    then receives every record the store accepted as new (never a duplicate).
    source_format: "auto" (each file by its content), "jsonl" or "otlp"; otlp_options: which
    span attributes name the prompt, user, session, environment (llmops.toml's [otel]).
    otlp_inbox: spans received over OTLP/HTTP (console.live.otlp_receiver), written with
    the files' lines (with it and no files, the store is not followed).
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
        tailing = bool(sources) or otlp_inbox is not None
        last_id = None if tailing else store.max_id()  # following: history up to here, then the rest
        if feed is not None:  # first: the panes' first figures are what the user waits for
            filling = seed_history(feed, store, last_id, post, is_cancelled)
        post(
            HistoryLoaded(
                store.count(until_id=last_id),
                store.rejected_lines(500),
                store.rejected_count(),
            )
        )
        if tailing:
            follow_tail(post, is_cancelled, store, sources, pricer, feed, source_format, committed, otlp_options,
                        otlp_inbox)
        else:
            follow_store(post, is_cancelled, store, last_id or 0, feed, committed)
    except Exception as exc:  # the UI must hear why the feed stopped
        post(IngestFailed(f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        if filling is not None:
            filling.join(FILL_JOIN)  # it stops at its next chunk once cancelled
        store.close()
