"""The alerts `check` exits 1 on and the panes colour: SLO breaches and error-rate spikes.

(Budget burn alerts come from console/analytics/budget.py.) Every alert carries its rule, the
numbers that fire it against their thresholds, since when it fires
(console.analytics.alert_onset) and where to look; `explain_alert` is the one text of it
that `check` prints and the alerts screen shows.

- SLO breach: the SLO's percentile over the window is above its ceiling: warn, or page when
  it is more than twice the ceiling. Judged overall (SLOs without a model) and per model.
- Error-rate spike: over the last 5 minutes the error rate is more than 3x the window's and
  there are at least 10 errors (a handful of errors on little traffic is not a spike): warn.
- A model failing: over the window, a model failed 5% or more of its calls (the Latency pane's
  '!' mark, console/ui/formatting.py HIGH_ERROR_RATE) and at least 10 of them: warn; page from
  25% (one call in four: its users see it whatever their retries). Judged against nothing but
  the threshold, so a model failing steadily alerts (the spike rule compares all traffic with
  its own past and stays quiet then); the minimum of errors keeps 1 failure of 2 calls quiet.
  Its figures are the Latency pane's (Percentiles.requests and .errors per model).

An alert's look at the requests carries the time its figure is over (`since:1h`, the spike's
`since:5m`; none for the window `all`: filters.window_filter), so it shows those requests.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from console.analytics.aggregates import WindowAggregates
from console.analytics.columns import Columns
from console.analytics.filters import window_filter
from console.analytics.latency import slo_breaches
from console.analytics.alert_onset import STEP, Onset, minute_ends, rolling_sums, sorted_rows, trailing_run
from console.analytics.report_types import Alert
from console.analytics.tail_cells import TailCells, grid_ends, grid_percentile_run, grid_sums, minute_of, row_keys
from console.config import Slo
from console.formatting import latency as format_latency, parse_rfc3339, rfc3339

SPIKE_SECONDS = 300.0
SPIKE_WINDOW = "5m"  # SPIKE_SECONDS as a filter's since: writes it
SPIKE_FACTOR = 3.0
SPIKE_MIN_ERRORS = 10
SLO_PAGE_FACTOR = 2.0
# an SLO's onset looks back this far (the minutes whose window, the alert's own, was over it)
SLO_ONSET_LOOKBACK = 3 * 3600.0
# the exact tail a merged report keeps for it (console/analytics/rollup_report.exact_tail_seconds):
# a 15m window's minutes looked back over fully, a 1h window's 2h15m, a longer window's less
SLO_ONSET_TAIL = SLO_ONSET_LOOKBACK + 900.0
SPIKE_ONSET_LOOKBACK = 3600.0
MODEL_ERROR_WARN = 0.05  # a model's error rate over the window: warn from here (the panes' '!')
MODEL_ERROR_PAGE = 0.25  # page from here
MODEL_ERROR_MIN_ERRORS = 10  # fewer failed calls never alert (1 of 2 is no outage)
MODEL_ERROR_ONSET_WIDTH = 900.0  # its onset: the minutes whose last 15 minutes failed >= MODEL_ERROR_WARN
MODEL_ERROR_ONSET_LOOKBACK = 3600.0
MODEL_ERROR_RULE = (f"warn when a model fails {MODEL_ERROR_WARN:.0%} or more of its calls over the window, "
                    f"with at least {MODEL_ERROR_MIN_ERRORS} errors; page from {MODEL_ERROR_PAGE:.0%}")
PANES = {"budget": "the Budget pane (2)", "latency": "the Latency pane (3)", "versions": "the Versions pane (4)"}


def seconds_text(value: float) -> str:
    """Latencies in alerts as the panes write them (12.30s beside 9.00s: README, "seconds
    everywhere"): an alert's '10.64 s' sat beside the incident summary's '10.59s'."""
    return format_latency(value)


def slo_alerts(
    cols: Columns, aggregates: WindowAggregates, slos: Sequence[Slo], now: float | None = None,
    window_seconds: float | None = None, tail: TailCells | None = None, window_name: str = "all",
    held_from: float | None = None,
) -> list[Alert]:
    """held_from: where the rows (and tail cells) start when older requests are in rollup
    cells only (None: the rows held are every request there is before now)."""
    alerts = []
    breaches = slo_breaches(aggregates.latency_by_model, cols.names("model"), slos, aggregates.latency.get(0))
    for subject, slo, value in breaches:
        severity = "page" if value > SLO_PAGE_FACTOR * slo.max_ms else "warn"
        model = None if subject == "all traffic" else subject
        onset = None if now is None else _slo_onset(cols, model, slo, now, window_seconds, tail, held_from)
        # in seconds, as the filter's help writes it (latency>2s), not the SLO's milliseconds
        over = f"latency>{slo.max_ms / 1000:g}s"
        # the window's requests, whose percentile breached: the look shows those (since:)
        look = window_filter(f"model:{model} {over}" if model else over, window_name)
        alerts.append(
            Alert(
                kind="slo",
                severity=severity,
                subject=subject,
                message=f"{subject}: p{slo.percentile:g} latency {seconds_text(value)} is over the SLO of {seconds_text(slo.max_ms)}",
                rule=(f"warn when p{slo.percentile:g} over the window is above the SLO of {seconds_text(slo.max_ms)}; "
                      f"page above {SLO_PAGE_FACTOR:g}x it ({seconds_text(SLO_PAGE_FACTOR * slo.max_ms)})"),
                figures=[f"p{slo.percentile:g} {seconds_text(value)} vs SLO {seconds_text(slo.max_ms)} "
                         f"({value / slo.max_ms:.1f}x)"],
                since=rfc3339(onset.since, timespec="seconds") if onset else None,
                since_capped=bool(onset and onset.capped),
                target=f"filter:{look}",
            )
        )
    return alerts


def _slo_onset(cols: Columns, model: str | None, slo: Slo, now: float, window_seconds: float | None,
               tail: TailCells | None = None, held_from: float | None = None):
    """The first minute of the current run whose percentile over the alert's own window (the
    one that fires it now, and the one the backtest judges at every minute) was over the SLO.
    The minutes looked at are those whose whole window the report holds (from held_from; the
    rows path holds the look-back: console/store/window_report.load_since): a run reaching the
    first of them is "before" it (capped). Over a bounded tail: on the minute grid, from
    sketches (console.analytics.tail_cells)."""
    code = None if model is None else cols.categories["model"].codes.get(model)
    keep = cols.ts <= now
    if model is not None:
        keep &= cols.model == code if code is not None else False
    if window_seconds is None:  # "all": every request before each minute, held only without rollups
        lookback = SLO_ONSET_LOOKBACK if held_from is None else 0.0
    else:
        lookback = SLO_ONSET_LOOKBACK if held_from is None else min(SLO_ONSET_LOOKBACK, now - window_seconds - held_from)
        keep &= cols.ts >= now - lookback - window_seconds
    lookback = max(lookback, 0.0) // STEP * STEP
    if not lookback:  # no earlier minute's whole window is held: it fires now, since a moment not known
        return Onset(now, True)
    rows = sorted_rows(cols.ts, keep)
    if tail is not None:
        return _slo_onset_on_grid(cols, rows, code if model is not None else None, model is not None, slo, now,
                                  lookback, window_seconds, tail)  # fmt: skip
    latency = cols.latency_ms[rows]
    fine = latency == latency
    return percentile_run(cols.ts[rows][fine], latency[fine], minute_ends(now, lookback), window_seconds,
                          slo.percentile, slo.max_ms)  # fmt: skip


def percentile_run(ts: np.ndarray, values: np.ndarray, ends: np.ndarray, width: float | None, percentile: float,
                   limit: float) -> Onset | None:  # fmt: skip
    """trailing_run(ends, [percentile of values in [end - width, end] > limit for each end])
    (every value up to end: width None), ts ascending, exactly as percentile_over judges each
    window, evaluated from the last end back. Whether the two order statistics around the
    rank are over the limit is a count of the window's values over it; only a window whose
    rank falls between a value under and one over is interpolated (percentile_over)."""
    if not len(ends):
        return None
    hi = np.searchsorted(ts, ends, "right")
    lo = np.zeros(len(ends), np.int64) if width is None else np.searchsorted(ts, ends - width, "left")
    counts = hi - lo
    above_limit = np.concatenate([[0], np.cumsum(values > limit)])
    over = above_limit[hi] - above_limit[lo]
    rank = np.maximum(counts - 1, 0) * (percentile / 100.0)
    below = np.minimum(np.floor(rank).astype(np.int64), np.maximum(counts - 1, 0))
    above = np.minimum(below + 1, np.maximum(counts - 1, 0))
    first_over = counts - over  # the order statistics from here on are over the limit
    for index in range(len(ends) - 1, -1, -1):
        if counts[index] == 0 or above[index] < first_over[index]:
            fires = False
        elif below[index] >= first_over[index]:
            fires = True
        else:
            fires = percentile_over(values[lo[index] : hi[index]], percentile, limit)
        if not fires:
            return None if index == len(ends) - 1 else Onset(float(ends[index + 1]), False)
    return Onset(float(ends[0]), True)


def _slo_onset_on_grid(cols: Columns, rows: np.ndarray, code: int | None, by_model: bool, slo: Slo, now: float,
                       lookback: float, width: float, tail: TailCells):  # fmt: skip
    cells = tail.cells
    minute, keys, counts = row_keys(cols.ts[rows], cols.latency_ms[rows])
    entries = cells.sketches["latency_ms"]
    if by_model:
        names = cells.names["model"]
        wanted = names.index(cols.names("model")[code]) if code is not None and cols.names("model")[code] in names else -1
        entries_kept = cells.codes["model"][entries.groups] == wanted
    else:
        entries_kept = np.ones(len(entries.groups), bool)
    cell_minutes = cells.bucket[entries.groups[entries_kept]]
    minute = np.concatenate([cell_minutes, minute])
    keys = np.concatenate([entries.keys[entries_kept], keys])
    counts = np.concatenate([entries.counts[entries_kept], counts])
    ends, grid = grid_ends(now, lookback)
    over = grid_percentile_run(minute, keys, counts, grid, width, slo.percentile, slo.max_ms)
    return trailing_run(ends, over)


def percentile_over(values: np.ndarray, percentile: float, limit: float) -> bool:
    """float(np.percentile(values, percentile)) > limit for NaN-free, non-empty values, with
    numpy's own arithmetic (its default "linear" method: the two order statistics around rank
    (n - 1) * q, interpolated as numpy's _lerp does) but without np.percentile, which costs a
    call's overhead per minute looked at and imports numpy.ma (13 ms) on its first call."""
    last = len(values) - 1
    rank = last * (percentile / 100.0)
    below = min(math.floor(rank), last)
    above = min(below + 1, last)
    low, high = np.partition(values, [below, above])[[below, above]].tolist()
    gamma = rank - below
    diff = high - low
    value = high - diff * (1 - gamma) if gamma >= 0.5 else low + diff * gamma
    return value > limit


def recent_errors(
    cols: Columns, now: float, seconds: float, time_sorted: bool, tail: TailCells | None = None
) -> tuple[int, int]:
    """(requests, errors) with ts in [now - seconds, now] (a bounded tail's cells: those whose
    first row is in it; no cell straddles now - SPIKE_SECONDS)."""
    ts = cols.ts
    if time_sorted:
        rows: slice | np.ndarray = slice(
            int(np.searchsorted(ts, now - seconds, "left")), int(np.searchsorted(ts, now, "right"))
        )
        errors = cols.is_error[rows]
    else:
        errors = cols.is_error[(ts >= now - seconds) & (ts <= now)]
    requests, failed = len(errors), int(errors.sum())
    if tail is not None:
        cells = tail.cells
        recent = (cells.min_ts >= now - seconds) & (cells.min_ts <= now)
        counted = cells.sums["requests"][recent]
        requests += int(counted.sum())
        failed += int((counted * cells.codes["is_error"][recent]).sum())
    return requests, failed


def error_spike_alert(
    cols: Columns, aggregates: WindowAggregates, now: float, time_sorted: bool, tail: TailCells | None = None
) -> Alert | None:
    """The spike's look is the last 5 minutes' errors, the figure it fires on."""
    if not aggregates.requests:
        return None
    requests, errors = recent_errors(cols, now, SPIKE_SECONDS, time_sorted, tail)
    if errors < SPIKE_MIN_ERRORS:
        return None
    window_rate = aggregates.errors / aggregates.requests  # > 0: the last 5m are in the window
    recent_rate = errors / requests
    if recent_rate <= SPIKE_FACTOR * window_rate:
        return None
    onset = _spike_onset(cols, now, window_rate) if tail is None else _spike_onset_on_grid(cols, now, window_rate, tail)
    return Alert(
        kind="error_rate",
        severity="warn",
        subject="all traffic",
        message=(
            f"error rate {recent_rate:.1%} over the last 5m ({errors} of {requests} requests) "
            f"is {recent_rate / window_rate:.1f}x the window's {window_rate:.1%}"
        ),
        rule=(f"warn when the error rate over the last 5m is above {SPIKE_FACTOR:g}x the window's, "
              f"with at least {SPIKE_MIN_ERRORS} errors"),
        figures=[f"error rate 5m {recent_rate:.1%} ({errors:,} of {requests:,}) vs baseline {window_rate:.1%} "
                 f"over the window ({recent_rate / window_rate:.1f}x > {SPIKE_FACTOR:g}x)"],
        since=rfc3339(onset.since, timespec="seconds") if onset else None,
        since_capped=bool(onset and onset.capped),
        target=f"filter:{window_filter('status:error', SPIKE_WINDOW)}",
    )


def _spike_onset(cols: Columns, now: float, window_rate: float):
    keep = (cols.ts >= now - SPIKE_ONSET_LOOKBACK - SPIKE_SECONDS) & (cols.ts <= now)
    rows = sorted_rows(cols.ts, keep)
    ts, errors = cols.ts[rows], cols.is_error[rows].astype(np.float64)
    ends = minute_ends(now, SPIKE_ONSET_LOOKBACK)
    counts = rolling_sums(ts, np.ones(len(ts)), ends, SPIKE_SECONDS)
    failed = rolling_sums(ts, errors, ends, SPIKE_SECONDS)
    with np.errstate(invalid="ignore", divide="ignore"):
        over = (failed >= SPIKE_MIN_ERRORS) & (failed / counts > SPIKE_FACTOR * window_rate)
    return trailing_run(ends, over)


def _spike_onset_on_grid(cols: Columns, now: float, window_rate: float, tail: TailCells):
    """_spike_onset on the minute grid (console.analytics.tail_cells): now's end fires (it does)."""
    keep = (cols.ts >= now - SPIKE_ONSET_LOOKBACK - SPIKE_SECONDS) & (cols.ts <= now)
    rows = sorted_rows(cols.ts, keep)
    cells = tail.cells
    order = np.argsort(cells.bucket, kind="stable")
    requests = cells.sums["requests"][order].astype(np.float64)
    minute = np.concatenate([cells.bucket[order], minute_of(cols.ts[rows])])
    counted = np.concatenate([requests, np.ones(len(rows))])
    errors = np.concatenate([requests * cells.codes["is_error"][order], cols.is_error[rows].astype(np.float64)])
    ends, grid = grid_ends(now, SPIKE_ONSET_LOOKBACK)
    counts = grid_sums(minute, counted, grid, SPIKE_SECONDS)
    failed = grid_sums(minute, errors, grid, SPIKE_SECONDS)
    with np.errstate(invalid="ignore", divide="ignore"):
        over = (failed >= SPIKE_MIN_ERRORS) & (failed / counts > SPIKE_FACTOR * window_rate)
    over[-1] = True
    return trailing_run(ends, over)


def model_error_alerts(
    cols: Columns, aggregates: WindowAggregates, now: float, window_name: str, window_seconds: float | None,
    tail: TailCells | None = None,
) -> list[Alert]:
    """Each model failing MODEL_ERROR_WARN or more of its calls over the window (with at least
    MODEL_ERROR_MIN_ERRORS failures), worst first: the requests and errors the Latency pane
    shows for it (console.analytics.latency.latency_section's Percentiles)."""
    requests, errors = aggregates.models["requests"], aggregates.models["errors"]
    names = cols.names("model")
    failing = []
    for code in range(min(len(requests), len(errors), len(names))):
        calls, failed = int(requests[code]), int(errors[code])
        if calls > 0 and failed >= MODEL_ERROR_MIN_ERRORS and failed / calls >= MODEL_ERROR_WARN:
            failing.append((failed / calls, code, calls, failed))
    failing.sort(key=lambda found: (-found[0], found[1]))
    over = "the whole window (all)" if window_seconds is None else f"the last {window_name}"
    alerts = []
    for rate, code, calls, failed in failing:
        model = names[code]
        severity = "page" if rate >= MODEL_ERROR_PAGE else "warn"
        onset = _model_error_onset(cols, code, now, window_seconds, tail)
        alerts.append(Alert(
            kind="error_rate", severity=severity, subject=model,
            message=f"{model} fails {rate:.1%} of its calls: {failed:,} of {calls:,} failed over {over}",
            rule=MODEL_ERROR_RULE,
            figures=[f"{model} error rate {rate:.1%} ({failed:,} of {calls:,}) over {window_name} vs "
                     f"{MODEL_ERROR_WARN:.0%} (warn) / {MODEL_ERROR_PAGE:.0%} (page)"],
            since=rfc3339(onset.since, timespec="seconds") if onset else None,
            since_capped=bool(onset and onset.capped),
            target=f"filter:{window_filter(f'model:{model} status:error', window_name)}",
        ))  # fmt: skip
    return alerts


def _model_error_onset(cols: Columns, code: int, now: float, window_seconds: float | None, tail: TailCells | None):
    """The first minute of the current run whose last 15 minutes of the model's calls failed
    MODEL_ERROR_WARN or more (the minimum of errors is the window's: this dates the failure).
    Those 15 minutes stay inside the window, whose rows every path holds (the exact one no
    earlier ones): a model failing for a whole 15m window fires "before" now."""
    lookback = MODEL_ERROR_ONSET_LOOKBACK
    if window_seconds is not None:
        lookback = max(min(lookback, window_seconds - MODEL_ERROR_ONSET_WIDTH), 0.0)
    keep = (cols.ts >= now - lookback - MODEL_ERROR_ONSET_WIDTH) & (cols.ts <= now) & (cols.model == code)
    rows = sorted_rows(cols.ts, keep)
    failed_rows = cols.is_error[rows].astype(np.float64)
    if tail is None:
        ts = cols.ts[rows]
        ends = minute_ends(now, lookback)
        calls = rolling_sums(ts, np.ones(len(ts)), ends, MODEL_ERROR_ONSET_WIDTH)
        failed = rolling_sums(ts, failed_rows, ends, MODEL_ERROR_ONSET_WIDTH)
    else:  # on the minute grid (console.analytics.tail_cells), the tail's cells of this model first
        cells = tail.cells
        model = cols.names("model")[code]
        wanted = cells.names["model"].index(model) if model in cells.names["model"] else -1
        mine = np.flatnonzero(cells.codes["model"] == wanted)
        mine = mine[np.argsort(cells.bucket[mine], kind="stable")]
        counted = cells.sums["requests"][mine].astype(np.float64)
        minute = np.concatenate([cells.bucket[mine], minute_of(cols.ts[rows])])
        ends, grid = grid_ends(now, lookback)
        calls = grid_sums(minute, np.concatenate([counted, np.ones(len(rows))]), grid, MODEL_ERROR_ONSET_WIDTH)
        failed = grid_sums(minute, np.concatenate([counted * cells.codes["is_error"][mine], failed_rows]), grid,
                           MODEL_ERROR_ONSET_WIDTH)  # fmt: skip
    with np.errstate(invalid="ignore", divide="ignore"):
        over = (calls > 0) & (failed / calls >= MODEL_ERROR_WARN)
    return trailing_run(ends, over)


def _ago(seconds: float) -> str:
    minutes = max(seconds, 0) / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h" if minutes < 48 * 60 else f"{minutes / 1440:.1f} days"


def look_text(target: str) -> str:
    if target.startswith("filter:"):
        return f"the requests filtered by '{target[len('filter:'):]}'"
    return PANES.get(target, target or "the dashboard")


def explain_alert(alert: Alert, now: float | None = None) -> list[str]:
    """The alert in words, one line each: what fires, the rule, the numbers against their
    thresholds, since when, where to look. `check` prints it; the alerts screen shows it."""
    lines = [f"{alert.severity.upper():<5} {alert.kind:<10} {alert.message}"]
    if alert.rule:
        lines.append(f"  rule:   {alert.rule}")
    if alert.figures:
        lines.append("  now:    " + " · ".join(alert.figures))
    if alert.since:
        since = alert.since.replace("T", " ").replace("Z", " UTC")
        ago = f" ({_ago(now - parse_rfc3339(alert.since))} ago)" if now is not None else ""
        lines.append(f"  since:  {'before ' if alert.since_capped else ''}{since}{ago}")
    else:
        lines.append("  since:  this report (no earlier minute fired)")
    lines.append(f"  look:   {look_text(alert.target)}")
    return lines
