"""What `compare` reads over a window above the exact path's limit: each arm's hour cells,
the rows at its edges, and the labels' corrections of the cells' bad and rated counts
(console/analytics/compare_sketch.py computes the comparison).

An arm covers [max(window start, after), before): the whole hours inside come from the hour
cells, the partial hours at either end from the rows (an arm without `before` takes the cells
to the newest, the open hour included, since every stored row is in a cell).
"""

from __future__ import annotations

import math

from sqlalchemy import text

from console.analytics.columns import Columns
from console.analytics.arm_spec import ArmSpec, arm_mask
from console.analytics.compare_sketch import ArmPart, cells_of_arm
from console.analytics.rollup import HOUR, REQUESTS, CellTable
from console.store import rollups
from console.store.day_dedup import days_bound
from console.store.verdicts import _CURRENT, correction


def _floor(moment: float) -> int:
    return int(moment // HOUR * HOUR)


def _ceil(moment: float) -> int:
    return int(math.ceil(moment / HOUR) * HOUR)


def arm_parts(store, since: float | None, specs: list[ArmSpec]) -> list[ArmPart]:
    """One ArmPart per spec (specs without `user`: the cells are not crossed with users)."""
    parts = []
    read: dict[tuple, CellTable] = {}
    with store.engine.connect() as conn:
        for spec in specs:
            starts = [moment for moment in (since, spec.after) if moment is not None]
            low = max(starts) if starts else None
            high = spec.before
            cells_from = None if low is None else _ceil(low)
            cells_to = None if high is None else _floor(high)
            if cells_from is not None and cells_to is not None and cells_to <= cells_from:
                cells_from = cells_to = None  # within an hour or two: rows only
                edges = [(low, high)]
                whole = False
            else:
                edges = [(low, cells_from)] if low is not None and low < cells_from else []
                if high is not None and cells_to < high:
                    edges.append((cells_to, high))
                whole = True
            cells = CellTable.empty(REQUESTS, HOUR)
            if whole:
                key = (cells_from, cells_to)
                if key not in read:
                    read[key] = rollups.read_cells(conn, REQUESTS, HOUR, cells_from, cells_to)
                cells = cells_of_arm(read[key], spec)
            rows = [store.load_columns(a, before_ts=b) for a, b in edges]
            for extra in rows[1:]:
                rows[0].extend(extra)
            cols = rows[0] if rows else Columns()
            mask = arm_mask(cols, spec)
            delta = _label_delta(conn, spec, cells_from, cells_to) if whole else (0, 0)
            parts.append(ArmPart(cells, cols, mask, delta))
    return parts


def _label_delta(conn, spec: ArmSpec, since: int | None, before: int | None) -> tuple[int, int]:
    """How the labels on the arm's rows in [since, before) change its cells' (bad, rated)
    counts (cells count by feedback; a label is the truth, and rates its row)."""
    bounds = [term for term, moment in (("r.ts >= :since", since), ("r.ts < :before", before)) if moment is not None]
    params: dict = {"since": since, "before": before}
    days = days_bound(conn, since, before, params)
    if days is not None:  # the join seeks the window's days only (console/store/day_dedup.py)
        bounds.append(days)
    where = f" WHERE {' AND '.join(bounds)}" if bounds else ""
    query = text(
        f"SELECT r.model, r.prompt_id, r.prompt_version, r.environment, r.feedback, v.verdict "
        f"FROM ({_CURRENT}) v JOIN requests r ON r.request_id = v.request_id{where}"
    )
    wanted = {"model": spec.model, "prompt_id": spec.prompt_id, "prompt_version": spec.prompt_version,
              "environment": spec.environment}  # fmt: skip
    bad = rated = 0
    for model, prompt_id, version, environment, feedback, verdict in conn.execute(query, params):
        found = {"model": model, "prompt_id": prompt_id, "prompt_version": version, "environment": environment}
        if any(value is not None and (found[name] or "").casefold() != value.casefold() for name, value in wanted.items()):
            continue
        change = correction(feedback, verdict)
        bad, rated = bad + change[0], rated + change[1]
    return bad, rated
