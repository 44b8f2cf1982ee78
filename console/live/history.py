"""Seeding the live console's analytics window from the store, in stages on a big store, so
the panes show figures within a second or two whatever the store's size."""

from __future__ import annotations

import threading

from console.live.analytics_feed import AnalyticsFeed
from console.live.events import HistoryProgress

FIRST_STAGE_ROWS = 30_000  # at most this many (the newest) before the first report: well under 1 s to load
STORE_REPORT_WAIT = 10.0  # seconds the load of memory's rows waits for the feed's first report from the store


class _Stopped(Exception):
    pass


def seed_history(feed: AnalyticsFeed, store, until_id: int | None = None, post=None, is_cancelled=None):
    """Hand the feed the store (windows beyond what memory holds are read from it), anchor
    its clock at the newest record when that is older than the window (feed.clock), and
    load the rows memory holds, from a store with column blocks at once (a million rows load
    in about half a second), otherwise in stages, so the panes show figures within a second
    or two whatever the store's size:

    1. the newest rows the current window and the budgets' burn windows need (at most
       FIRST_STAGE_ROWS), seeded at once, with the budgets' spend before them from SQL and
       the older rows' first appearances (no false "new version") — a partial report;
    2. the rest (the whole store, at most feed.max_rows rows, the newest) read in a
       background thread, which posts HistoryProgress as it goes, then joined in front of
       the window: the report is then exactly build_report over those rows.

    Returns the history thread (None when one stage held everything)."""
    from console.analytics.budget import budget_baselines
    from console.analytics.report import rows_needed_since
    from console.analytics.windows import WINDOWS

    from console.store.window_report import needs_rollups

    feed.clock.anchor_if_stale(store.newest_ts(1), WINDOWS[feed.window])
    feed.attach_store(store)
    now = feed.clock.now()
    if needs_rollups(store, now, feed.window, feed.settings, feed.exact_max_rows):
        # the window's figures come from the store's rollups: shown first, then the rows load
        feed.store_report_posted.wait(STORE_REPORT_WAIT)
    if until_id is None:
        until_id = store.max_id()  # rows tailed from here on reach the feed as they come
    since = store.newest_ts(feed.max_rows)  # memory's bound (None: the whole store fits)
    stage = rows_needed_since(now, feed.window, feed.settings)
    if since is not None:
        stage = since if stage is None else max(since, stage)
    newest = store.newest_ts(FIRST_STAGE_ROWS, stage)
    if newest is not None:
        stage = newest if stage is None else max(stage, newest)
    spend, budgets = store.spend_nano_between, feed.settings.budgets
    # with column blocks the whole history loads about as fast as the first stage's SQL
    # sums over the older rows: one stage, exact figures at once
    if stage is None or (since is not None and stage <= since) or post is None or store.has_column_blocks():
        feed.seed(store.load_columns(since, until_id=until_id), {}, budget_baselines(spend, budgets, now, since),
                  held_since=since)
        return None
    # SQLite does the older rows' sums in C with the GIL released: beside the load, each
    # in a thread of its own (a thread that failed is redone here, so its error surfaces)
    older_sums = {
        "first_seen": lambda: store.first_seen_between(since, stage, until_id),
        "baselines": lambda: budget_baselines(spend, budgets, now, stage),
    }
    done: dict = {}
    summing = [
        threading.Thread(target=lambda k=key, f=sum_of: done.__setitem__(k, f()), name=f"history-{key}", daemon=True)
        for key, sum_of in older_sums.items()
    ]
    for thread in summing:
        thread.start()
    columns = store.load_columns(stage, until_id=until_id)
    for thread in summing:
        thread.join()
    for key, sum_of in older_sums.items():
        if key not in done:
            done[key] = sum_of()
    columns.fold_first_seen(*done["first_seen"])
    feed.seed(columns, {}, done["baselines"], partial=True, held_since=stage)
    total = store.count_between(since, stage)
    post(HistoryProgress(0, total))
    filling = threading.Thread(
        target=_fill_history,
        args=(feed, store, post, is_cancelled, now, since, stage, until_id, total, len(columns)),
        name="history", daemon=True,
    )
    filling.start()
    return filling


def _fill_history(feed, store, post, is_cancelled, now: float, since: float | None, stage: float, until_id: int,
                  total: int, seeded: int) -> None:
    """Stage 2 of seed_history: the older rows, with progress, then handed to the feed (with room
    for the seeded rows and those arriving meanwhile: joining them copies nothing twice)."""
    from console.analytics.budget import budget_baselines

    def progress(loaded: int) -> None:
        if is_cancelled is not None and is_cancelled():
            raise _Stopped
        post(HistoryProgress(loaded, total))

    try:
        spare = seeded + max(seeded, total) // 8
        older = store.load_columns(since, until_id=until_id, before_ts=stage, progress=progress, spare=spare)
        baselines = budget_baselines(store.spend_nano_between, feed.settings.budgets, now, since)
    except _Stopped:
        return
    except Exception as exc:  # the figures stay partial; say why
        post(HistoryProgress(0, total, done=True, error=f"{type(exc).__name__}: {exc}"))
        return
    feed.complete_history(older, baselines, held_since=since)
    post(HistoryProgress(len(older), total, done=True))
