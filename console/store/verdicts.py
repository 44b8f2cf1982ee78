"""The current verdict of each labelled request: the newest active row of its labels (undo
deactivates a row, and the one before it is the verdict again). The store's column loads mark
is_bad with it and EvaluationStore answers with it, so both read this one query.

The rollup cells count bad and rated by feedback alone; `correction` is what a current verdict
changes of them for one row.

SQLAlchemy is imported only by current_verdicts: the sqlite3 reader (console/store/
sqlite_reader.py) runs _CURRENT itself."""

from __future__ import annotations

_CURRENT = (
    "SELECT l.request_id, l.verdict FROM labels l JOIN "
    "(SELECT request_id, max(id) AS id FROM labels WHERE active GROUP BY request_id) c ON c.id = l.id"
)


def current_verdicts(engine) -> dict[str, str]:
    """request_id -> its current verdict ("bad" or "good"), for every labelled request."""
    from sqlalchemy import text

    with engine.connect() as conn:
        return {row[0]: row[1] for row in conn.execute(text(_CURRENT))}


def correction(feedback: float | None, verdict: str) -> tuple[int, int]:
    """(bad, rated) a row's current verdict adds to what its feedback counted in the cells:
    a label is the truth for bad, and a labelled row is rated whether or not it has feedback."""
    return int(verdict == "bad") - int(feedback is not None and feedback < 0), int(feedback is None)
