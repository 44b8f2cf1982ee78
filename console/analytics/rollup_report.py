"""A window's aggregates as a merge: exact rows for the recent part, rollup cells for the rest.

`build_report` takes a `RollupPart` when the window (or a budget's period) holds more rows than
loading them costs (console/commands/report.py decides): the rows from `exact_since` on are
loaded as columns (budget burn windows, alert onsets and the error spike look at them row by
row), and the window before that is read as rollup cells (console.analytics.rollup): whole
days, whole hours, whole minutes, and the rows of a partial first minute turned into cells
(the spend per hour and the p95 sparkline from cells of at most an hour: RollupPart.series,
the hour totals of the whole days). Counts, errors, bad, rated, tokens and spend are sums of
integers, so they are exactly what the rows would give; percentiles come from the merged
DDSketch sketches, within RELATIVE_ACCURACY (console.analytics.sketch), and the report says
so (Report.figures).

When the exact tail itself holds more rows than a report loads (store/window_report.py's
TAIL_MAX_ROWS), the rows start later (RollupPart.exact_since is where they do) and the tail
before them comes as cells (RollupPart.tail, console/analytics/tail_cells.py): the same exact
sums, onsets on the minute grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from console.analytics.aggregates import Batch, WindowAggregates, add_costs
from console.analytics.alerts import (
    MODEL_ERROR_ONSET_LOOKBACK, MODEL_ERROR_ONSET_WIDTH, SLO_ONSET_TAIL, SPIKE_ONSET_LOOKBACK,
    SPIKE_SECONDS,
)
from console.analytics.budget import longest_burn_window
from console.analytics.columns import Columns
from console.analytics.rollup import HOUR, REQUESTS, USERS, CellTable
from console.analytics.sketch import Entries, SketchGroups, keys_of
from console.analytics.tail_cells import TailCells
from console.config import Settings


@dataclass
class RollupPart:
    """The part of a window read from rollups (cols holds the rows from exact_since on)."""

    exact_since: float
    cells: CellTable = field(default_factory=lambda: CellTable.empty(REQUESTS, HOUR))  # the window before exact_since
    # the same requests in cells of at most an hour each, for the figures per hour or sparkline
    # bucket (any kind with bucket, cost_nano and a latency sketch): None when `cells` are;
    # with day cells in `cells`, the hour totals of those days and the other cells
    series: tuple[CellTable, ...] | None = None
    users: CellTable = field(default_factory=lambda: CellTable.empty(USERS, HOUR))
    # labels' corrections of the cells' (bad, rated) counts (cells count by feedback), by "id@version"
    label_delta: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # the exact tail held more rows than a report loads: exact_since is where the rows start,
    # the tail before it is these cells (console/analytics/tail_cells.py), the window's part
    # of them also in `cells`
    tail: TailCells | None = None

    @property
    def first_ts(self) -> float | None:
        return float(self.cells.min_ts.min()) if len(self.cells) else None


def exact_tail_seconds(settings: Settings) -> float:
    """How far back from now the figures need rows one by one: the budgets' longest burn
    window, the SLO onset's look-back, the error spike's, a failing model's onset's."""
    needed = max(SPIKE_ONSET_LOOKBACK + SPIKE_SECONDS, MODEL_ERROR_ONSET_LOOKBACK + MODEL_ERROR_ONSET_WIDTH)
    if settings.slos:
        needed = max(needed, SLO_ONSET_TAIL)
    longest = longest_burn_window(settings.budgets, settings.burn)
    return needed if longest is None else max(needed, longest)


def exact_since(now: float, settings: Settings) -> float:
    """Where the rows of a merged report start: the hour holding now - exact_tail_seconds."""
    return (now - exact_tail_seconds(settings)) // HOUR * HOUR


def _codes_in(cols: Columns, category: str, cells: CellTable, dim: str) -> np.ndarray:
    """The cells' dimension as codes of cols' category (names new to cols are added)."""
    table = cols.categories[category]
    mapping = np.array([table.code(name) for name in cells.names[dim]] or [0], np.int64)
    return mapping[cells.codes[dim]]


def merged_aggregates(
    cols: Columns, rows: np.ndarray | slice, bucket_seconds: int, part: RollupPart
) -> WindowAggregates:
    """The aggregates of cols' rows `rows` plus the part's cells: exact sums; latency groups
    as sketches when there are cells (exact sorted arrays otherwise)."""
    cells, users = part.cells, part.users
    if len(cells):  # the latency groups will be sketches: the rows' counters only, no sorts
        made = WindowAggregates(bucket_seconds)
        made._count(Batch(cols, rows), +1, cols)
    else:
        made = WindowAggregates.build(cols, rows, bucket_seconds)
    if len(users):
        user = _codes_in(cols, "user", users, "user")
        made.users.add(user, +1, len(cols.names("user")), cost=users.sums["cost_nano"].astype(np.float64),
                       priced=users.sums["priced"].astype(np.float64))  # fmt: skip
    if not len(cells):
        _apply_label_delta(made, cols, part.label_delta)
        return made
    model = _codes_in(cols, "model", cells, "model")
    prompt = _codes_in(cols, "prompt", cells, "prompt")
    prompt_id = _codes_in(cols, "prompt_id", cells, "prompt_id")
    prompt_hash = _codes_in(cols, "prompt_hash", cells, "prompt_hash")
    sums = {name: values.astype(np.float64) for name, values in cells.sums.items()}
    requests, priced = sums["requests"], sums["priced"]
    errors = requests * cells.codes["is_error"]
    made.requests += int(cells.sums["requests"].sum())
    made.errors += int(np.rint(errors.sum()))
    made.bad += int(cells.sums["bad"].sum())
    made.rated += int(cells.sums["rated"].sum())
    made.models.add(model, +1, len(cols.names("model")), requests=requests, errors=errors, priced=priced,
                    cost=sums["cost_nano"], unpriced=requests - priced, estimated=sums["estimated"],
                    estimated_cost=sums["estimated_cost_nano"])  # fmt: skip
    prompts = len(cols.names("prompt"))
    made.prompts.add(prompt, +1, prompts, requests=requests, errors=errors, bad=sums["bad"], rated=sums["rated"],
                     input_tokens=sums["input_tokens"], output_tokens=sums["output_tokens"], priced=priced,
                     cost=sums["cost_nano"])  # fmt: skip
    made.prompt_ids.add(prompt_id, +1, len(cols.names("prompt_id")), cost=sums["cost_nano"], priced=priced)
    _track_prompts(made, prompt, prompt_id, cells.max_ts, prompts)
    for (version, hashed), count in _pair_counts(prompt, prompt_hash, cells.sums["requests"]).items():
        made.hash_pairs[(version, hashed)] = made.hash_pairs.get((version, hashed), 0) + count
    series = (cells,) if part.series is None else part.series
    for table in series:  # cells of at most an hour: a bucket finer than theirs gets each cell whole, as p95's
        cost = table.sums["cost_nano"].astype(np.float64)
        add_costs(made.hour_cost, table.bucket // HOUR, cost)
        add_costs(made.bucket_cost, table.bucket // bucket_seconds, cost)
    _apply_label_delta(made, cols, part.label_delta)
    _merge_sketches(made, cols, rows, cells, model, prompt, series)
    return made


def _track_prompts(made: WindowAggregates, prompt: np.ndarray, prompt_id: np.ndarray, max_ts: np.ndarray, size: int) -> None:
    if len(made.prompt_id_of) < size:
        grow = size - len(made.prompt_id_of)
        made.prompt_id_of = np.concatenate([made.prompt_id_of, np.zeros(grow, np.int64)])
        made.prompt_last_seen = np.concatenate([made.prompt_last_seen, np.full(grow, -np.inf)])
    made.prompt_id_of[prompt] = prompt_id
    np.maximum.at(made.prompt_last_seen, prompt, max_ts)


def _pair_counts(prompt: np.ndarray, prompt_hash: np.ndarray, requests: np.ndarray) -> dict[tuple[int, int], int]:
    pairs = (prompt << 32) | prompt_hash
    unique, inverse = np.unique(pairs, return_inverse=True)
    counts = np.bincount(inverse.reshape(-1), weights=requests.astype(np.float64))
    return {(int(p >> 32), int(p & 0xFFFFFFFF)): int(round(c)) for p, c in zip(unique.tolist(), counts.tolist()) if c}


def _apply_label_delta(made: WindowAggregates, cols: Columns, delta: Mapping[str, tuple[int, int]]) -> None:
    for key, (bad, rated) in delta.items():
        code = cols.categories["prompt"].codes.get(key)
        if code is None or not (bad or rated):
            continue
        made.prompts.add(np.array([code]), +1, len(cols.names("prompt")), bad=np.array([float(bad)]),
                         rated=np.array([float(rated)]))  # fmt: skip
        made.bad += bad
        made.rated += rated


def _merge_sketches(
    made: WindowAggregates, cols: Columns, rows: np.ndarray | slice, cells: CellTable, model: np.ndarray,
    prompt: np.ndarray, series: tuple[CellTable, ...],
) -> None:
    """Every latency and TTFT group as the merge of the rows' sketch and the cells' (by
    sparkline bucket: the series' cells)."""
    latency, ttft, ts = cols.latency_ms[rows], cols.ttft_ms[rows], cols.ts[rows]
    row_model, row_prompt = cols.model[rows].astype(np.int64), cols.prompt[rows].astype(np.int64)
    size = made.bucket_seconds
    groupings = {
        "latency_by_model": (row_model, model, "latency_ms"),
        "latency_by_prompt": (row_prompt, prompt, "latency_ms"),
        "latency_by_bucket": (np.floor(ts / size).astype(np.int64), None, "latency_ms"),
        "ttft_by_model": (row_model, model, "ttft_ms"),
        "ttft_by_prompt": (row_prompt, prompt, "ttft_ms"),
    }
    # each row's sketch key once per measure (not once per grouping)
    keys = {}
    for measure, values in (("latency_ms", latency), ("ttft_ms", ttft)):
        fine = np.flatnonzero(~np.isnan(values))
        keys[measure] = (fine, keys_of(values[fine]))
    for attribute, (row_groups, cell_groups, measure) in groupings.items():
        fine, row_keys = keys[measure]
        row_entries = Entries.summed(row_groups[fine], row_keys, np.ones(len(fine), np.int64))
        if cell_groups is None:  # by sparkline bucket
            cell_entries = [table.sketches[measure].regroup(table.bucket // size) for table in series]
        else:
            cell_entries = [cells.sketches[measure].regroup(cell_groups)]
        entries = Entries.concat([row_entries, *cell_entries])
        setattr(made, attribute, SketchGroups(entries))
        if attribute.endswith("_by_model"):  # every row and cell has a model: the overall sketch is theirs merged
            overall = entries.regroup(np.zeros(int(entries.groups.max(initial=-1)) + 1, np.int64))
            setattr(made, attribute.removesuffix("_by_model"), SketchGroups(overall))
