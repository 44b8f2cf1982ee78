"""Since when an alert fires: the first minute of the current run of minutes over its rule.

Each rule is evaluated again at every minute end looking back from `now` (the same rule over
the same window lengths, ending earlier); the alert's onset is the first of the trailing
minutes that all fire. When every minute looked at fires, the onset is "before" the lookback
(`capped`), never a made-up moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

STEP = 60.0


@dataclass(frozen=True)
class Onset:
    since: float  # epoch seconds
    capped: bool  # every minute looked at fired: it started at `since` or earlier


def minute_ends(now: float, lookback: float) -> np.ndarray:
    """now - lookback ... now in STEP steps, ascending (the last is now)."""
    return now - STEP * np.arange(int(lookback // STEP), -1, -1, dtype=np.float64)


def trailing_run(ends: np.ndarray, over: np.ndarray) -> Onset | None:
    """The first end of the trailing run of True in `over` (None when the last is False)."""
    if not len(over) or not over[-1]:
        return None
    below = np.flatnonzero(~over)
    if not len(below):
        return Onset(float(ends[0]), True)
    return Onset(float(ends[below[-1] + 1]), False)


def rolling_sums(
    ts: np.ndarray, values: np.ndarray, ends: np.ndarray, width: float, include_end: bool = True
) -> np.ndarray:
    """Sum of values with ts in [end - width, end] for each end (ts ascending); in
    [end - width, end) without include_end."""
    total = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    hi = np.searchsorted(ts, ends, "right" if include_end else "left")
    lo = np.searchsorted(ts, ends - width, "left")
    return total[hi] - total[lo]


def trailing_run_over(
    ts: np.ndarray, values: np.ndarray, ends: np.ndarray, width: float, fires: Callable[[np.ndarray], bool],
) -> Onset | None:
    """trailing_run(ends, [fires(values in [end - width, end]) for each end]), ts ascending (for
    percentiles), evaluated from the last end back and stopped at the first that does not fire:
    the ends before it cannot change the run."""
    hi = np.searchsorted(ts, ends, "right").tolist()
    lo = np.searchsorted(ts, ends - width, "left").tolist()
    for index in range(len(ends) - 1, -1, -1):
        low, high = lo[index], hi[index]
        if not (high > low and fires(values[low:high])):
            return None if index == len(ends) - 1 else Onset(float(ends[index + 1]), False)
    return Onset(float(ends[0]), True) if len(ends) else None


def sorted_rows(ts: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The rows of `keep` in time order."""
    rows = np.flatnonzero(keep)
    return rows[np.argsort(ts[rows], kind="stable")]
