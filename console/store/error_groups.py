"""Failed requests counted per (model, error_type): the triage queue's provider-error lines.

Read from the requests table alone (its status index), never the bodies. The evaluation
thread asks each time it rebuilds the queue (every half second while scores arrive): there
ErrorCounts reads only the rows stored since its last look (rows are never changed or
deleted once stored), as a store's failed requests grow with it (400 ms for the 20k of a
1M-row store, each rebuild). The lines count the figures' window, which slides with their
clock, so it keeps each group's ts (sorted: 8 bytes a failed request) and counts a window
from them; the whole store when asked for no bounds.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Engine

_SELECT_GROUPS = (
    "SELECT model, error_type, count(*), max(ts) FROM requests "
    "WHERE status = 'error' AND error_type IS NOT NULL{conditions} GROUP BY model, error_type"
)
_QUERY = text(_SELECT_GROUPS.format(conditions=""))
_QUERY_IDS = text(
    "SELECT model, error_type, ts FROM requests "
    "WHERE status = 'error' AND error_type IS NOT NULL AND id > :after AND id <= :through"
)  # SQLite searches the status index's (status, rowid) range
_NEWEST_ID = text("SELECT max(id) FROM requests")


def error_counts(
    engine: Engine, since: float | None = None, until: float | None = None,
) -> list[tuple[str, str, int, float]]:
    """(model, error_type, requests, newest ts) for every failed request with an error_type
    (logged from `since` up to `until` when given: a window, a replay's moment)."""
    conditions, bounds = "", {}
    if since is not None:
        conditions += " AND ts >= :since"
        bounds["since"] = since
    if until is not None:
        conditions += " AND ts <= :until"
        bounds["until"] = until
    query = text(_SELECT_GROUPS.format(conditions=conditions)) if bounds else _QUERY
    with engine.connect() as conn:
        found = conn.execute(query, bounds)
        return [(model, kind, int(n), float(ts)) for model, kind, n, ts in found]


class ErrorCounts:
    """error_counts kept: each call reads the rows stored since the last."""

    def __init__(self) -> None:
        self._through = 0  # the highest row id counted
        self._stamps: dict[tuple[str, str], np.ndarray] = {}  # each group's ts, ascending

    def __call__(
        self, engine: Engine, since: float | None = None, until: float | None = None,
    ) -> list[tuple[str, str, int, float]]:
        """As error_counts: the failed requests stamped from `since` up to `until` (both
        included, as a window holds its rows), all of them when None."""
        with engine.connect() as conn:
            # rows are committed in id order (one writer at a time: SQLite's lock, the team
            # store's advisory lock), so every id up to the newest seen is there to count
            newest = int(conn.execute(_NEWEST_ID).scalar() or 0)
            if newest > self._through:
                arrived: dict[tuple[str, str], list[float]] = {}
                for model, kind, ts in conn.execute(_QUERY_IDS, {"after": self._through, "through": newest}):
                    arrived.setdefault((model, kind), []).append(float(ts))
                for key, stamps in arrived.items():
                    self._add(key, np.asarray(stamps, dtype=np.float64))
                self._through = newest
        counts = []
        for (model, kind), stamps in self._stamps.items():
            low = 0 if since is None else int(np.searchsorted(stamps, since, side="left"))
            high = len(stamps) if until is None else int(np.searchsorted(stamps, until, side="right"))
            if high > low:
                counts.append((model, kind, high - low, float(stamps[high - 1])))
        return counts

    def _add(self, key: tuple[str, str], stamps: np.ndarray) -> None:
        stamps.sort()
        kept = self._stamps.get(key)
        if kept is None:
            self._stamps[key] = stamps
        elif stamps[0] >= kept[-1]:  # the usual case: newer than every one kept
            self._stamps[key] = np.concatenate((kept, stamps))
        else:
            self._stamps[key] = np.sort(np.concatenate((kept, stamps)), kind="stable")
