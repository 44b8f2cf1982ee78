"""The alerts `check` exits 1 on and the panes colour: SLO breaches and error-rate spikes.

(Budget burn alerts come from console/analytics/budget.py.)

- SLO breach: the SLO's percentile over the window is above its ceiling: warn, or page when
  it is more than twice the ceiling. Judged overall (SLOs without a model) and per model.
- Error-rate spike: over the last 5 minutes the error rate is more than 3x the window's and
  there are at least 10 errors (a handful of errors on little traffic is not a spike): warn.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from console.analytics.aggregates import WindowAggregates
from console.analytics.columns import Columns
from console.analytics.latency import slo_breaches
from console.analytics.report_types import Alert
from console.config import Slo

SPIKE_SECONDS = 300.0
SPIKE_FACTOR = 3.0
SPIKE_MIN_ERRORS = 10
SLO_PAGE_FACTOR = 2.0


def slo_alerts(cols: Columns, aggregates: WindowAggregates, slos: Sequence[Slo]) -> list[Alert]:
    alerts = []
    breaches = slo_breaches(aggregates.latency_by_model, cols.names("model"), slos, aggregates.latency.get(0))
    for subject, slo, value in breaches:
        severity = "page" if value > SLO_PAGE_FACTOR * slo.max_ms else "warn"
        alerts.append(
            Alert(
                kind="slo",
                severity=severity,
                subject=subject,
                message=f"{subject}: p{slo.percentile:g} latency {value:,.0f} ms is over the SLO of {slo.max_ms:,.0f} ms",
            )
        )
    return alerts


def recent_errors(cols: Columns, now: float, seconds: float, time_sorted: bool) -> tuple[int, int]:
    """(requests, errors) with ts in [now - seconds, now]."""
    ts = cols.ts
    if time_sorted:
        rows: slice | np.ndarray = slice(
            int(np.searchsorted(ts, now - seconds, "left")), int(np.searchsorted(ts, now, "right"))
        )
        errors = cols.is_error[rows]
    else:
        errors = cols.is_error[(ts >= now - seconds) & (ts <= now)]
    return len(errors), int(errors.sum())


def error_spike_alert(
    cols: Columns, aggregates: WindowAggregates, now: float, time_sorted: bool
) -> Alert | None:
    if not aggregates.requests:
        return None
    requests, errors = recent_errors(cols, now, SPIKE_SECONDS, time_sorted)
    if errors < SPIKE_MIN_ERRORS:
        return None
    window_rate = aggregates.errors / aggregates.requests  # > 0: the last 5m are in the window
    recent_rate = errors / requests
    if recent_rate <= SPIKE_FACTOR * window_rate:
        return None
    return Alert(
        kind="error_rate",
        severity="warn",
        subject="all traffic",
        message=(
            f"error rate {recent_rate:.1%} over the last 5m ({errors} of {requests} requests) "
            f"is {recent_rate / window_rate:.1f}x the window's {window_rate:.1%}"
        ),
    )
