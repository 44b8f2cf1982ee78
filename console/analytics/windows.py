"""The selectable time windows (15m ... all) and their bounds (moments read and written: console.formatting).

A window ends at `now` and holds the rows with ``start <= ts <= now``; "all" has no start.
Rows stamped after `now` (a clock ahead of ours, or a report "as of" a past time) are left
out, so a report as of a time shows exactly what the console showed then.
"""

from __future__ import annotations

import math
import re

import numpy as np

from console.analytics.columns import Columns

WINDOWS: dict[str, float | None] = {
    "15m": 15 * 60.0,
    "1h": 3600.0,
    "6h": 6 * 3600.0,
    "24h": 24 * 3600.0,
    "7d": 7 * 86400.0,
    "all": None,
}
WINDOW_NAMES: tuple[str, ...] = tuple(WINDOWS)
DEFAULT_WINDOW = "1h"

# Sparkline buckets: the smallest of these that keeps a window within MAX_POINTS points.
MAX_POINTS = 120
_BUCKET_CHOICES = (60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


# Besides the named windows, any duration (2h, 90m, 3d, 1w): the one syntax of every command's
# --since (report, check, compare), so a window one command takes the others take too.
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
WINDOW_SYNTAX = "15m, 1h, 6h, 24h, 7d, all, or any duration such as 2h, 90m or 3d"


class UnknownWindow(ValueError):
    pass


def parse_window(text: str) -> str:
    """A --since as typed -> the window's name ("2H " -> "2h"); UnknownWindow if it is none."""
    name = text.strip().lower()
    window_seconds(name)
    return name


def window_seconds(name: str) -> float | None:
    """The window's length in seconds; None for "all"."""
    if name in WINDOWS:
        return WINDOWS[name]
    match = _DURATION.fullmatch(name)
    if match is None or not 0 < float(match.group(1)) < math.inf:
        raise UnknownWindow(f"unknown window {name!r}: use {WINDOW_SYNTAX}")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def check_window(name: str) -> str:
    window_seconds(name)
    return name


def next_window(name: str) -> str:
    """The window after `name`, wrapping around (the `w` key); after a duration that is not a
    named window, the first named one longer than it."""
    if name not in WINDOWS:
        seconds = window_seconds(name)
        return next((w for w in WINDOW_NAMES if WINDOWS[w] is None or WINDOWS[w] > seconds), "all")
    index = WINDOW_NAMES.index(name)
    return WINDOW_NAMES[(index + 1) % len(WINDOW_NAMES)]


def window_start(now: float, name: str) -> float | None:
    seconds = window_seconds(name)
    return None if seconds is None else now - seconds


def window_mask(cols: Columns, now: float, name: str) -> np.ndarray:
    """True for the rows inside the window that ends at `now`."""
    ts = cols.ts
    start = window_start(now, name)
    inside = ts <= now
    if start is not None:
        inside &= ts >= start
    return inside


def bucket_seconds(span_seconds: float) -> int:
    """Sparkline bucket size for a span: 1 minute up to 2 hours, then coarser."""
    for size in _BUCKET_CHOICES:
        if span_seconds <= size * MAX_POINTS:
            return size
    return int(math.ceil(span_seconds / MAX_POINTS / 86400.0)) * 86400
