"""A backtest's minutes read from the store: its rollup minute cells summed by SQL.

console.analytics.backtest judges the alert rules at every minute of a period from a
`MinuteSeries`; this reads one from the `rollups` table's minute cells (span 60, written
with the rows on every store: console/store/rollups.py) without loading a row: requests and
errors per minute, each budget's spend per minute in its scope, the latency sketches per
model and minute, and each model's requests and errors per minute (the failing-model rule), from
one scan of the cells. A budget scoped by user is summed from its rows (the minute cells are not
crossed with users). Works on SQLite and PostgreSQL (rollups.Db).
"""

from __future__ import annotations

import numpy as np

from console.analytics.backtest import MINUTE, MinuteSeries, spend_in_scope
from console.analytics.budget import budget_scope
from console.analytics.sketch import Entries
from console.config import Budget
from console.store import rollups


def first_minute(store) -> int | None:
    """The start of the store's first minute cell (None: an empty store)."""
    with store.engine.connect() as conn:
        found = rollups.Db(conn).rows("SELECT min(bucket) FROM rollups WHERE span = ?", (MINUTE,))[0][0]
    return None if found is None else int(found)


def pruned_before(store) -> int | None:
    """The first minute cell when older data is kept in hour cells only (the store drops
    minute cells past a horizon: console/store/rollups.py), else None."""
    with store.engine.connect() as conn:
        minutes, hours = rollups.Db(conn).rows(
            "SELECT min(CASE WHEN span = ? THEN bucket END), min(CASE WHEN span = ? THEN bucket END) FROM rollups",
            (MINUTE, 3600),
        )[0]
    if minutes is None or hours is None or int(hours) >= int(minutes) // 3600 * 3600:
        return None
    return int(minutes)


def read_minute_series(store, budgets: list[Budget], first: int, minutes: int) -> MinuteSeries:
    """The series of the minutes [first, first + 60 * minutes) (first: a multiple of 60): one
    scan of the minute cells (the columns it needs), the sums made with numpy."""
    columns = ("bucket", "model", "prompt_id", "environment", "is_error", "requests", "cost_nano", "latency")
    with store.engine.connect() as conn:
        cells = rollups.Db(conn).rows(
            f"SELECT {', '.join(columns)} FROM rollups WHERE span = ? AND bucket >= ? AND bucket < ? ORDER BY model, bucket",
            (MINUTE, first, first + minutes * MINUTE),
        )
    requests, errors = np.zeros(minutes, np.int64), np.zeros(minutes, np.int64)
    if not cells:
        spend = {budget.name: _user_spend(store, budget_scope(budget), first, minutes) if "user_id" in budget_scope(budget)
                 else np.zeros(minutes, np.int64) for budget in budgets}  # fmt: skip
        return MinuteSeries(first, requests, errors, spend, {}, {})
    bucket, model, prompt_id, environment, is_error, counted, nano, blobs = zip(*cells)
    minute = (np.asarray(bucket, np.int64) - first) // MINUTE
    counted_arr, nano_arr = np.asarray(counted, np.int64), np.asarray(nano, np.int64)
    failed = np.asarray(is_error, np.int64) == 1
    requests = np.bincount(minute, weights=counted_arr, minlength=minutes).round().astype(np.int64)
    errors = np.bincount(minute[failed], weights=counted_arr[failed], minlength=minutes).round().astype(np.int64)
    labels = {"model": np.asarray(model, object), "prompt_id": np.asarray(prompt_id, object),
              "environment": np.asarray(environment, object)}  # fmt: skip
    spend = {}
    for budget in budgets:
        scope = budget_scope(budget)
        if "user_id" in scope:  # the minute cells are not crossed with users
            spend[budget.name] = _user_spend(store, scope, first, minutes)
            continue
        keep = np.ones(len(cells), bool)
        for column, value in scope.items():
            keep &= labels[column] == value
        spend[budget.name] = np.bincount(minute[keep], weights=nano_arr[keep].astype(np.float64), minlength=minutes).round().astype(np.int64)
    models = labels["model"]
    bounds = np.flatnonzero(np.r_[True, models[1:] != models[:-1], True])  # cells come grouped by model
    calls = _model_calls(models, bounds, minute, counted_arr, failed, minutes)
    return MinuteSeries(first, requests, errors, spend, _latency(models, bounds, minute, blobs), calls)


def _user_spend(store, scope: dict[str, str], first: int, minutes: int) -> np.ndarray:
    from sqlalchemy import text

    terms = "".join(f" AND {column} = :{column}" for column in scope)
    query = text(f"SELECT ts, cost_usd FROM requests WHERE ts >= :first AND ts < :before AND cost_usd IS NOT NULL{terms}")
    with store.engine.connect() as conn:
        rows = conn.execute(query, {"first": first, "before": first + minutes * MINUTE, **scope}).all()
    if not rows:
        return np.zeros(minutes, np.int64)
    ts, cost = (np.asarray(column, np.float64) for column in zip(*rows))
    return spend_in_scope(ts, cost, first, minutes)


def _model_calls(models: np.ndarray, bounds: np.ndarray, minute: np.ndarray, counted: np.ndarray, failed: np.ndarray,
                 minutes: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per model, its (requests, errors) per minute (MinuteSeries.model_calls): the same cells'
    counts summed over each model's run of cells (cells sorted by model)."""
    calls: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    weights = counted.astype(np.float64)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        mine, bad = minute[lo:hi], failed[lo:hi]
        requests = np.bincount(mine, weights=weights[lo:hi], minlength=minutes).round().astype(np.int64)
        errors = np.bincount(mine[bad], weights=weights[lo:hi][bad], minlength=minutes).round().astype(np.int64)
        calls[str(models[lo])] = (requests, errors)
    return calls


def _latency(models: np.ndarray, bounds: np.ndarray, minute: np.ndarray, blobs: tuple) -> dict[str, Entries]:
    """Per model, the minute cells' latency sketches under their minute index (cells sorted by
    model then bucket, so each model's entries come grouped by minute; a (minute, key) pair may
    repeat across a minute's cells: MinuteSeries allows it, the percentile pass adds them)."""
    entries = Entries.decode(blobs, range(len(blobs)))  # groups: cell index
    cell_minute = minute[entries.groups]
    latency: dict[str, Entries] = {}
    starts = np.searchsorted(entries.groups, bounds)
    for (lo, hi), name in zip(zip(starts[:-1], starts[1:]), models[bounds[:-1]]):
        latency[str(name)] = Entries(cell_minute[lo:hi], entries.keys[lo:hi], entries.counts[lo:hi])
    return latency
