"""One window's Report read from a store, the way `report` reads it and the live console's
panes do above what they hold in memory (console/live/analytics_feed.py): every row of the
window (and of the budgets' periods) up to exact_max_rows rows, else the rows of the exact
tail merged with the rollup cells (console/store/rollup_reads.py). One function, so the panes
and `report --since W --now T` give the same numbers."""

from __future__ import annotations

import math

from console.analytics.after_now import after_now
from console.analytics.alerts import SLO_ONSET_LOOKBACK
from console.analytics.budget import earliest_needed
from console.analytics.report import build_report
from console.analytics.report_types import AfterNow, Report
from console.analytics.windows import window_start
from console.config import Settings
from console.store.rollup_reads import load_merged, more_rows_than

# Above this many rows (the window's, or a budget period's if longer) the figures read the
# store's rollups for the older part instead of every row (console/analytics/rollup_report.py):
# loading 200,000 rows from column blocks takes ~0.2 s and ~60 MB here; counts and spend stay
# exact either way, percentiles are then within 1% (Report.figures says which).
EXACT_MAX_ROWS = 200_000
# The most rows of a merged report's exact tail (the last hours the burn windows, the SLO onset
# and the error spike look at) loaded one by one, and read at once when the rest of the tail is
# turned into cells (console/store/tail_reads.py): a report's memory no longer grows with the
# rate (bench/live.py held 5.4M tail rows, ~1.4 GB). ~200 bytes a row loaded: ~40 MB of columns
# plus their transients; at or under it nothing changes (every tail row is loaded, as before).
TAIL_MAX_ROWS = 200_000


def load_since(now: float, window: str, settings: Settings) -> float | None:
    """The oldest row the report needs: the window's start (with SLOs, the SLO onset's
    look-back before it) or a budget period's, if older.

    The rows of a whole budget period are loaded (not its older spend summed in SQL, as the
    console's seed does): category codes, and so the order of ties and of per-model tables,
    follow first appearance in the loaded rows, and `report` prints what it always printed."""
    start = window_start(now, window)
    if start is None:
        return None
    if settings.slos:  # an SLO alert's onset judges the same window ending at each minute of its look-back
        start -= SLO_ONSET_LOOKBACK
    budgets = earliest_needed(now, settings.budgets, settings.burn)
    return start if budgets is None else min(start, budgets)


def needs_rollups(store, now: float, window: str, settings: Settings, exact_max_rows: int) -> bool:
    """Whether the window (or a budget's period) holds more rows than the exact path loads."""
    return more_rows_than(store, load_since(now, window, settings), exact_max_rows)


def stored_after(store, now: float) -> AfterNow:
    """The requests stamped after `now` (ts > now) and the newest of them, counted on the ts
    index: the same answer for the rows path and the rollups path, in no figure of either."""
    newest = store.newest_ts(1)
    if newest is None or newest <= now:
        return AfterNow()
    return after_now(store.count_between(math.nextafter(now, math.inf)), newest, now)


def report_from_store(
    store, now: float, window: str, settings: Settings, exact_max_rows: int = EXACT_MAX_ROWS, processes: int = 1,
    tail_max_rows: int | None = None,
) -> Report:
    """The Report of `window` ending at `now` from the store's rows, or its rows and rollups
    (the exact tail's rows, at most tail_max_rows of them (None: TAIL_MAX_ROWS), the rest as cells)."""
    since = load_since(now, window, settings)
    if more_rows_than(store, since, exact_max_rows):
        cols, part, baselines = load_merged(
            store, now, window, settings, processes=processes, tail_max_rows=max(TAIL_MAX_ROWS if tail_max_rows is None else tail_max_rows, 1)
        )
        return build_report(
            cols, now, window, settings, baseline_nano=baselines, rollups=part, after_now=stored_after(store, now)
        )
    cols = store.load_columns(since, processes=processes)
    if since is not None:
        # first appearances older than the rows loaded: no version called new for want of them
        cols.fold_first_seen(*store.first_seen_between(None, since))
    return build_report(cols, now, window, settings, after_now=stored_after(store, now))
