"""The exact tail when it holds more rows than a report loads one by one (issue 20's bound).

The figures that look at the last hours row by row (budget burn windows, the error spike, the
alerts' onsets: console/analytics/rollup_report.exact_tail_seconds) then read the tail as
`TailCells`: the rows from `rows_since` on (at most the store's bound, console/store/tail_reads.py)
and, before them, REQUESTS cells of whole minutes (the store's minute cells) and of minute
pieces made from rows, cut at every edge a figure at `now` uses (now - each burn window, now -
SPIKE_SECONDS, the window's start). A cell never straddles such an edge, so a sum over
[edge, now] counts a cell when its first row (min_ts) is at or after the edge: exactly the
rows' sum. Each cell is one "piece" here: ts its min_ts, minute its bucket.

Onsets ("since when") look at rolling windows ending at every minute before now, whose edges
fall inside minutes everywhere; over the tail they are judged on the whole-minute grid instead
(`grid_ends`): a window ending at minute E counts the minutes [E - width, E), every row by
its minute (exact sums of those minutes); the SLO onset's percentiles come from the merged
sketches of those minutes (within console.analytics.sketch.RELATIVE_ACCURACY; the report
says "sketch"). The last end is `now` itself, judged exactly as without a bound.

A budget scoped by user: minute cells have no user, so the store sums its spend by SQL into
pieces of the same shape (`user_spend`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from console.analytics.alert_onset import rolling_sums
from console.analytics.quantiles import percentiles_of_sorted
from console.analytics.rollup import MINUTE, REQUESTS, CellTable
from console.analytics.sketch import SketchValues, keys_of


@dataclass(frozen=True)
class Pieces:
    """Summed pieces of the tail, in time order: ts a moment inside each (its first row's),
    minute its minute's first second, cost in nano-dollars."""

    ts: np.ndarray
    minute: np.ndarray
    cost: np.ndarray


@dataclass
class TailCells:
    rows_since: float  # the rows from here on are loaded one by one
    cells: CellTable = field(default_factory=lambda: CellTable.empty(REQUESTS, MINUTE))  # [exact_since, rows_since)
    user_spend: dict[str, Pieces] = field(default_factory=dict)  # per budget scoped by user

    def order(self) -> np.ndarray:
        """The cells in time order (of their first rows)."""
        return np.argsort(self.cells.min_ts, kind="stable")


def minute_of(ts: np.ndarray) -> np.ndarray:
    return (np.floor(np.asarray(ts, np.float64) / MINUTE) * MINUTE).astype(np.int64)


def grid_ends(now: float, lookback: float) -> tuple[np.ndarray, np.ndarray]:
    """(the ends as reported, the grid's minute ends): as many ends as
    alert_onset.minute_ends(now, lookback), on whole minutes, the last being now (whose
    grid end is the minute after it: every row up to now)."""
    last = np.ceil(now / MINUTE) * MINUTE
    if last == now:
        last += MINUTE
    grid = last - MINUTE * np.arange(int(lookback // MINUTE), -1, -1, dtype=np.float64)
    reported = grid.copy()
    reported[-1] = now
    return reported, grid


def grid_sums(minute: np.ndarray, values: np.ndarray, ends: np.ndarray, width: float) -> np.ndarray:
    """Sum of values whose minute is in [end - width, end) for each end (minute ascending)."""
    return rolling_sums(minute, values, ends, width, include_end=False)


def grid_percentile_run(
    minute: np.ndarray, keys: np.ndarray, counts: np.ndarray, ends: np.ndarray, width: float, percentile: float,
    limit: float,
) -> np.ndarray:
    """For each end, whether the percentile of the sketch merged over the minutes in
    [end - width, end) is above limit; evaluated from the last end back and stopped at the
    first that is not (the ends before it cannot change a trailing run): False from there."""
    over = np.zeros(len(ends), bool)
    if not len(minute):
        return over
    unique_keys, key_index = np.unique(keys, return_inverse=True)  # ZERO_KEY first: value 0 sorts first
    low = int(ends[0] - width) // MINUTE
    slot = np.clip(minute // MINUTE - low, 0, None)  # minutes before the first window all count nowhere
    slots = int(ends[-1]) // MINUTE - low + 1
    keep = (minute // MINUTE - low >= 0) & (slot < slots)
    table = np.zeros(slots * len(unique_keys), np.int64)
    np.add.at(table, slot[keep] * len(unique_keys) + key_index.reshape(-1)[keep], counts[keep])
    cumulative = np.vstack([np.zeros(len(unique_keys), np.int64), np.cumsum(table.reshape(slots, -1), axis=0)])
    for index in range(len(ends) - 1, -1, -1):
        hi = int(ends[index]) // MINUTE - low
        lo = int(ends[index] - width) // MINUTE - low
        window = cumulative[hi] - cumulative[lo]
        present = np.flatnonzero(window)
        if not len(present):
            break
        value = percentiles_of_sorted(SketchValues(unique_keys[present], window[present]), [percentile])[0]
        if not value > limit:
            break
        over[index] = True
    return over


def row_keys(ts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(minute, sketch key, count 1) of each row with a value (NaN skipped)."""
    fine = ~np.isnan(values)
    return minute_of(ts[fine]), keys_of(values[fine]), np.ones(int(fine.sum()), np.int64)


def codes_in(cols, category: str, cells: CellTable, dim: str) -> np.ndarray:
    """The cells' dimension as codes of cols' category (names new to cols are added)."""
    table = cols.categories[category]
    mapping = np.array([table.code(name) for name in cells.names[dim]] or [0], np.int64)
    return mapping[cells.codes[dim]]
