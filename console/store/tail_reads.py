"""A merged report's exact tail read with a bound on the rows held at once (issue 20).

What `rollup_reads.load_merged` reads (`load_tail`, then the rows) when the exact tail holds
more than `bound` rows (window_report.TAIL_MAX_ROWS):

- the rows loaded one by one are those from rows_since on, at most `bound` of them
  (`rows_since`: the newest minute boundary with at most `bound` rows after it up to now, or
  just after the (bound + 1)-th newest row when the current minute alone holds more);
- the tail before them is REQUESTS cells (console/analytics/tail_cells.py): the store's minute
  cells for whole minutes, and for the minutes an edge falls in (now - each burn window, now -
  SPIKE_SECONDS, the window's start), for rows_since's minute and for minutes older than the
  store keeps minute cells for, cells made from rows, one set per piece between edges. Those
  rows are read `bound` at a time (`chunks`) and turned into cells before the next read;
- the window's users: the hour cells of whole hours, rows (`bound` at a time) for the
  partial first and last hour, reduced to one entry per user as they are read;
- a budget scoped by user (minute cells have no user): its spend summed by SQL per minute and
  piece (`user_pieces`), rounded as Store.spend_nano_between rounds.

So the memory of a report no longer grows with the rate: ~bound rows of columns at once plus
cells (the store's minute cells of the tail: their count grows with the tail's length and the
key combinations, not with the rows). Past the bound only when more than `bound` rows share
one ts (a chunk cannot split them).
"""

from __future__ import annotations

import math

import numpy as np

from console.analytics.aggregates import cost_nano
from console.analytics.alerts import SPIKE_SECONDS
from console.analytics.budget import budget_scope, budget_windows
from console.analytics.rollup import HOUR, MINUTE, REQUESTS, USERS, CellTable, RowArrays, cells_of_rows, concat, user_cells
from console.analytics.tail_cells import Pieces, TailCells
from console.config import Settings, duration_seconds
from console.store import rollups
from console.store.read_queries import rounded_nano


def _sqlite(db: rollups.Db) -> bool:
    return db.raw or db.conn.dialect.name == "sqlite"


def _hint(db: rollups.Db) -> str:
    return " INDEXED BY ix_requests_ts" if _sqlite(db) else ""  # as read_queries.ts_index


def rows_since(conn, since: float, now: float, bound: int) -> float:
    """Where the rows loaded one by one start: at most `bound` rows in [it, now]."""
    db = rollups.Db(conn)
    found = db.rows(
        f"SELECT ts FROM requests{_hint(db)} WHERE ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT 1 OFFSET ?",
        (since, now, bound),
    )
    if not found:
        return since
    newest_left_out = float(found[0][0])
    minute = (math.floor(newest_left_out / MINUTE) + 1) * MINUTE
    return float(minute) if minute <= now else float(np.nextafter(newest_left_out, np.inf))


def chunks(db: rollups.Db, low: float, high: float, bound: int):
    """[a, b) ranges covering [low, high), each holding at most `bound` rows (more only when
    more than `bound` rows share one ts)."""
    while low < high:
        found = db.rows(
            f"SELECT ts FROM requests{_hint(db)} WHERE ts >= ? AND ts < ? ORDER BY ts LIMIT 1 OFFSET ?",
            (low, high, bound),
        )
        if not found:
            yield low, high
            return
        cut = float(found[0][0])
        if cut <= low:
            cut = float(np.nextafter(low, np.inf))
        yield low, cut
        low = cut


def _row_cells(store, db: rollups.Db, low: float, high: float, bound: int) -> list[CellTable]:
    """REQUESTS minute cells of the rows in [low, high), `bound` rows read at a time (bad and
    rated by feedback, as the stored cells count them: the labels' corrections come with
    label_delta)."""
    tables = []
    for a, b in chunks(db, low, high, bound):
        cols = store.load_columns(a, before_ts=b, verdicts=False)
        requests, _users = cells_of_rows(RowArrays.of_columns(cols), MINUTE)
        tables.append(requests)
    return [table for table in tables if len(table)]


def tail_edges(now: float, start: float | None, settings: Settings) -> list[float]:
    """The moments a figure at now sums from: no tail cell may straddle one."""
    edges = [now - SPIKE_SECONDS]
    if settings.budgets:
        edges += [now - duration_seconds(name) for name in budget_windows(settings.budgets, settings.burn)]
    if start is not None:
        edges.append(start)
    return sorted(set(edges))


def tail_cells(store, conn, since: float, until: float, edges: list[float], bound: int) -> CellTable:
    """REQUESTS cells of [since, until): whole minutes from the minute cells, the rest from rows
    (a piece per stretch between edges)."""
    db = rollups.Db(conn)
    inner = [edge for edge in edges if since < edge < until and edge % MINUTE]
    split = {int(edge // MINUTE * MINUTE) for edge in inner}
    if until % MINUTE:
        split.add(int(until // MINUTE * MINUTE))
    complete_from = rollups.minutes_complete_from(conn)
    stored_from = since if complete_from is None else max(since, float(complete_from))
    stored_to = until // MINUTE * MINUTE
    ranges = [(since, min(stored_from, until))] if stored_from > since else []
    ranges += [(float(minute), min(minute + MINUTE, until)) for minute in sorted(split) if minute >= stored_from]
    tables = []
    for low, high in ranges:
        cuts = [low] + [edge for edge in inner if low < edge < high] + [high]
        for a, b in zip(cuts[:-1], cuts[1:]):
            tables += _row_cells(store, db, a, b, bound)
    if stored_from < stored_to:
        stored = rollups.read_cells(conn, REQUESTS, MINUTE, stored_from, stored_to)
        stored = stored.take(~np.isin(stored.bucket, np.array(sorted(split), np.int64)))
        tables.append(stored)
    tables = [table for table in tables if len(table)]
    return concat(tables) if tables else CellTable.empty(REQUESTS, MINUTE)


def tail_users(store, conn, low: float, high: float, bound: int) -> CellTable:
    """Each user's requests and spend in [low, high): hour cells for whole hours, rows for the rest."""
    db = rollups.Db(conn)
    first_hour, last_hour = math.ceil(low / HOUR) * HOUR, math.floor(high / HOUR) * HOUR
    tables = []
    if first_hour < last_hour:
        tables.append(rollups.user_spend(conn, first_hour, last_hour))
        from_rows = [(low, first_hour), (last_hour, high)]
    else:
        from_rows = [(low, high)]
    for a, b in from_rows:
        for lo, hi in chunks(db, a, b, bound) if a < b else ():
            cols = store.load_columns(lo, before_ts=hi, verdicts=False)
            tables.append(user_cells(cols.ts, cols.user, cols.names("user"), *cost_nano(cols.cost_usd)))
    tables = [table for table in tables if len(table)]
    return concat(tables).grouped() if tables else CellTable.empty(USERS, HOUR)


def user_pieces(conn, settings: Settings, since: float, until: float, edges: list[float]) -> dict[str, Pieces]:
    """Per budget scoped by user, its priced spend in [since, until) per minute and piece
    between edges (each row rounded to nano-dollars as Store.spend_nano_between rounds)."""
    found = {}
    db = rollups.Db(conn)
    sqlite = _sqlite(db)
    rounded = rounded_nano(sqlite)
    minute = "CAST(ts / 60 AS INTEGER)" if sqlite else "CAST(floor(ts / 60) AS BIGINT)"
    inner = [edge for edge in edges if since < edge < until]
    # which stretch between edges a row is in (SQLite reads a bare integer in GROUP BY as a column)
    piece = "".join(f", (CASE WHEN ts >= {edge!r} THEN 1 ELSE 0 END)" for edge in inner)
    for budget in settings.budgets:
        scope = budget_scope(budget)
        if "user_id" not in scope:
            continue
        terms = "".join(f" AND {column} = ?" for column in scope)
        rows = db.rows(
            f"SELECT min(ts), {minute} AS m, sum({rounded}) FROM requests{_hint(db)} "
            f"WHERE ts >= ? AND ts < ? AND cost_usd IS NOT NULL{terms} GROUP BY m{piece} ORDER BY 1",
            (since, until, *scope.values()),
        )
        ts = np.array([row[0] for row in rows], np.float64)
        found[budget.name] = Pieces(
            ts=ts, minute=np.array([int(row[1]) * MINUTE for row in rows], np.int64),
            cost=np.array([int(row[2]) for row in rows], np.int64),
        )  # fmt: skip
    return found


def order_as_the_tail(cols, cells: CellTable) -> None:
    """Renumber cols' models, prompts, hashes and environments by first appearance over the
    whole tail (the cells' first rows and the rows), as loading every tail row numbers them:
    ties in the report (alerts of equal rank, tables' equal values) keep the order they have
    without the bound. Names only the cells hold are added in their place."""
    count = len(cols)
    for dim in ("model", "prompt", "prompt_id", "prompt_hash", "environment"):
        table = cols.categories[dim]
        earliest = np.full(len(table.names), np.inf)
        codes = getattr(cols, dim)
        np.minimum.at(earliest, codes, cols.ts[:count])
        first = dict(zip(table.names, earliest.tolist()))
        if len(cells):
            found = np.full(len(cells.names[dim]), np.inf)
            np.minimum.at(found, cells.codes[dim], cells.min_ts)
            for name, ts in zip(cells.names[dim], found.tolist()):
                first[name] = min(ts, first.get(name, np.inf))
        order = sorted(first, key=lambda name: first[name])  # stable: rows' order on ties
        position = {name: code for code, name in enumerate(order)}
        mapping = np.array([position[name] for name in table.names] or [0], np.int64)
        codes[:] = mapping[codes]
        table.names[:] = order
        table.codes.clear()
        table.codes.update(position)


def load_tail(store, conn, now: float, start: float | None, settings: Settings, since: float, bound: int):
    """(rows_since, TailCells of [since, rows_since), the window's part of its cells, the window's users there)."""
    until = rows_since(conn, since, now, bound)
    edges = tail_edges(now, start, settings)
    cells = tail_cells(store, conn, since, until, edges, bound)
    tail = TailCells(rows_since=until, cells=cells, user_spend=user_pieces(conn, settings, since, until, edges))
    window_from = since if start is None or start <= since else start
    in_window = cells.take(cells.min_ts >= window_from)
    users = tail_users(store, conn, window_from, until, bound) if window_from < until else CellTable.empty(USERS, HOUR)
    return until, tail, in_window, users, window_from
