"""Spend over the window: total, by model, by prompt, top users, per hour and per sparkline
bucket, and what is unpriced.

A request without a cost (no `cost_usd` in the log and no price for its model) is unpriced:
it is counted, and its model named, but it is never added to a total as $0. Totals are
over priced requests only; `by_model` lists only models with at least one priced request.

A request whose usage an instrumentation only estimated (openlit, for a stream without usage)
has 0 real tokens; the estimate's spend is counted apart (estimated_requests, estimated_usd,
estimated_by_model) and never added to total_usd.
"""

from __future__ import annotations

import numpy as np

from console.analytics.aggregates import NANO, WindowAggregates
from console.analytics.columns import NO_VALUE, Columns
from console.analytics.report_types import Spend, TimePoint

TOP_USERS = 10


def usd(nano: int | np.integer) -> float:
    return int(nano) / NANO


def _ranked(names: list[str], cost: np.ndarray, keep: np.ndarray, limit: int | None = None) -> dict[str, float]:
    """{name: USD} for the kept codes, biggest first (ties by code: first seen first)."""
    codes = np.flatnonzero(keep)
    codes = codes[np.lexsort((codes, -cost[codes]))]
    if limit is not None:
        codes = codes[:limit]
    return {names[code]: usd(cost[code]) for code in codes.tolist()}


def hour_points(aggregates: WindowAggregates, first: float, now: float) -> list[TimePoint]:
    """Spend per UTC hour, from the hour holding `first` to the one holding `now` (0 when none)."""
    table = aggregates.hour_cost
    hours = np.arange(int(first // 3600), int(now // 3600) + 1, dtype=np.int64)
    # console.formatting.rfc3339 of whole seconds, all at once (one by one: 3.5 ms of a month's report)
    starts = np.datetime_as_string((hours * 3600).astype("datetime64[s]"), unit="s").tolist()
    return [TimePoint(start=f"{start}Z", value=usd(table.get(hour, 0))) for hour, start in zip(hours.tolist(), starts)]


def bucket_points(aggregates: WindowAggregates, first: float, now: float) -> list[TimePoint]:
    """Spend per sparkline bucket (the p95 chart's: a minute in a 1h window, where per hour
    was two wide blocks), from the bucket holding `first` to the one holding `now`."""
    size = aggregates.bucket_seconds
    table = aggregates.bucket_cost
    buckets = np.arange(int(first // size), int(now // size) + 1, dtype=np.int64)
    starts = np.datetime_as_string((buckets * size).astype("datetime64[s]"), unit="s").tolist()
    return [TimePoint(start=f"{start}Z", value=usd(table.get(bucket, 0))) for bucket, start in zip(buckets.tolist(), starts)]


def spend_section(cols: Columns, aggregates: WindowAggregates, first: float | None, now: float) -> Spend:
    models = aggregates.models
    model_names = cols.names("model")
    requests = models["requests"]
    priced = models["priced"]
    unpriced = models["unpriced"]
    users = aggregates.users["cost"]
    user_names = cols.names("user")
    real_users = np.ones(len(users), bool)
    if NO_VALUE in cols.categories["user"].codes:
        no_user = cols.categories["user"].codes[NO_VALUE]
        if no_user < len(real_users):
            real_users[no_user] = False
    return Spend(
        total_usd=usd(models["cost"].sum()),
        priced_requests=int(priced.sum()),
        unpriced_requests=int(unpriced.sum()),
        unpriced_models=sorted(model_names[code] for code in np.flatnonzero(unpriced[: len(requests)] > 0)),
        by_model=_ranked(model_names, models["cost"], priced > 0),
        by_prompt=_ranked(cols.names("prompt_id"), aggregates.prompt_ids["cost"], aggregates.prompt_ids["priced"] > 0),
        top_users=_ranked(user_names, users, (aggregates.users["priced"] > 0) & real_users, TOP_USERS),
        per_hour=hour_points(aggregates, first, now) if first is not None else [],
        per_bucket=bucket_points(aggregates, first, now) if first is not None else [],
        bucket_seconds=aggregates.bucket_seconds,
        estimated_requests=int(models["estimated"].sum()),
        estimated_usd=usd(models["estimated_cost"].sum()),
        estimated_by_model=_ranked(model_names, models["estimated_cost"], models["estimated"] > 0),
    )
