"""What a merged report reads (console/analytics/rollup_report.py): the rows from exact_since,
the window's rollup cells before that, the budgets' spend before it, labels' corrections of
bad and rated.

The window [start, exact_since) is read as whole hours (when the p95 sparkline's buckets are
whole hours; minute cells otherwise): whole UTC days from the day cells, the hours around them
from the hour cells, the spend per hour and the sparkline of those days from the hour totals
(RollupPart.series); the minutes of a partial first hour from the minute cells, and the rows of
a partial first minute turned into cells, so the sums are exactly the rows'. Minutes older
than the store keeps minute cells for (rollups.MINUTE_CELLS_KEPT_S) are read as rows turned
into minute cells, the same cells.
"""

from __future__ import annotations

import math

import numpy as np

from console.analytics.budget import budget_scope, period_bounds
from console.analytics.columns import Columns
from console.analytics.report import window_bucket_seconds
from console.analytics.rollup import DAY, HOUR, MINUTE, REQUESTS, TOTALS, USERS, CellTable, RowArrays, cells_of_rows, concat
from console.analytics.rollup_report import RollupPart, exact_since
from console.analytics.windows import window_start
from console.config import Settings
from console.store import rollups, tail_reads
from console.store.day_dedup import days_term, window_days
from console.store.verdicts import _CURRENT, correction

def more_rows_than(store, since: float | None, limit: int) -> bool:
    """Whether more than `limit` rows have ts >= since: by the hour totals' counts from the
    hour holding `since` (at least as many) and from the next whole hour (at most as many;
    both exact when since is a whole hour; ~720 cells a month), else a walk of at most
    limit + 1 entries of the ts index from the newest (200,001 of them: 3-10 ms)."""
    if since is None:
        query, params = "SELECT coalesce(sum(requests), 0), coalesce(sum(requests), 0) FROM rollup_hours", ()
    else:
        first, whole = int(since // HOUR * HOUR), int(_ceil(since, HOUR))
        query = ("SELECT coalesce(sum(requests), 0), coalesce(sum(CASE WHEN bucket >= ? THEN requests END), 0) "
                 "FROM rollup_hours WHERE bucket >= ?")  # fmt: skip
        params = (whole, first)
    with store.read_connection() as conn:
        at_most, at_least = (int(count) for count in rollups.Db(conn).rows(query, params)[0])
    if at_least > limit or at_most <= limit:
        return at_least > limit
    return store.newest_ts(limit + 1, since) is not None


def _ceil(moment: float, span: int) -> float:
    return math.ceil(moment / span) * span


def load_merged(
    store, now: float, window: str, settings: Settings, processes: int = 1, tail_max_rows: int | None = None
) -> tuple[Columns, RollupPart, dict[str, int]]:
    """(the rows from exact_since, the window's part before it, the budgets' baselines in nano-dollars).

    tail_max_rows: when more rows than this are stored from exact_since on, only the newest
    of them (at most this many) are loaded and the rest of the tail is read as cells
    (console/store/tail_reads.py); None: every row of the tail."""
    since = exact_since(now, settings)
    if tail_max_rows is not None and more_rows_than(store, since, tail_max_rows):
        return _load_bounded(store, now, window, settings, processes, since, tail_max_rows)
    cols = store.load_columns(since, processes=processes)
    start = window_start(now, window)
    with store.read_connection() as conn:  # a SQLAlchemy connection, or the sqlite3 reader's
        part = RollupPart(exact_since=since)
        if start is None or start < since:
            part = _window_cells(store, conn, now, window, start, since)
        # every hour cell before `since` is in a whole window's part: its first appearances are
        # those cells' (rollups.first_seen's query, without reading the cells again)
        whole = start is None and part.cells.span in (HOUR, DAY) and len(part.cells)
        models, prompts = _first_seen_of(part.cells) if whole else rollups.first_seen(conn, since)
        cols.fold_first_seen(models, prompts)
        baselines = _baselines(store, conn, now, settings, since)
    return cols, part, baselines


def _load_bounded(
    store, now: float, window: str, settings: Settings, processes: int, since: float, bound: int
) -> tuple[Columns, RollupPart, dict[str, int]]:
    """load_merged over a tail of more than `bound` rows: the rows from rows_since (at most
    `bound`, none after now), the tail before them as cells, the window's part of them with
    its own part before `since`."""
    start = window_start(now, window)
    with store.read_connection() as conn:
        until, tail, in_window, users, window_from = tail_reads.load_tail(store, conn, now, start, settings, since, bound)
        cols = store.load_columns(until, before_ts=float(np.nextafter(now, np.inf)), processes=processes)
        tail_reads.order_as_the_tail(cols, tail.cells)
        part = RollupPart(exact_since=since)
        if start is None or start < since:
            part = _window_cells(store, conn, now, window, start, since, bound)
        label_delta = dict(part.label_delta)
        for key, (bad, rated) in _label_delta(conn, window_from, until).items():
            before = label_delta.get(key, (0, 0))
            label_delta[key] = (before[0] + bad, before[1] + rated)
        series = (part.cells,) if part.series is None else part.series
        part = RollupPart(
            exact_since=until, cells=_joined([part.cells, in_window], REQUESTS), series=(*series, in_window),
            users=_joined([part.users, users], USERS), label_delta=label_delta,
            tail=tail if until > since else None,  # every tail row up to now loaded: figures as without a bound
        )  # fmt: skip
        cols.fold_first_seen(*rollups.first_seen(conn, until))
        baselines = _baselines(store, conn, now, settings, since)
    return cols, part, baselines


def _first_seen_of(cells: CellTable) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """rollups.first_seen over exactly these cells: the first ts of every model and every
    (prompt_id, prompt_version)."""
    found = {}
    for dim in ("model", "prompt"):
        earliest = np.full(len(cells.names[dim]), np.inf)
        np.minimum.at(earliest, cells.codes[dim], cells.min_ts)
        found[dim] = earliest.tolist()
    models = {name: ts for name, ts in zip(cells.names["model"], found["model"]) if ts != np.inf}
    codes, cell = np.unique(cells.codes["prompt"], return_index=True)
    prompt_ids = cells.codes["prompt_id"][cell].tolist()
    prompts = {}
    for code, prompt_id in zip(codes.tolist(), prompt_ids):
        pid = cells.names["prompt_id"][prompt_id]
        prompts[(pid, cells.names["prompt"][code][len(pid) + 1 :])] = found["prompt"][code]
    return models, prompts


def _window_cells(
    store, conn, now: float, window: str, start: float | None, since: float, bound: int | None = None
) -> RollupPart:
    """The window's part before `since`: request cells of the sparkline's level (hours when its
    buckets are whole hours, the whole days among them as day cells; else minutes) and user
    cells (hours, days), the rows of a partial first hour (users; requests too at the hour
    level) or minute read and turned into cells."""
    first = start
    if first is None:
        oldest = rollups.oldest_ts(conn)
        first = now if oldest is None else min(oldest, now)
    level = HOUR if window_bucket_seconds(window, first, now) % HOUR == 0 else MINUTE
    requests: list[CellTable] = []
    users: list[CellTable] = []
    requests_from = users_from = None
    if start is not None:
        requests_from, users_from = min(_ceil(start, level), since), min(_ceil(start, HOUR), since)
    if level == MINUTE:  # minutes older than the store keeps (rollups.MINUTE_CELLS_KEPT_S): their rows
        complete_from = rollups.minutes_complete_from(conn)
        if complete_from is not None and (requests_from is None or complete_from > requests_from):
            requests_from = min(complete_from, since)
    edge_to = max((moment for moment in (requests_from, users_from) if moment is not None), default=None)
    if edge_to is not None and (start is None or start < edge_to):
        edge_requests, edge_users = _edge_cells(store, conn, start, edge_to, bound)
        if requests_from is not None:
            requests.append(edge_requests.take(edge_requests.bucket < requests_from))
        if users_from is not None:
            users.append(edge_users.take(edge_users.bucket < users_from))
    series: tuple[CellTable, ...] | None = None
    if level == HOUR:
        series = tuple(requests)  # the edge's cells
        for span, low, high in rollups.day_parts(requests_from, since):
            cells = rollups.read_cells(conn, REQUESTS, span, low, high)
            requests.append(cells)
            # a day cell's requests per hour: those hours' totals (the same sums and sketch entries)
            series += (rollups.read_cells(conn, TOTALS, HOUR, low, high) if span == DAY else cells,)
    else:
        requests.append(rollups.read_cells(conn, REQUESTS, level, requests_from, since))
    users.append(rollups.user_spend(conn, users_from, since))
    return RollupPart(
        exact_since=since, cells=_joined(requests, REQUESTS), users=_joined(users, USERS), series=series,
        label_delta=_label_delta(conn, requests_from, since),
    )  # fmt: skip


def _edge_cells(store, conn, start: float | None, edge_to: float, bound: int | None) -> tuple[CellTable, CellTable]:
    """(REQUESTS minute cells, USERS hour cells) of the rows in [start, edge_to), read `bound`
    rows at a time when bound is given (the cells of each read, side by side)."""
    if bound is None or start is None:
        return cells_of_rows(RowArrays.of_columns(store.load_columns(start, before_ts=edge_to)), MINUTE)
    requests, users = [], []
    for low, high in tail_reads.chunks(rollups.Db(conn), start, edge_to, bound):
        made = cells_of_rows(RowArrays.of_columns(store.load_columns(low, before_ts=high)), MINUTE)
        requests.append(made[0])
        users.append(made[1])
    return _joined(requests, REQUESTS), _joined(users, USERS)


def _joined(tables: list[CellTable], kind) -> CellTable:
    tables = [table for table in tables if len(table)]
    return concat(tables) if tables else CellTable.empty(kind, HOUR)


def _label_delta(conn, since: float | None, before: float) -> dict[str, tuple[int, int]]:
    """Per "id@version", how the labels on rows in [since, before) change the cells' (bad,
    rated) counts (cells count by feedback; a label is the truth, and rates its row)."""
    bounds, params = ("r.ts < ?", [before]) if since is None else ("r.ts < ? AND r.ts >= ?", [before, since])
    days = window_days(conn, since, before)
    if days is not None:  # the join seeks the window's days only (console/store/day_dedup.py)
        bounds += " AND " + days_term("?", "?")
        params += list(days)
    query = (
        f"SELECT r.prompt_id, r.prompt_version, r.feedback, v.verdict FROM ({_CURRENT}) v "
        f"JOIN requests r ON r.request_id = v.request_id WHERE {bounds}"
    )
    delta: dict[str, tuple[int, int]] = {}
    for prompt_id, version, feedback, verdict in rollups.Db(conn).rows(query, params):
        bad, rated = correction(feedback, verdict)
        if bad or rated:
            key = f"{prompt_id}@{version}"
            found = delta.get(key, (0, 0))
            delta[key] = (found[0] + bad, found[1] + rated)
    return delta


def _baselines(store, conn, now: float, settings: Settings, since: float) -> dict[str, int]:
    """Per budget whose period starts before `since`, its spend from then to `since` in
    nano-dollars: the day and hour cells within its scope, or for a budget scoped by user (user cells
    are not crossed with the other dimensions) the rows' sum in SQL."""
    starts = {budget.name: period_bounds(now, budget.period)[0] for budget in settings.budgets}
    early = [start for start in starts.values() if start < since]
    if not early:
        return {}
    baselines = {}
    for budget in settings.budgets:
        begin = starts[budget.name]
        if begin >= since:
            continue
        scope = budget_scope(budget)
        if "user_id" in scope:
            baselines[budget.name] = store.spend_nano_between(begin, since, scope)
            continue
        baselines[budget.name] = rollups.cost_nano_between(conn, begin, since, scope)  # model, prompt_id, environment
    return baselines
