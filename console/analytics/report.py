"""`build_report`: every monitoring figure, from one function.

The budget, latency and versions panes draw a Report, and `llmops-console report --json`
prints one (msgspec-encoded), so a number on screen and the same number in a script can
never disagree. Pure: no I/O, no clock (the caller passes `now`).

    report = build_report(cols, now=time.time(), window_name="1h", settings=settings)

The live console keeps the expensive part (the window's sorted latencies and counters) up
to date as rows arrive and passes it in as `aggregates` (console/analytics/live.py); the
figures are the same as a fresh build's, to the last bit (tests/test_analytics.py).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from console.analytics.after_now import after_now_of
from console.analytics.aggregates import WindowAggregates
from console.analytics.alerts import error_spike_alert, model_error_alerts, slo_alerts
from console.analytics.budget import budget_section, is_time_sorted, longest_burn_window
from console.analytics.columns import Columns
from console.analytics.latency import latency_section
from console.analytics.quantiles import SortedGroups
from console.analytics.report_types import AfterNow, Figures, Report, Window
from console.analytics.rollup_report import RollupPart, merged_aggregates
from console.analytics.sketch import RELATIVE_ACCURACY
from console.analytics.spend import spend_section
from console.analytics.versions import change_points, version_rows
from console.analytics.windows import bucket_seconds, check_window, window_mask, window_seconds, window_start
from console.config import Settings
from console.formatting import rfc3339


def window_first(cols: Columns, now: float, window_name: str) -> float | None:
    """Where the window's time axis starts: its start, or for "all" the oldest row up to now."""
    start = window_start(now, window_name)
    if start is not None:
        return start
    ts = cols.ts
    present = ts[ts <= now]
    return float(present.min()) if len(present) else None


def window_bucket_seconds(window_name: str, first: float | None, now: float) -> int:
    """The p95 sparkline's bucket for a window (<= ~120 points)."""
    span = window_seconds(window_name)
    if span is None:
        span = now - first if first is not None else 0.0
    return bucket_seconds(span)


def rows_needed_since(now: float, window_name: str, settings: Settings) -> float | None:
    """The oldest row build_report needs in cols when the budgets' spend before it comes as a
    baseline: the window's start, or the longest burn window's if older (None: every row)."""
    start = window_start(now, window_name)
    if start is None:
        return None
    longest = longest_burn_window(settings.budgets, settings.burn)
    return start if longest is None else min(start, now - longest)


def build_aggregates(
    cols: Columns, now: float, window_name: str, rollups: RollupPart | None = None, first: float | None = None
) -> WindowAggregates:
    """The window's aggregates from scratch (one vectorised pass), merged with the rollup
    cells of the window's older part when given."""
    if first is None:
        first = window_first(cols, now, window_name)
    rows = contiguous(np.flatnonzero(window_mask(cols, now, window_name)))
    bucket = window_bucket_seconds(window_name, first, now)
    if rollups is None:
        return WindowAggregates.build(cols, rows, bucket)
    return merged_aggregates(cols, rows, bucket, rollups)


def contiguous(rows: np.ndarray) -> np.ndarray | slice:
    """rows as a slice when they are one run (a time-sorted window's rows): the aggregates then
    read views of the columns instead of copying a dozen of them (~100 bytes a row held at
    once over millions of rows read from the store). The same values either way."""
    if len(rows) and int(rows[-1]) - int(rows[0]) + 1 == len(rows):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def _first_with(first: float | None, rollups: RollupPart | None) -> float | None:
    older = None if rollups is None else rollups.first_ts
    if older is None:
        return first
    return older if first is None else min(first, older)


def _held_from(rollups: RollupPart | None) -> float | None:
    """Where the rows (and the exact tail's cells) start when the older requests are in rollup
    cells only; None without rollups (the rows are every request)."""
    if rollups is None:
        return None
    tail = rollups.tail
    if tail is not None and len(tail.cells):
        return min(rollups.exact_since, float(tail.cells.min_ts.min()))
    return rollups.exact_since


def _figures(rollups: RollupPart | None, aggregates: WindowAggregates) -> Figures:
    if rollups is None:
        return Figures()
    sketched = not isinstance(aggregates.latency, SortedGroups)
    return Figures(
        source="rollups", exact_since=rfc3339(rollups.exact_since), percentiles="sketch" if sketched else "exact",
        relative_error=RELATIVE_ACCURACY if sketched else None,
    )


def build_report(
    cols: Columns,
    now: float,
    window_name: str,
    settings: Settings,
    baseline_spend: Mapping[str, float] | None = None,
    *,
    aggregates: WindowAggregates | None = None,
    baseline_nano: Mapping[str, int] | None = None,
    rollups: RollupPart | None = None,
    after_now: AfterNow | None = None,
) -> Report:
    """Every figure for the window ending at `now` (epoch seconds, UTC).

    baseline_spend: per budget name, the USD spent in the budget's current period before
    the first row of `cols` (when only recent rows are loaded); missing names count 0.
    baseline_nano: the same in integer nano-dollars (exact: see budget_section).
    aggregates: the window's aggregates when the caller keeps them (LiveWindow); built here
    otherwise.
    rollups: the window's part before rollups.exact_since as rollup cells, cols holding the
    rows from exact_since on (console/analytics/rollup_report.py); Report.figures says so.
    after_now: the requests stamped after `now` as the store counts them (report_from_store);
    else counted in cols, which then hold every row after now (console/analytics/after_now.py).
    """
    check_window(window_name)
    start = window_start(now, window_name)
    first = window_first(cols, now, window_name)
    if start is None:
        first = _first_with(first, rollups)
    if aggregates is None:
        aggregates = build_aggregates(cols, now, window_name, rollups, first)
    time_sorted = is_time_sorted(cols.ts)
    tail = None if rollups is None else rollups.tail  # the exact tail's cells when it held too many rows
    budgets, budget_alerts = budget_section(
        cols, now, settings.budgets, settings.burn, baseline_spend, time_sorted, baseline_nano, tail
    )
    alerts = budget_alerts + slo_alerts(cols, aggregates, settings.slos, now, window_seconds(window_name), tail,
                                          window_name, _held_from(rollups))
    spike = error_spike_alert(cols, aggregates, now, time_sorted, tail)
    if spike is not None:
        alerts.append(spike)
    alerts += model_error_alerts(cols, aggregates, now, window_name, window_seconds(window_name), tail)
    alerts.sort(key=lambda alert: alert.severity != "page")  # pages first, order kept otherwise
    requests, errors = aggregates.requests, aggregates.errors
    return Report(
        window=Window(
            name=window_name,
            start=None if start is None else rfc3339(start),
            end=rfc3339(now),
            seconds=window_seconds(window_name),
        ),
        requests=requests,
        errors=errors,
        error_rate=errors / requests if requests else None,
        spend=spend_section(cols, aggregates, first, now),
        latency=latency_section(cols, aggregates, settings.slos, first, now),
        versions=version_rows(cols, aggregates, start, now),
        budgets=budgets,
        change_points=change_points(cols, now),
        alerts=alerts,
        figures=_figures(rollups, aggregates),
        after_now=after_now_of(cols.ts, now) if after_now is None else after_now,
    )
