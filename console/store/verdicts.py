"""The current verdict of each labelled request: the newest active row of its labels (undo
deactivates a row, and the one before it is the verdict again). The store's column loads mark
is_bad with it and EvaluationStore answers with it, so both read this one query."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

_CURRENT = (
    "SELECT l.request_id, l.verdict FROM labels l JOIN "
    "(SELECT request_id, max(id) AS id FROM labels WHERE active GROUP BY request_id) c ON c.id = l.id"
)


def current_verdicts(engine: Engine) -> dict[str, str]:
    """request_id -> its current verdict ("bad" or "good"), for every labelled request."""
    with engine.connect() as conn:
        return {row[0]: row[1] for row in conn.execute(text(_CURRENT))}
