"""Failed requests counted per (model, error_type): the triage queue's provider-error lines.

Read from the requests table alone (its status index), never the bodies: cheap enough for
the evaluation thread to ask each time it rebuilds the queue.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

_QUERY = text(
    "SELECT model, error_type, count(*), max(ts) FROM requests "
    "WHERE status = 'error' AND error_type IS NOT NULL GROUP BY model, error_type"
)
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
