"""Rollup cells: the requests of a minute, an hour or a day, counted per group, mergeable.

Three kinds of cell, each keyed by its time bucket (the bucket's first second; a minute, an hour
or a day) and text dimensions:

- REQUESTS: model × prompt (id@version) × prompt id × prompt hash × environment × error or
  not. Exact sums (requests, bad and rated by feedback, tokens, priced requests, spend in integer
  nano-dollars as every figure sums it), first and last ts, and DDSketch sketches of latency
  and TTFT (console.analytics.sketch).
- USERS: per hour and per day (UTC), user: requests, priced requests and spend, for the top
  spenders (users are many: per minute, and crossed with the other dimensions, these cells
  were about one per row on a log of 900 users at 0.4 requests/s).
- TOTALS: per hour, every request of it (no dimensions): requests, errors, spend, first and
  last ts, the latency sketch. A window's day cells (REQUESTS per UTC day) give its sums and
  sketches per model and version from ~24x fewer cells; its time series (spend per hour, the
  p95 sparkline) come from these (no figure is TTFT per hour: a third of their bytes saved).

Cells of the same key add up (`CellTable.grouped`), so an hour's cells are its minutes' merged
(`coarser`), and a window's figures are the merge of its cells. Everything is vectorised:
one `numpy.unique` over the stacked keys groups a batch however many rows it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from console.analytics.aggregates import cost_nano
from console.analytics.columns import Columns
from console.analytics.sketch import Entries

MINUTE, HOUR, DAY = 60, 3600, 86400


@dataclass(frozen=True)
class CellKind:
    dims: tuple[str, ...]  # text dimensions, as codes into names
    flags: tuple[str, ...]  # 0/1 dimensions
    sums: tuple[str, ...]
    extremes: bool  # min_ts / max_ts kept
    sketches: tuple[str, ...]


REQUESTS = CellKind(
    dims=("model", "prompt", "prompt_id", "prompt_hash", "environment"),
    flags=("is_error",),
    sums=("requests", "bad", "rated", "input_tokens", "output_tokens", "cached_input_tokens", "priced", "cost_nano",
          "estimated", "estimated_cost_nano"),
    extremes=True,
    sketches=("latency_ms", "ttft_ms"),
)
USERS = CellKind(
    dims=("user",),
    flags=(),
    sums=("requests", "priced", "cost_nano"),
    extremes=False,
    sketches=(),
)
TOTALS = CellKind(
    dims=(),
    flags=(),
    sums=("requests", "errors", "priced", "cost_nano"),
    extremes=True,
    sketches=("latency_ms",),
)


@dataclass
class CellTable:
    """Cells of one kind and span: one entry per cell in every array (sketch entries are
    grouped by cell index)."""

    kind: CellKind
    span: int
    bucket: np.ndarray  # int64, the bucket's first second
    codes: dict[str, np.ndarray]  # dims and flags -> int64 codes (flags: 0/1)
    names: dict[str, list[str]]  # dims -> names
    sums: dict[str, np.ndarray]  # int64
    min_ts: np.ndarray
    max_ts: np.ndarray
    sketches: dict[str, Entries]

    def __len__(self) -> int:
        return len(self.bucket)

    @classmethod
    def empty(cls, kind: CellKind, span: int) -> CellTable:
        none = np.zeros(0, np.int64)
        return cls(
            kind, span, none, {name: none for name in (*kind.dims, *kind.flags)}, {name: [] for name in kind.dims},
            {name: none for name in kind.sums}, np.zeros(0), np.zeros(0), {name: Entries.empty() for name in kind.sketches},
        )  # fmt: skip

    def grouped(self) -> CellTable:
        """Cells with equal keys merged (sums added, extremes widened, sketches merged),
        ordered by key."""
        if not len(self):
            return self
        return self._grouped_by(*self._grouping())

    def _grouping(self) -> tuple[np.ndarray, np.ndarray]:
        """(the distinct keys, sorted: bucket, dims, flags a row; each cell's row in them)."""
        kind = self.kind
        stacked = np.stack([self.bucket, *(self.codes[name] for name in (*kind.dims, *kind.flags))], axis=1)
        key = _row_keys(stacked)
        if key is None:
            unique, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
        else:  # the same cells in the same order, sorted as one int64 (a 2-D unique sorts rows as bytes: ~3x slower)
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            unique = stacked[first]
        return unique, inverse.reshape(-1)

    def _grouped_by(self, unique: np.ndarray, inverse: np.ndarray, sketches: dict[str, Entries] | None = None) -> CellTable:
        """grouped() of the keys _grouping found (sketches: the grouped ones, when made already)."""
        kind = self.kind
        count = len(unique)
        sums = {
            name: np.rint(np.bincount(inverse, weights=values.astype(np.float64), minlength=count)).astype(np.int64)
            for name, values in self.sums.items()
        }
        min_ts, max_ts = np.full(count, np.inf), np.full(count, -np.inf)
        if kind.extremes:
            np.minimum.at(min_ts, inverse, self.min_ts)
            np.maximum.at(max_ts, inverse, self.max_ts)
        codes = {name: unique[:, i + 1] for i, name in enumerate((*kind.dims, *kind.flags))}
        if sketches is None:
            sketches = {name: entries.regroup(inverse) for name, entries in self.sketches.items()}
        return CellTable(kind, self.span, unique[:, 0], codes, self.names, sums, min_ts, max_ts, sketches)

    def coarser(self, span: int) -> CellTable:
        """The same cells in buckets of `span` seconds (a multiple of this span), merged."""
        bucket = self.bucket // span * span
        return CellTable(
            self.kind, span, bucket, self.codes, self.names, self.sums, self.min_ts, self.max_ts, self.sketches
        ).grouped()

    def take(self, keep: np.ndarray) -> CellTable:
        """The cells where keep holds (a bool mask), in order."""
        rows = np.flatnonzero(keep)
        mapping = np.full(len(self), -1, np.int64)
        mapping[rows] = np.arange(len(rows))
        sketches = {}
        for name, entries in self.sketches.items():
            kept = mapping[entries.groups] >= 0
            sketches[name] = Entries(mapping[entries.groups[kept]], entries.keys[kept], entries.counts[kept])
        return CellTable(
            self.kind, self.span, self.bucket[rows], {n: c[rows] for n, c in self.codes.items()}, self.names,
            {n: s[rows] for n, s in self.sums.items()}, self.min_ts[rows], self.max_ts[rows], sketches,
        )  # fmt: skip

    def reordered(self, order: np.ndarray) -> CellTable:
        """The cells in `order` (a permutation of their indexes)."""
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        sketches = {}
        for name, entries in self.sketches.items():
            groups = rank[entries.groups]
            by = np.argsort(groups, kind="stable")  # each cell's keys stay sorted
            sketches[name] = Entries(groups[by], entries.keys[by], entries.counts[by])
        return CellTable(
            self.kind, self.span, self.bucket[order], {n: c[order] for n, c in self.codes.items()}, self.names,
            {n: s[order] for n, s in self.sums.items()}, self.min_ts[order], self.max_ts[order], sketches,
        )  # fmt: skip

    def labels(self, dim: str) -> np.ndarray:
        """The dimension's name for every cell (object array)."""
        return np.array(self.names[dim], dtype=object)[self.codes[dim]] if len(self) else np.zeros(0, object)


def _row_keys(stacked: np.ndarray) -> np.ndarray | None:
    """One int64 per row of non-negative codes (the first column any int64: ranked), ordered
    as the rows are lexicographically; None when the radices' product passes 2**62."""
    first_values, first_rank = np.unique(stacked[:, 0], return_inverse=True)
    radices = [len(first_values)] + [int(stacked[:, i].max()) + 1 for i in range(1, stacked.shape[1])]
    if min(int(stacked[:, 1:].min(initial=0)), 0) < 0 or np.prod([float(r) for r in radices]) >= 2.0**62:
        return None
    key = first_rank.reshape(-1).astype(np.int64)
    for i in range(1, stacked.shape[1]):
        key = key * radices[i] + stacked[:, i]
    return key


def totals(cells: CellTable) -> CellTable:
    """REQUESTS cells as TOTALS cells of the same buckets (every dimension merged)."""
    if not len(cells):
        return CellTable.empty(TOTALS, cells.span)
    sums = cells.sums
    made = {"requests": sums["requests"], "errors": sums["requests"] * cells.codes["is_error"],
            "priced": sums["priced"], "cost_nano": sums["cost_nano"]}  # fmt: skip
    sketches = {"latency_ms": cells.sketches["latency_ms"]}
    return CellTable(TOTALS, cells.span, cells.bucket, {}, {}, made, cells.min_ts, cells.max_ts, sketches).grouped()


def concat(tables: Sequence[CellTable]) -> CellTable:
    """Tables of one kind and span together, names merged (not grouped)."""
    tables = [table for table in tables if len(table)]
    if not tables:
        raise ValueError("concat needs at least one non-empty table")
    if len(tables) == 1:
        return tables[0]
    first = tables[0]
    kind = first.kind
    codes: dict[str, np.ndarray] = {}
    names: dict[str, list[str]] = {}
    for dim in kind.dims:
        merged: dict[str, int] = {}
        parts = []
        for table in tables:
            mapping = np.array([merged.setdefault(name, len(merged)) for name in table.names[dim]], np.int64)
            parts.append(mapping[table.codes[dim]])
        codes[dim], names[dim] = np.concatenate(parts), list(merged)
    for flag in kind.flags:
        codes[flag] = np.concatenate([table.codes[flag] for table in tables])
    offsets = np.cumsum([0] + [len(table) for table in tables[:-1]]).tolist()
    sketches = {}
    for name in kind.sketches:
        # each table's entries sorted by (group, key), its groups past the tables' before: so are
        # they all, as they are (Entries.concat's sort of them took 5 ms of a 1M-row report)
        parts = [table.sketches[name] for table in tables]
        sketches[name] = Entries(
            np.concatenate([part.groups + offset for part, offset in zip(parts, offsets)]),
            np.concatenate([part.keys for part in parts]), np.concatenate([part.counts for part in parts]),
        )  # fmt: skip
    return CellTable(
        kind, first.span, np.concatenate([t.bucket for t in tables]), codes, names,
        {name: np.concatenate([t.sums[name] for t in tables]) for name in kind.sums},
        np.concatenate([t.min_ts for t in tables]), np.concatenate([t.max_ts for t in tables]), sketches,
    )  # fmt: skip


def merged(tables: Sequence[CellTable], kind: CellKind, span: int) -> CellTable:
    tables = [table for table in tables if len(table)]
    return concat(tables).grouped() if tables else CellTable.empty(kind, span)


# -- cells of rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RowArrays:
    """Rows as the cells need them: numbers, and text as codes into names (prompt is
    "id@version")."""

    ts: np.ndarray
    latency_ms: np.ndarray
    ttft_ms: np.ndarray
    cost_usd: np.ndarray
    estimated_cost_usd: np.ndarray  # NaN unless the usage was only estimated (console.records)
    is_error: np.ndarray
    is_bad: np.ndarray
    is_rated: np.ndarray  # a label, or unlabelled a feedback value: the denominator of a bad rate
    tokens: Mapping[str, np.ndarray]  # input_tokens, output_tokens, cached_input_tokens
    codes: Mapping[str, np.ndarray]  # model, prompt, prompt_id, prompt_hash, environment, user
    names: Mapping[str, list[str]]

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def of_columns(cls, cols: Columns, rows: np.ndarray | slice = slice(None)) -> RowArrays:
        """The rows of a Columns (with its verdicts: is_bad and is_rated as loaded)."""
        dims = ("model", "prompt", "prompt_id", "prompt_hash", "environment", "user")
        return cls(
            ts=cols.ts[rows], latency_ms=cols.latency_ms[rows], ttft_ms=cols.ttft_ms[rows], cost_usd=cols.cost_usd[rows],
            estimated_cost_usd=cols.estimated_cost_usd[rows],
            is_error=cols.is_error[rows], is_bad=cols.is_bad[rows], is_rated=cols.is_rated[rows],
            tokens={name: getattr(cols, name)[rows] for name in ("input_tokens", "output_tokens", "cached_input_tokens")},
            codes={dim: getattr(cols, dim)[rows] for dim in dims}, names={dim: cols.names(dim) for dim in dims},
        )  # fmt: skip


def prompt_keys(id_codes: np.ndarray, id_names: list[str], version_codes: np.ndarray, version_names: list[str]):
    """(codes, names) of "id@version" from the two columns' codes."""
    if not len(id_codes):
        return np.zeros(0, np.int64), []
    pairs = id_codes.astype(np.int64) * (len(version_names) + 1) + version_codes
    unique, inverse = np.unique(pairs, return_inverse=True)
    width = len(version_names) + 1
    names = [f"{id_names[p // width]}@{version_names[p % width]}" for p in unique.tolist()]
    return inverse.reshape(-1).astype(np.int64), names


def cells_of_rows(rows: RowArrays, span: int = MINUTE) -> tuple[CellTable, CellTable]:
    """(REQUESTS cells in buckets of `span` seconds, USERS cells per hour) of the rows."""
    count = len(rows)
    if not count:
        return CellTable.empty(REQUESTS, span), CellTable.empty(USERS, span)
    bucket = (np.floor(rows.ts / span) * span).astype(np.int64)
    priced, nano = cost_nano(rows.cost_usd)
    estimated, estimated_nano = cost_nano(rows.estimated_cost_usd)
    ones = np.ones(count, np.int64)
    codes = {dim: np.asarray(rows.codes[dim], np.int64) for dim in rows.codes}
    ungrouped = CellTable(
        REQUESTS, span, bucket,
        {**{dim: codes[dim] for dim in REQUESTS.dims}, "is_error": rows.is_error.astype(np.int64)},
        {dim: list(rows.names[dim]) for dim in REQUESTS.dims},
        {"requests": ones, "bad": rows.is_bad.astype(np.int64), "rated": rows.is_rated.astype(np.int64),
         "priced": priced.astype(np.int64), "cost_nano": nano,
         "estimated": estimated.astype(np.int64), "estimated_cost_nano": estimated_nano,
         **{name: np.asarray(values, np.int64) for name, values in rows.tokens.items()}},
        rows.ts, rows.ts, {},
    )  # fmt: skip
    # the sketches counted into the cells at once: the entries a sketch of each row regrouped
    # would give (the same sorted, summed entries), with one sum of them instead of two
    unique, cell = ungrouped._grouping()
    sketches = {"latency_ms": Entries.of_values(cell, rows.latency_ms), "ttft_ms": Entries.of_values(cell, rows.ttft_ms)}
    requests = ungrouped._grouped_by(unique, cell, sketches)
    return requests, user_cells(rows.ts, codes["user"], rows.names["user"], priced, nano)


def user_cells(ts: np.ndarray, user: np.ndarray, names: list[str], priced: np.ndarray, nano: np.ndarray) -> CellTable:
    """USERS cells per hour of rows (their ts, user codes, and cost_nano's priced and nano)."""
    return CellTable(
        USERS, HOUR, (np.floor(ts / HOUR) * HOUR).astype(np.int64), {"user": np.asarray(user, np.int64)}, {"user": list(names)},
        {"requests": np.ones(len(ts), np.int64), "priced": priced.astype(np.int64), "cost_nano": nano},
        np.zeros(0), np.zeros(0), {},
    ).grouped()  # fmt: skip

