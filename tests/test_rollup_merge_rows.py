"""A batch's cells merged with the stored cells of their keys (console/store/rollup_cells.py
`merged_cells`) give the SQL rows, in the order, of the whole merge they replace: every cell
regrouped with the stored ones (`merged([stored, cells])`), so the store's cells and their
ids stay as they were."""

from __future__ import annotations

import random

import numpy as np
import pytest

from console.analytics.rollup import DAY, HOUR, MINUTE, RowArrays, cells_of_rows, merged, totals
from console.store.rollup_cells import COLUMNS, _key_columns, _sql_rows, cell_table, merged_cells


def _rows(rng: random.Random, count: int, start: float, spread: float, names: dict[str, list[str]]) -> RowArrays:
    def coded(dim: str) -> tuple[np.ndarray, list[str]]:
        picked = [rng.choice(names[dim]) for _ in range(count)]
        order = list(dict.fromkeys(picked))
        return np.array([order.index(name) for name in picked], np.int64), order

    codes, text = {}, {}
    for dim in ("model", "prompt_id", "prompt_version", "prompt_hash", "environment", "user"):
        codes[dim], text[dim] = coded(dim)
    from console.analytics.rollup import prompt_keys

    codes["prompt"], text["prompt"] = prompt_keys(codes["prompt_id"], text["prompt_id"], codes["prompt_version"], text["prompt_version"])
    del codes["prompt_version"], text["prompt_version"]
    ts = np.sort(np.array([start + rng.uniform(0, spread) for _ in range(count)]))
    latency = np.array([rng.choice([0.0, rng.uniform(1, 5000)]) for _ in range(count)])
    ttft = np.array([rng.choice([np.nan, rng.uniform(1, 900)]) for _ in range(count)])
    cost = np.array([rng.choice([np.nan, rng.uniform(0, 0.05)]) for _ in range(count)])
    return RowArrays(
        ts=ts, latency_ms=latency, ttft_ms=ttft, cost_usd=cost, estimated_cost_usd=np.full(count, np.nan),
        is_error=np.array([rng.random() < 0.2 for _ in range(count)]), is_bad=np.zeros(count, np.bool_),
        is_rated=np.zeros(count, np.bool_),
        tokens={name: np.array([rng.randrange(500) for _ in range(count)]) for name in ("input_tokens", "output_tokens", "cached_input_tokens")},
        codes=codes, names=text,
    )  # fmt: skip


def _kinds(rows: RowArrays):
    minute, users = cells_of_rows(rows, MINUTE)
    hour = minute.coarser(HOUR)
    return {"minute": minute, "hour": hour, "day": hour.coarser(DAY), "totals": totals(hour),
            "users": users, "user_days": users.coarser(DAY)}  # fmt: skip


def _whole_merge(cells, found):
    """What _merge_into did before merged_cells: every cell regrouped with the stored ones of its keys."""
    kind = cells.kind
    keys = _key_columns(cells)
    touched, at = set(zip(*keys)), COLUMNS[kind].index("bucket") + 1
    found = [row for row in found if row[at : at + len(keys)] in touched]
    if not found:
        return None
    whole = merged([cell_table(kind, cells.span, [row[1:] for row in found]), cells], kind, cells.span)
    return [row[0] for row in found], _sql_rows(whole)


def _plain(rows):
    return [tuple(bytes(v) if isinstance(v, bytearray) else v for v in row) for row in rows]


@pytest.mark.parametrize("seed", range(16))
def test_merged_cells_are_the_whole_merges_rows_in_its_order(seed):
    rng = random.Random(seed)
    names = {
        "model": ["gpt-4o", "claude", "m3", "(none)", ""], "prompt_id": ["a", "b", "a@x", ""],
        "prompt_version": ["1", "2", "x@1"], "prompt_hash": ["h1", "h2", ""], "environment": ["prod", "", "dev"],
        "user": [f"u{i}" for i in range(rng.choice([3, 40]))],
    }  # fmt: skip
    start = 1_792_584_000 + rng.randrange(0, 2 * DAY)
    # stored: an earlier batch overlapping this one's first hours (names in another order, some only there)
    stored_names = {dim: rng.sample(values, len(values)) for dim, values in names.items()}
    spread = rng.choice([20 * MINUTE, 3 * HOUR])
    before = _kinds(_rows(rng, rng.choice([5, 60, 400]), start - rng.choice([0, 10 * MINUTE, HOUR]), spread, stored_names))
    batch = _kinds(_rows(rng, rng.choice([1, 50, 700]), start, spread, names))
    for kind_name, cells in batch.items():
        stored = before[kind_name]
        found = [(1000 + i, *row) for i, row in enumerate(_plain(_sql_rows(stored)))]
        rng.shuffle(found)  # as the stored rows come back from the query
        expected = _whole_merge(cells, found)
        got = merged_cells(cells, found)
        if expected is None:
            assert got is None
            continue
        assert got[0] == expected[0]
        assert _plain(_sql_rows(got[1])) == _plain(expected[1])
