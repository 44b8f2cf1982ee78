"""The SQL of the store's reading queries, written once for both ways of running them: the
Store (console/store/store.py, SQLAlchemy `text()`, SQLite or PostgreSQL) and the plain-sqlite3
reader of `report` and `check` (console/store/sqlite_reader.py). Each function returns
(sql, params) with :named parameters, which sqlite3 and SQLAlchemy's text() both take.

No SQLAlchemy here: the sqlite3 reader must not import it (a third of a report's imports).
"""

from __future__ import annotations

# SQLite's hint to range-scan the ts index: with indexes on model or prompt it can pick one of
# those for a query that also filters by time (see PERFORMANCE.md)
TS_INDEX_SQLITE = " INDEXED BY ix_requests_ts"


def ts_index(sqlite: bool) -> str:
    return TS_INDEX_SQLITE if sqlite else ""


def ts_range(since_ts: float | None, before_ts: float | None) -> tuple[list[str], dict]:
    """WHERE terms for since_ts <= ts < before_ts (either bound may be None)."""
    conditions, params = [], {}
    if since_ts is not None:
        conditions.append("ts >= :since")
        params["since"] = since_ts
    if before_ts is not None:
        conditions.append("ts < :before")
        params["before"] = before_ts
    return conditions, params


def count_between(since_ts: float | None, before_ts: float | None) -> tuple[str, dict]:
    """How many requests have since_ts <= ts < before_ts (counted on the ts index)."""
    conditions, params = ts_range(since_ts, before_ts)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT count(*) FROM requests{where}", params


def ts_at_rank(sqlite: bool, since_ts: float | None, skip: int, *, newest_first: bool) -> tuple[str, dict]:
    """The ts of the row `skip` rows from the oldest (or the newest) since since_ts: an
    index-only walk."""
    where, params = ("WHERE ts >= :since ", {"since": since_ts}) if since_ts is not None else ("", {})
    order = " DESC" if newest_first else ""
    sql = f"SELECT ts FROM requests{ts_index(sqlite)} {where}ORDER BY ts{order} LIMIT 1 OFFSET :skip"
    return sql, {**params, "skip": skip}


def first_seen_between(
    sqlite: bool, since_ts: float | None, before_ts: float, until_id: int | None = None
) -> tuple[str, str, dict]:
    """(models' query, prompt versions' query, params) for Store.first_seen_between: the distinct
    names of the hour rollups, then per name the first matching row along the ts index."""
    hint = ts_index(sqlite)
    bounds = "ts < :before" + (" AND ts >= :since" if since_ts is not None else "")
    bounds += " AND id <= :until_id" if until_id is not None else ""
    params = {"since": since_ts, "before": before_ts, "until_id": until_id}
    models = (
        f"SELECT m, (SELECT min(ts) FROM requests{hint} WHERE model = m AND {bounds}) "
        "FROM (SELECT DISTINCT model AS m FROM rollups WHERE span = 3600) AS models"
    )
    prompts = (
        f"SELECT p, v, (SELECT min(ts) FROM requests{hint} "
        f"WHERE prompt_id = p AND prompt_version = v AND {bounds}) "
        "FROM (SELECT DISTINCT prompt_id AS p, prompt_version AS v FROM rollups WHERE span = 3600) AS prompts"
    )
    return models, prompts, params


def scope_conditions(start_ts: float, end_ts: float, scope: dict[str, str] | None) -> tuple[list[str], dict]:
    """WHERE terms for priced rows with start_ts <= ts < end_ts within a budget's scope."""
    allowed = {"model", "prompt_id", "user_id", "environment"}
    conditions = ["ts >= :start", "ts < :end", "cost_usd IS NOT NULL"]
    params: dict[str, object] = {"start": start_ts, "end": end_ts}
    for column, value in (scope or {}).items():
        if column not in allowed:
            raise ValueError(f"cannot scope spend by {column!r}")
        conditions.append(f"{column} = :{column}")
        params[column] = value
    return conditions, params


def rounded_nano(sqlite: bool) -> str:
    """A row's cost_usd in nano-dollars rounded as numpy.rint rounds (half to even): what the
    analytics sum, so a sum split between SQL and loaded columns is the columns' own integer."""
    nano = "cost_usd * 1000000000.0"
    # nano truncated toward zero (SQLite's CAST truncates; PostgreSQL's rounds, so trunc)
    whole = f"CAST({nano} AS INTEGER)" if sqlite else f"CAST(trunc({nano}) AS BIGINT)"
    odd = f"{whole} % 2 != 0" if sqlite else f"mod({whole}, 2) != 0"  # psycopg's own cursor reads % as a placeholder
    return (
        f"CASE WHEN {nano} - {whole} > 0.5 OR ({nano} - {whole} = 0.5 AND {odd}) THEN {whole} + 1 "
        f"WHEN {nano} - {whole} < -0.5 OR ({nano} - {whole} = -0.5 AND {odd}) THEN {whole} - 1 ELSE {whole} END"
    )


def spend_nano_between(
    sqlite: bool, start_ts: float, end_ts: float, scope: dict[str, str] | None = None
) -> tuple[str, dict]:
    """Store.spend_nano_between: each row's cost rounded_nano, summed."""
    conditions, params = scope_conditions(start_ts, end_ts, scope)
    sql = (
        f"SELECT coalesce(sum({rounded_nano(sqlite)}), 0) "
        f"FROM requests{ts_index(sqlite)} WHERE {' AND '.join(conditions)}"
    )
    return sql, params
