"""Latency: exact percentiles overall, per model and per prompt version, SLO breaches, and
the p95 sparkline.

Percentiles are numpy's default (linear) method over every request in the window, errors
included (a timeout is latency the user waited through); TTFT percentiles skip requests that
logged none. An SLO names a percentile and a ceiling; one with a model applies to that
model, one without applies to every model and to the overall figure. A model that has its
own SLO is judged by it instead of the general one.
"""

from __future__ import annotations

from typing import Sequence

from console.analytics.aggregates import WindowAggregates
from console.analytics.columns import Columns
from console.analytics.quantiles import SortedGroups, percentiles_of_sorted
from console.analytics.report_types import Latency, Percentiles, TimePoint
from console.config import Slo
from console.formatting import rfc3339

QUANTILES = (50.0, 90.0, 95.0, 99.0)


def _figure(value: float) -> float | None:
    return None if value != value else float(value)  # NaN -> null


def percentiles(latency, ttft, slos: Sequence[Slo] = (), errors: int = 0) -> Percentiles:
    """The Percentiles of sorted latency and TTFT arrays, judged against the given SLOs;
    errors: how many of those requests failed."""
    p50, p90, p95, p99 = percentiles_of_sorted(latency, QUANTILES)
    t50, t95 = percentiles_of_sorted(ttft, (50.0, 95.0))
    figures = Percentiles(
        requests=len(latency), p50=_figure(p50), p90=_figure(p90), p95=_figure(p95), p99=_figure(p99),
        ttft_p50=_figure(t50), ttft_p95=_figure(t95), errors=int(errors),
    )  # fmt: skip
    judged = [(slo, _figure(percentiles_of_sorted(latency, (slo.percentile,))[0])) for slo in slos]
    breached = [(slo, value) for slo, value in judged if value is not None and value > slo.max_ms]
    shown = breached[0] if breached else (judged[0] if judged else None)
    if shown is not None:
        figures.slo_ms = float(shown[0].max_ms)
        figures.slo_percentile = float(shown[0].percentile)
        figures.slo_breached = bool(breached)
    return figures


def slos_for(model: str | None, slos: Sequence[Slo]) -> list[Slo]:
    """The SLOs that judge a model (None: the overall figure)."""
    if model is None:
        return [slo for slo in slos if slo.model is None]
    own = [slo for slo in slos if slo.model == model]
    return own or [slo for slo in slos if slo.model is None]


def slo_breaches(latency: SortedGroups, models: list[str], slos: Sequence[Slo], overall) -> list[tuple[str, Slo, float]]:
    """Every (subject, SLO, measured value) where the measured percentile is over the SLO."""
    found: list[tuple[str, Slo, float]] = []
    subjects: list[tuple[str, str | None, object]] = [("all traffic", None, overall)]
    subjects += [(models[code], models[code], latency.get(code)) for code in sorted(latency.keys())]
    for subject, model, values in subjects:
        for slo in slos_for(model, slos):
            value = _figure(percentiles_of_sorted(values, (slo.percentile,))[0])
            if value is not None and value > slo.max_ms:
                found.append((subject, slo, value))
    return found


def p95_points(aggregates: WindowAggregates, first: float, now: float) -> list[TimePoint]:
    """p95 latency per sparkline bucket from the bucket holding `first` to the one holding `now`."""
    size = aggregates.bucket_seconds
    groups = aggregates.latency_by_bucket
    points = []
    for bucket in range(int(first // size), int(now // size) + 1):
        values = groups.get(bucket)
        value = percentiles_of_sorted(values, (95.0,))[0] if len(values) else None
        points.append(TimePoint(start=rfc3339(bucket * size), value=None if value is None else float(value)))
    return points


def latency_section(
    cols: Columns, aggregates: WindowAggregates, slos: Sequence[Slo], first: float | None, now: float
) -> Latency:
    models, prompts = cols.names("model"), cols.names("prompt")
    overall = percentiles(aggregates.latency.get(0), aggregates.ttft.get(0), slos_for(None, slos), aggregates.errors)
    model_errors, prompt_errors = aggregates.models["errors"], aggregates.prompts["errors"]
    by_model = {
        models[code]: percentiles(
            aggregates.latency_by_model.get(code), aggregates.ttft_by_model.get(code), slos_for(models[code], slos),
            model_errors[code] if code < len(model_errors) else 0,
        )
        for code in _busiest(aggregates.latency_by_model)
    }
    by_version = {
        prompts[code]: percentiles(
            aggregates.latency_by_prompt.get(code), aggregates.ttft_by_prompt.get(code), (),
            prompt_errors[code] if code < len(prompt_errors) else 0,
        )
        for code in _busiest(aggregates.latency_by_prompt)
    }
    points = p95_points(aggregates, first, now) if first is not None else []
    return Latency(overall=overall, by_model=by_model, by_version=by_version, p95_per_minute=points)


def _busiest(groups: SortedGroups) -> list[int]:
    """Group codes, most requests first (ties by code, i.e. first seen first)."""
    return sorted(groups.keys(), key=lambda code: (-len(groups.get(code)), code))
