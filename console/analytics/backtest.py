"""Backtest the alert rules: when each would have fired and cleared over a period, and how hard.

The rules are the ones `check` evaluates today (budget burn: console.analytics.budget; SLO
breach and error-rate spike: console.analytics.alerts), judged at every minute end of the
period as `check --now <that minute> --since <window>` judges them, but in one pass over
per-minute sums instead of one report per minute:

- `MinuteSeries` holds the period (and the look-back its windows need) a minute at a time:
  requests, errors, each budget's spend in its scope (integer nano-dollars, as every figure
  sums it) and each model's latency sketch (console.analytics.sketch). The store builds it
  from its rollup minute cells in one scan (console/store/minute_series.py, each model's
  requests and errors per minute included), for `check --backtest` and the replay's alert
  marks alike; `MinuteSeries.of_rows` builds it from rows (a test's).
- `evaluate` turns it into one `RuleTimeline` per rule: the rule's figure and severity at
  every minute end. Window sums are differences of prefix sums; a window's percentile comes
  from a running (minute x sketch bucket) count, a chunk of minutes at a time.
- `episodes` cuts each timeline into runs of minutes that fire: start, end (None: still
  firing at the period's end), the worst severity, the peak figure.

A budget has two rules, page and warn (each its threshold over a long and a short window);
its figure is the lower of the two windows' burn rates, so the peak says which threshold
would have kept it quiet. An SLO is one rule per subject (warn above the ceiling, page above
twice it), its figure the percentile in ms; the error-rate spike's figure is the last 5
minutes' error rate over the window's; a failing model's (one rule per model) its error rate
over the window, in %. `alerts_at` gives the alerts `check` would print at
one minute end (a budget pages when its page rule fires, else warns when its warn rule does).

Agreement with `check`: counts and spend are the same integers, except for a request logged
exactly on a minute's first second, which check counts in the window ending then and a
minute cell in the next minute. Percentiles are read from sketches, within 1% of the exact
figure (as `check` itself reads them over a large store). Burn windows that are not whole
minutes are rounded up to whole minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from console.analytics.aggregates import NANO, cost_nano
from console.analytics.alerts import (
    MODEL_ERROR_MIN_ERRORS, MODEL_ERROR_PAGE, MODEL_ERROR_RULE, MODEL_ERROR_WARN, SLO_PAGE_FACTOR, SPIKE_FACTOR, SPIKE_MIN_ERRORS,
    SPIKE_SECONDS, seconds_text,
)
from console.analytics.budget import budget_scope, burn_rules
from console.analytics.latency import slos_for
from console.analytics.rollup import RowArrays
from console.analytics.sketch import Entries, value_of
from console.analytics.windows import window_seconds
from console.config import Budget, BurnAlert, Settings, Slo, duration_seconds

MINUTE = 60
OK, WARN, PAGE = 0, 1, 2
SEVERITIES = {WARN: "warn", PAGE: "page"}
_CHUNK = 1024  # minutes of a percentile pass held as a dense (minute x bucket) table at once
_SCOPE_DIMS = {"model": "model", "prompt_id": "prompt_id", "user_id": "user", "environment": "environment"}


@dataclass
class MinuteSeries:
    """Per-minute sums; minute i covers [first + 60 i, first + 60 (i + 1))."""

    first: int  # a multiple of 60
    requests: np.ndarray  # int64, one entry per minute
    errors: np.ndarray
    spend: dict[str, np.ndarray] = field(default_factory=dict)  # budget name -> nano-dollars in its scope
    # model -> sketch entries whose groups are minute indexes (a (minute, key) pair may repeat)
    latency: dict[str, Entries] = field(default_factory=dict)
    # model -> (requests, errors) per minute, for the failing-model rule (none: it judges no model)
    model_calls: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def minutes(self) -> int:
        return len(self.requests)

    @classmethod
    def of_rows(cls, rows: RowArrays, budgets: Sequence[Budget], first: int, minutes: int) -> MinuteSeries:
        """The series of rows (ts in [first, first + 60 minutes); others are left out)."""
        minute = np.floor((np.asarray(rows.ts, np.float64) - first) / MINUTE).astype(np.int64)
        inside = (minute >= 0) & (minute < minutes)
        minute = minute[inside]

        def per_minute(weights: np.ndarray | None = None, keep: np.ndarray | None = None) -> np.ndarray:
            at = minute if keep is None else minute[keep]
            if weights is not None:
                weights = (weights if keep is None else weights[keep]).astype(np.float64)
            return np.rint(np.bincount(at, weights=weights, minlength=minutes)).astype(np.int64)

        priced, nano = cost_nano(np.asarray(rows.cost_usd, np.float64)[inside])
        spend = {}
        for budget in budgets:
            keep = priced.copy()
            for field_name, value in budget_scope(budget).items():
                dim = _SCOPE_DIMS[field_name]
                names = list(rows.names[dim])
                code = names.index(value) if value in names else -1
                keep &= np.asarray(rows.codes[dim])[inside] == code
            spend[budget.name] = per_minute(nano, keep)
        latency, calls = {}, {}
        models = np.asarray(rows.codes["model"])[inside]
        values = np.asarray(rows.latency_ms, np.float64)[inside]
        failed = np.asarray(rows.is_error)[inside]
        for code, name in enumerate(rows.names["model"]):
            mine = models == code
            if mine.any():
                latency[name] = Entries.of_values(minute[mine], values[mine])
                calls[name] = (per_minute(keep=mine), per_minute(failed, mine))
        return cls(first, per_minute(), per_minute(failed), spend, latency, calls)


@dataclass(frozen=True)
class Rule:
    """One rule a backtest judges: what fires, on what, by which figure."""

    kind: str  # "budget", "slo" or "error_rate"
    subject: str  # the budget's name, "all traffic" or a model
    name: str  # "page" / "warn" for a budget's two rules, "p95" for an SLO, "spike", "model"
    text: str  # the rule in words
    figure: str  # what `value` measures
    unit: str  # "x", "ms" or "%" (a fraction)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}:{self.name}"


@dataclass(frozen=True)
class RuleTimeline:
    rule: Rule
    ends: np.ndarray  # epoch seconds, the minute ends judged
    values: np.ndarray  # the figure at each end (NaN: nothing to measure)
    severity: np.ndarray  # int8: OK, WARN or PAGE


@dataclass(frozen=True)
class Episode:
    rule: Rule
    severity: str  # the worst reached
    start: float  # the first minute end that fired
    end: float | None  # the first minute end that no longer fired; None: still firing
    peak: float
    peak_at: float
    started_before: bool  # firing at the period's first minute: it may have started earlier

    @property
    def seconds(self) -> float | None:
        return None if self.end is None else self.end - self.start


def _minutes_of(seconds: float) -> int:
    return max(1, int(np.ceil(seconds / MINUTE - 1e-9)))


def _window_sums(prefix: np.ndarray, ends: np.ndarray, width: int | None) -> np.ndarray:
    """Sum over the `width` minutes before each end index (all minutes before it: None)."""
    if width is None:
        return prefix[ends] - prefix[0]
    return prefix[ends] - prefix[np.maximum(ends - width, 0)]


def _prefix(values: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(values, dtype=np.int64)])


def _period_seconds(ends: np.ndarray, period: str) -> np.ndarray:
    """The length of the UTC day or month each end falls in (console.analytics.budget.period_bounds)."""
    if period == "day":
        return np.full(len(ends), 86400.0)
    month = ends.astype("datetime64[s]").astype("datetime64[M]")
    return ((month + 1).astype("datetime64[s]") - month.astype("datetime64[s]")).astype(np.float64)


def _budget_timelines(series: MinuteSeries, ends_at: np.ndarray, index: np.ndarray, budget: Budget, settings: Settings):
    spend = series.spend.get(budget.name, np.zeros(series.minutes, np.int64))
    prefix = _prefix(spend)
    rate = budget.amount_usd / _period_seconds(ends_at, budget.period)  # USD per second
    page, warn = burn_rules(budget, settings.burn)

    def burn(window: str) -> np.ndarray:
        minutes = _minutes_of(duration_seconds(window))
        return _window_sums(prefix, index, minutes) / NANO / duration_seconds(window) / rate

    timelines = []
    for name, rule, level in (("page", page, PAGE), ("warn", warn, WARN)):
        lower = np.minimum(burn(rule.long), burn(rule.short))
        fires = lower > rule.threshold
        timelines.append(RuleTimeline(
            Rule("budget", budget.name, name, _burn_text(name, rule), f"burn over {rule.long} and {rule.short} (the lower)", "x"),
            ends_at, lower, np.where(fires, level, OK).astype(np.int8),
        ))  # fmt: skip
    return timelines


def _burn_text(name: str, rule: BurnAlert) -> str:
    return f"{name} when the burn rate is over {rule.threshold:g}x over both {rule.long} and {rule.short}"


def _spike_timeline(series: MinuteSeries, ends_at: np.ndarray, index: np.ndarray, window: int | None) -> RuleTimeline:
    requests, errors = _prefix(series.requests), _prefix(series.errors)
    recent = _minutes_of(SPIKE_SECONDS)
    window_requests = _window_sums(requests, index, window)
    window_errors = _window_sums(errors, index, window)
    recent_requests, recent_errors = _window_sums(requests, index, recent), _window_sums(errors, index, recent)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (recent_errors / recent_requests) / (window_errors / window_requests)
        fires = (window_requests > 0) & (recent_errors >= SPIKE_MIN_ERRORS) & (ratio > SPIKE_FACTOR)
    rule = Rule("error_rate", "all traffic", "spike",
                f"warn when the error rate over the last 5m is above {SPIKE_FACTOR:g}x the window's, "
                f"with at least {SPIKE_MIN_ERRORS} errors", "error rate 5m / the window's", "x")  # fmt: skip
    values = np.where(recent_errors > 0, ratio, np.where(recent_requests > 0, 0.0, np.nan))
    return RuleTimeline(rule, ends_at, values, np.where(fires, WARN, OK).astype(np.int8))


def _model_error_timelines(series: MinuteSeries, ends_at: np.ndarray, index: np.ndarray, width: int | None):
    """A failing model (console.analytics.alerts.model_error_alerts): its error rate over the window."""
    timelines = []
    for model in sorted(series.model_calls):
        requests, errors = series.model_calls[model]
        calls = _window_sums(_prefix(requests), index, width)
        failed = _window_sums(_prefix(errors), index, width)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(calls > 0, failed / calls, np.nan)
        counted = (calls > 0) & (failed >= MODEL_ERROR_MIN_ERRORS)
        severity = np.where(counted & (rate >= MODEL_ERROR_PAGE), PAGE, np.where(counted & (rate >= MODEL_ERROR_WARN), WARN, OK))
        rule = Rule("error_rate", model, "model", MODEL_ERROR_RULE, "error rate over the window", "%")
        timelines.append(RuleTimeline(rule, ends_at, rate, severity.astype(np.int8)))
    return timelines


class _Histograms:
    """Each model's latency counts per sketch bucket over a window ending at each minute
    end, a chunk of ends at a time (all traffic: their sum). The buckets are the keys seen in
    any model, so every table has the same columns."""

    def __init__(self, latency: Mapping[str, Entries]) -> None:
        parts = {model: part for model, part in latency.items() if len(part.groups)}
        self.values = np.zeros(0)
        self.runners: dict[str, _Running] = {}
        if not parts:
            return
        low = min(int(part.keys.min()) for part in parts.values())  # ZERO_KEY (0 ms) sorts below every real key
        present = np.zeros(max(int(part.keys.max()) for part in parts.values()) - low + 1, bool)
        for part in parts.values():
            present[part.keys - low] = True
        slot_of = np.cumsum(present) - 1  # the keys seen, numbered in order
        self.values = value_of(np.flatnonzero(present) + low)
        for model, part in parts.items():
            groups, slots, counts = part.groups, slot_of[part.keys - low], part.counts
            if len(groups) > 1 and not (groups[1:] >= groups[:-1]).all():
                order = np.argsort(groups, kind="stable")
                groups, slots, counts = groups[order], slots[order], counts[order]
            self.runners[model] = _Running(groups, slots, counts, len(self.values))

    def windows(self, ends: np.ndarray, width: int | None) -> dict[str, np.ndarray]:
        """model -> (len(ends), buckets) counts of the minutes [end - width, end) (all before
        end: None); ends ascending, and ascending from one call to the next."""
        first = int(ends[0]) if width is None else max(int(ends[0]) - width, 0)
        found = {}
        for model, runner in self.runners.items():
            table = runner.table(first, int(ends[-1]))
            window = table[ends - first]
            if width is not None:
                window = window - table[np.maximum(ends - width, 0) - first]
            found[model] = window
        return found


def percentile_of_counts(window: np.ndarray, values: np.ndarray, percentile: float) -> np.ndarray:
    """Per row of bucket counts, the percentile with numpy's linear method over the values the
    buckets stand for (console.analytics.quantiles.percentiles_of_sorted on a sketch); NaN for
    an empty row."""
    if not window.shape[1]:
        return np.full(len(window), np.nan)
    cdf = np.cumsum(window, axis=1)
    count = cdf[:, -1]
    virtual = (count - 1) * (percentile / 100.0)
    floor = np.floor(virtual)
    above = virtual >= count - 1
    low_rank = np.where(above, count - 1, floor)
    high_rank = np.where(above, count - 1, floor + 1)
    last = len(values) - 1
    low = values[np.minimum((cdf <= low_rank[:, None]).sum(axis=1), last)]
    high = values[np.minimum((cdf <= high_rank[:, None]).sum(axis=1), last)]
    gamma = virtual - floor
    diff = high - low
    result = np.where(gamma >= 0.5, high - diff * (1 - gamma), low + diff * gamma)
    return np.where(count > 0, result, np.nan)


class _Running:
    """Counts per sketch bucket of the minutes before each end index, asked for ranges of
    ends in ascending order: what lies before a range is kept as a running total, not summed
    again."""

    def __init__(self, groups: np.ndarray, slots: np.ndarray, counts: np.ndarray, width: int) -> None:
        self.groups, self.slots, self.counts, self.width = groups, slots, counts, width
        self.done = 0  # entries summed into base: those of the minutes before self.minute
        self.minute = 0
        self.base = np.zeros(width, np.int64)

    def table(self, low: int, high: int) -> np.ndarray:
        """Row r: the counts of every minute before end index low + r, for low..high."""
        if low > self.minute:
            stop = int(np.searchsorted(self.groups, low, "left"))
            self.base += np.bincount(self.slots[self.done : stop], weights=self.counts[self.done : stop],
                                     minlength=self.width).astype(np.int64)  # fmt: skip
            self.done, self.minute = stop, low
        stop = int(np.searchsorted(self.groups, high, "left"))
        at = (self.groups[self.done : stop] - low) * self.width + self.slots[self.done : stop]
        dense = np.bincount(at, weights=self.counts[self.done : stop], minlength=(high - low) * self.width)
        running = np.empty((high - low + 1, self.width), np.int64)
        running[0] = self.base
        np.cumsum(dense.reshape(high - low, self.width), axis=0, out=running[1:], dtype=np.int64)
        running[1:] += self.base
        return running


def _slo_timelines(series: MinuteSeries, ends_at: np.ndarray, index: np.ndarray, width: int | None, slos: Sequence[Slo]):
    judged: list[tuple[str, str | None, Slo]] = []
    if any(slo.model is None for slo in slos):
        judged += [("all traffic", None, slo) for slo in slos_for(None, slos)]
    for model in sorted(series.latency):
        judged += [(model, model, slo) for slo in slos_for(model, slos)]
    values = {i: np.full(len(index), np.nan) for i in range(len(judged))}
    histograms = _Histograms(series.latency)
    if histograms.runners and len(index):
        for start in range(0, len(index), _CHUNK):
            ends = index[start : start + _CHUNK]
            windows = histograms.windows(ends, width)
            for i, (_subject, model, slo) in enumerate(judged):
                window = sum(windows.values()) if model is None else windows.get(model)
                if window is not None:
                    values[i][start : start + len(ends)] = percentile_of_counts(window, histograms.values, slo.percentile)
    timelines = []
    for i, (subject, _model, slo) in enumerate(judged):
        severity = np.where(values[i] > SLO_PAGE_FACTOR * slo.max_ms, PAGE, np.where(values[i] > slo.max_ms, WARN, OK))
        rule = Rule(
            "slo", subject, f"p{slo.percentile:g}",
            f"warn when p{slo.percentile:g} over the window is above the SLO of {seconds_text(slo.max_ms)}; "
            f"page above {SLO_PAGE_FACTOR:g}x it ({seconds_text(SLO_PAGE_FACTOR * slo.max_ms)})",
            f"p{slo.percentile:g} latency", "ms",
        )  # fmt: skip
        timelines.append(RuleTimeline(rule, ends_at, values[i], severity.astype(np.int8)))
    return timelines


def lookback_seconds(settings: Settings, window_name: str) -> float | None:
    """How far before the period's first minute the series must start (None: from the store's
    first row, for the "all" window)."""
    window = window_seconds(window_name)
    if window is None:
        return None
    needed = [window, SPIKE_SECONDS]
    for budget in settings.budgets:
        for rule in burn_rules(budget, settings.burn):
            needed += [_minutes_of(duration_seconds(rule.long)) * MINUTE, _minutes_of(duration_seconds(rule.short)) * MINUTE]
    return float(max(needed))


def evaluate(series: MinuteSeries, settings: Settings, window_name: str, since: float, until: float) -> list[RuleTimeline]:
    """Every rule's timeline at the minute ends in [since, until] (rounded inwards to whole
    minutes), as `check --since window_name --now <minute end>` would judge them."""
    width_s = window_seconds(window_name)
    width = None if width_s is None else _minutes_of(width_s)
    first_end = int(np.ceil(since / MINUTE)) * MINUTE
    last_end = min(int(until // MINUTE) * MINUTE, series.first + series.minutes * MINUTE)
    ends_at = np.arange(first_end, last_end + 1, MINUTE, dtype=np.float64)
    index = ((ends_at - series.first) // MINUTE).astype(np.int64)
    keep = index >= 0
    ends_at, index = ends_at[keep], index[keep]
    timelines: list[RuleTimeline] = []
    for budget in settings.budgets:
        timelines += _budget_timelines(series, ends_at, index, budget, settings)
    timelines += _slo_timelines(series, ends_at, index, width, settings.slos)
    timelines.append(_spike_timeline(series, ends_at, index, width))
    timelines += _model_error_timelines(series, ends_at, index, width)
    return timelines


def episodes(timeline: RuleTimeline) -> list[Episode]:
    """The runs of minute ends that fire, in time order."""
    firing = timeline.severity > OK
    if not firing.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], firing.astype(np.int8), [0]])))
    found = []
    for start, stop in zip(edges[::2].tolist(), edges[1::2].tolist()):
        values = timeline.values[start:stop]
        peak_at = start + (int(np.nanargmax(values)) if np.isfinite(values).any() else 0)
        found.append(Episode(
            rule=timeline.rule, severity=SEVERITIES[int(timeline.severity[start:stop].max())],
            start=float(timeline.ends[start]), end=float(timeline.ends[stop]) if stop < len(firing) else None,
            peak=float(timeline.values[peak_at]), peak_at=float(timeline.ends[peak_at]), started_before=start == 0,
        ))  # fmt: skip
    return found


def backtest(series: MinuteSeries, settings: Settings, window_name: str, since: float, until: float) -> list[Episode]:
    """Every episode of every rule over [since, until], by start time."""
    found = [episode for timeline in evaluate(series, settings, window_name, since, until) for episode in episodes(timeline)]
    return sorted(found, key=lambda episode: (episode.start, episode.rule.key))


def alerts_at(timelines: Sequence[RuleTimeline], position: int) -> dict[tuple[str, str], tuple[str, float]]:
    """What `check` would report at the timelines' `position`-th minute end: (kind, subject)
    -> (severity, figure); a budget's page rule wins over its warn rule, an SLO subject's
    worst breach over the others."""
    found: dict[tuple[str, str], tuple[str, float]] = {}
    for timeline in timelines:
        level = int(timeline.severity[position])
        if level == OK:
            continue
        key = (timeline.rule.kind, timeline.rule.subject)
        held = found.get(key)
        if held is None or level > {"warn": WARN, "page": PAGE}[held[0]]:
            found[key] = (SEVERITIES[level], float(timeline.values[position]))
    return found


def spend_in_scope(ts: np.ndarray, cost_usd: np.ndarray, first: int, minutes: int) -> np.ndarray:
    """Nano-dollars per minute of priced rows (a budget the minute cells cannot scope: by user)."""
    minute = np.floor((np.asarray(ts, np.float64) - first) / MINUTE).astype(np.int64)
    priced, nano = cost_nano(np.asarray(cost_usd, np.float64))
    keep = priced & (minute >= 0) & (minute < minutes)
    return np.rint(np.bincount(minute[keep], weights=nano[keep].astype(np.float64), minlength=minutes)).astype(np.int64)
