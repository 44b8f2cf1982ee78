"""Rollup cells as the SQL rows of their tables, and back: the columns each kind stores,
a CellTable's rows to insert (`sql_columns`), a CellTable of rows read (`cell_table`), and a batch's
cells merged with the stored cells of their keys (`merged_cells`). Used by console.store.rollups.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from console.analytics.rollup import REQUESTS, TOTALS, USERS, CellKind, CellTable, concat, merged, prompt_keys
from console.analytics.sketch import Entries
from console.store.text_codes import JointCodes

_REQUEST_COLUMNS = (
    "span", "bucket", "model", "prompt_id", "prompt_version", "prompt_hash", "environment", "is_error",
    *REQUESTS.sums, "min_ts", "max_ts", "latency", "ttft",
)  # fmt: skip
_USER_COLUMNS = ("span", "bucket", "user_id", *USERS.sums)
_TOTAL_COLUMNS = ("bucket", *TOTALS.sums, "min_ts", "max_ts", "latency")  # hours only: no span
TABLE = {REQUESTS: "rollups", USERS: "rollup_users", TOTALS: "rollup_hours"}
COLUMNS = {REQUESTS: _REQUEST_COLUMNS, USERS: _USER_COLUMNS, TOTALS: _TOTAL_COLUMNS}


# -- cells <-> SQL rows ------------------------------------------------------------------------


def _key_columns(cells: CellTable) -> list[list]:
    """Each cell's key as COLUMNS[kind] stores it (bucket, texts, error flag: one run of them)."""
    buckets = cells.bucket.tolist()
    if cells.kind is TOTALS:
        return [buckets]
    if cells.kind is USERS:
        return [buckets, cells.labels("user").tolist()]
    models, prompt_ids, hashes, environments = (
        cells.labels(dim).tolist() for dim in ("model", "prompt_id", "prompt_hash", "environment")
    )
    return [buckets, models, prompt_ids, _versions(cells), hashes, environments, cells.codes["is_error"].tolist()]


def _versions(cells: CellTable) -> list[str]:
    """Each cell's prompt version: its prompt ("id@version") less its prompt id and the @,
    cut once a distinct (prompt, prompt id) pair, not once a cell."""
    if not len(cells):
        return []
    ids, prompts = cells.names["prompt_id"], cells.names["prompt"]
    width = len(ids) + 1
    pairs, cell = np.unique(cells.codes["prompt"].astype(np.int64) * width + cells.codes["prompt_id"], return_inverse=True)
    cut = np.empty(len(pairs), object)
    cut[:] = [prompts[pair // width][len(ids[pair % width]) + 1 :] for pair in pairs.tolist()]
    return cut[cell.reshape(-1)].tolist()


def sql_columns(cells: CellTable) -> list[list]:
    """The cells' SQL rows (COLUMNS[kind]) column by column."""
    kind, count = cells.kind, len(cells)
    sums = [cells.sums[name].tolist() for name in kind.sums]
    keys = _key_columns(cells)
    spans = [] if kind is TOTALS else [[cells.span] * count]
    if kind is USERS:
        return [*spans, *keys, *sums]
    # latency (and ttft) sketches, as bytearrays: sqlite3 binds those at once, while bytes go
    # through its adapter lookup first (~0.9 us a value; the same BLOB stored)
    blobs = [cells.sketches[name].encode(count, bytearray) for name in kind.sketches]
    return [*spans, *keys, *sums, cells.min_ts.tolist(), cells.max_ts.tolist(), *blobs]


def _sql_rows(cells: CellTable) -> list[tuple]:
    """The cells' SQL rows (COLUMNS[kind]), a tuple each (zip of whole columns: made in C)."""
    return list(zip(*sql_columns(cells)))


_TEXTS = ("model", "prompt_id", "prompt_version", "prompt_hash", "environment", "user_id")
_BLOBS = ("latency", "ttft")
_FLOATS = ("min_ts", "max_ts")


class CellRowsGathered:
    """A CellTable's columns gathered from SQL rows a chunk at a time: numbers as arrays, sketch
    blobs joined (one buffer a chunk), and the texts coded together (console.store.text_codes:
    ~2x faster over the 1M store's hour cells than a pass per text), each by first appearance
    over every row, as one pass per text codes it."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = names
        self.texts = [name for name in names if name in _TEXTS]
        self.coded = JointCodes(len(self.texts), np.int64)
        self.parts: dict[str, list] = {name: [] for name in names}
        self.count = 0

    def add(self, rows: list[tuple]) -> None:
        count = len(rows)
        texts = []
        for name, values in zip(self.names, zip(*rows)):
            if name in _TEXTS:
                texts.append(values)
                continue
            if name in _BLOBS:
                values = [blob or b"" for blob in values] if None in values else values
                made = (b"".join(values), np.fromiter(map(len, values), np.int64, count))
            elif name == "span":
                continue
            else:
                made = np.fromiter(values, np.float64 if name in _FLOATS else np.int64, count)
            self.parts[name].append(made)
        if texts:
            self.coded.add(texts, count)
        self.count += count

    def _column(self, name: str) -> np.ndarray:
        parts = self.parts[name]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _coded(self, name: str) -> tuple[np.ndarray, list[str]]:
        """A text's codes (by first appearance) and names."""
        return self.coded.codes(self.texts.index(name))

    def _sketch(self, name: str) -> Entries:
        parts = self.parts[name]
        return Entries.of_blobs(b"".join(part[0] for part in parts), np.concatenate([part[1] for part in parts]))

    def table(self, kind: CellKind, span: int) -> CellTable:
        """The CellTable of every row added, in order (what one pass over them all made)."""
        count = self.count
        if not count:
            return CellTable.empty(kind, span)
        sums = {name: self._column(name) for name in kind.sums}
        bucket = self._column("bucket")
        codes, names = {}, {}
        if kind is USERS:
            codes["user"], names["user"] = self._coded("user_id")
            return CellTable(kind, span, bucket, codes, names, sums, np.full(count, np.inf), np.full(count, -np.inf), {})
        sketches = {name: self._sketch(name.removesuffix("_ms")) for name in kind.sketches}  # latency_ms: latency
        if kind is TOTALS:
            return CellTable(kind, span, bucket, codes, names, sums, self._column("min_ts"), self._column("max_ts"), sketches)
        for dim in ("model", "prompt_id", "prompt_hash", "environment"):
            codes[dim], names[dim] = self._coded(dim)
        version_codes, version_names = self._coded("prompt_version")
        codes["prompt"], names["prompt"] = prompt_keys(codes["prompt_id"], names["prompt_id"], version_codes, version_names)
        codes["is_error"] = self._column("is_error")
        return CellTable(kind, span, bucket, codes, names, sums, self._column("min_ts"), self._column("max_ts"), sketches)


def cell_table(kind: CellKind, span: int, rows: list[tuple], names: Sequence[str] | None = None) -> CellTable:
    """A CellTable of SQL rows in COLUMNS[kind] order (or `names`' order)."""
    gathered = CellRowsGathered(COLUMNS[kind] if names is None else names)
    if rows:
        gathered.add(rows)
    return gathered.table(kind, span)


# -- a batch's cells merged with the stored ones ------------------------------------------------


def merged_cells(cells: CellTable, found: list[tuple]) -> tuple[list[int], CellTable] | None:
    """(the ids of the stored rows to replace, the cells to insert for them and the batch's)
    when some of `found` (stored rows in the cells' buckets: id, then COLUMNS[kind]) share a
    key with a cell; None when none does (the cells go in as they are).

    The cells are those of `merged([stored, cells])`, in its order, but only the cells of the
    keys found are merged: the batch's other cells (all of them but a bucket or two at its
    edge in a bulk load) are already grouped, and are placed among the merged ones by the
    order that merge sorts by (bucket, then each dimension coded by first appearance over the
    stored rows, then the cells). Regrouping every cell's sketch entries with the few stored
    ones was a fifth of the rollups' time in a bulk load."""
    kind = cells.kind
    at = COLUMNS[kind].index("bucket") + 1
    near = np.isin(cells.bucket, np.fromiter({row[at] for row in found}, np.int64))  # only these can share a key
    if not near.any():
        return None
    near_keys = list(zip(*_key_columns(cells.take(near))))
    width = len(near_keys[0])
    touched = set(near_keys)
    found = [row for row in found if row[at : at + width] in touched]
    if not found:
        return None
    stored_keys = {row[at : at + width] for row in found}
    hit = np.zeros(len(cells), np.bool_)
    hit[near] = np.fromiter((key in stored_keys for key in near_keys), np.bool_, len(near_keys))
    stored = cell_table(kind, cells.span, [row[1:] for row in found])
    joined = merged([stored, cells.take(hit)], kind, cells.span)
    others = np.flatnonzero(~hit)
    order = _merge_order(stored, cells, joined, others)
    return [row[0] for row in found], concat([joined, cells.take(~hit)]).reordered(order)


def _merge_order(stored: CellTable, cells: CellTable, joined: CellTable, others: np.ndarray) -> np.ndarray:
    """The order of joined's cells then cells[others] as merged([stored, cells]) would have
    them: by bucket, then each dimension's code in concat's coding (stored's names, then
    the cells'), then each flag (the keys are distinct: a total order)."""
    kind = cells.kind
    columns = [np.concatenate([joined.bucket, cells.bucket[others]])]
    for dim in kind.dims:
        coding: dict[str, int] = {}
        for name in (*stored.names[dim], *cells.names[dim]):
            coding.setdefault(name, len(coding))
        ranks = [np.array([coding[name] for name in table.names[dim]], np.int64) for table in (joined, cells)]
        columns.append(np.concatenate([ranks[0][joined.codes[dim]], ranks[1][cells.codes[dim][others]]]))
    for flag in kind.flags:
        columns.append(np.concatenate([joined.codes[flag], cells.codes[flag][others]]))
    return np.lexsort(columns[::-1])
