"""Failed requests counted per (model, error_type): the triage queue's provider-error lines.

Read from the requests table alone (its status index), never the bodies. The evaluation
thread asks each time it rebuilds the queue (every half second while scores arrive): there
ErrorCounts reads only the rows stored since its last look (rows are never changed or
deleted once stored), as a store's failed requests grow with it (400 ms for the 20k of a
1M-row store, each rebuild).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

_QUERY = text(
    "SELECT model, error_type, count(*), max(ts) FROM requests "
    "WHERE status = 'error' AND error_type IS NOT NULL GROUP BY model, error_type"
)
_QUERY_IDS = text(
    "SELECT model, error_type, count(*), max(ts) FROM requests "
    "WHERE status = 'error' AND error_type IS NOT NULL AND id > :after AND id <= :through GROUP BY model, error_type"
)  # SQLite searches the status index's (status, rowid) range
_NEWEST_ID = text("SELECT max(id) FROM requests")
_QUERY_UNTIL = text(
    "SELECT model, error_type, count(*), max(ts) FROM requests "
    "WHERE status = 'error' AND error_type IS NOT NULL AND ts <= :until GROUP BY model, error_type"
)


def error_counts(engine: Engine, until: float | None = None) -> list[tuple[str, str, int, float]]:
    """(model, error_type, requests, newest ts) for every failed request with an error_type
    (logged at or before `until` when given: a replay's moment)."""
    with engine.connect() as conn:
        found = conn.execute(_QUERY) if until is None else conn.execute(_QUERY_UNTIL, {"until": until})
        return [(model, kind, int(n), float(ts)) for model, kind, n, ts in found]


class ErrorCounts:
    """error_counts of the whole store, kept: each call reads the rows stored since the last."""

    def __init__(self) -> None:
        self._through = 0  # the highest row id counted
        self._counts: dict[tuple[str, str], tuple[int, float]] = {}

    def __call__(self, engine: Engine) -> list[tuple[str, str, int, float]]:
        with engine.connect() as conn:
            # rows are committed in id order (one writer at a time: SQLite's lock, the team
            # store's advisory lock), so every id up to the newest seen is there to count
            newest = int(conn.execute(_NEWEST_ID).scalar() or 0)
            if newest > self._through:
                for model, kind, n, ts in conn.execute(_QUERY_IDS, {"after": self._through, "through": newest}):
                    count, latest = self._counts.get((model, kind), (0, float("-inf")))
                    self._counts[(model, kind)] = (count + int(n), max(latest, float(ts)))
                self._through = newest
        return [(model, kind, n, ts) for (model, kind), (n, ts) in self._counts.items()]
