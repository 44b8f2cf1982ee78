"""Everything a window's report needs that costs more than a glance: built once, then kept.

`WindowAggregates` holds, for the rows inside one window:

- counters per model, per prompt version, per prompt id and per user (requests, errors,
  bad, rated, tokens, priced requests, spend), and spend per hour;
- the latencies and TTFTs sorted, overall, per model, per version and per sparkline bucket
  (`SortedGroups`), so exact percentiles are read, not recomputed;
- the (version, prompt_hash) pairs seen, for drift.

It is built from scratch by one vectorised pass (`build`), or kept up to date as rows enter
and leave the window (`add_rows` / `remove_rows`, see console/analytics/live.py). Money is
summed in integer nano-dollars: sums of integers do not depend on the order rows were added
or removed in, so an incrementally kept aggregate and a fresh one give the same figures,
to the last bit. Rounding each cost to 1e-9 USD changes no figure anyone reads.
"""

from __future__ import annotations

import numpy as np

from console.analytics.columns import Columns
from console.analytics.quantiles import SortedGroups

NANO = 1e9  # nano-dollars per dollar

# estimated / estimated_cost: requests whose usage is only estimated, and that estimate's spend
# (Columns.estimated_cost_usd), never in cost
_MODEL_COUNTERS = ("requests", "errors", "priced", "cost", "unpriced", "estimated", "estimated_cost")
# rated: requests with a label or feedback (Columns.is_rated), the denominator of a bad rate
_PROMPT_COUNTERS = ("requests", "errors", "bad", "rated", "input_tokens", "output_tokens", "priced", "cost")


def cost_nano(cost_usd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(priced mask, cost in integer nano-dollars, 0 where unpriced)."""
    priced = ~np.isnan(cost_usd)
    nano = np.rint(np.where(priced, cost_usd, 0.0) * NANO).astype(np.int64)
    return priced, nano


class Counters:
    """Named int64 arrays indexed by a category code, growing with the category."""

    __slots__ = ("arrays",)

    def __init__(self, names: tuple[str, ...]) -> None:
        self.arrays = {name: np.zeros(0, np.int64) for name in names}

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def add(self, codes: np.ndarray, sign: int, size: int, **weights: np.ndarray | None) -> None:
        size = max(size, int(codes.max()) + 1 if len(codes) else 0)
        for name, weight in weights.items():
            if weight is None:
                counts = np.bincount(codes, minlength=size)
            elif weight.dtype == np.bool_:
                counts = np.bincount(codes[weight], minlength=size)  # rows where it holds
            else:
                counts = np.bincount(codes, weights=weight, minlength=size)
            if counts.dtype != np.int64:
                counts = np.rint(counts).astype(np.int64)  # integer sums, exact below 2**53
            current = self.arrays[name]
            if len(current) < size:
                current = np.concatenate([current, np.zeros(size - len(current), np.int64)])
            current[: len(counts)] += counts if sign > 0 else -counts
            self.arrays[name] = current


class Batch:
    """The columns of some rows, gathered once."""

    def __init__(self, cols: Columns, rows: np.ndarray | slice) -> None:
        self.ts = cols.ts[rows]
        self.latency = cols.latency_ms[rows]
        self.ttft = cols.ttft_ms[rows]
        self.model = cols.model[rows]
        self.prompt = cols.prompt[rows]
        self.prompt_id = cols.prompt_id[rows]
        self.user = cols.user[rows]
        self.prompt_hash = cols.prompt_hash[rows]
        self.is_error = cols.is_error[rows]
        self.is_bad = cols.is_bad[rows]
        self.is_rated = cols.is_rated[rows]
        self.input_tokens = cols.input_tokens[rows]
        self.output_tokens = cols.output_tokens[rows]
        self.priced, self.cost = cost_nano(cols.cost_usd[rows])
        self.estimated, self.estimated_cost = cost_nano(cols.estimated_cost_usd[rows])

    def __len__(self) -> int:
        return len(self.ts)


def add_costs(table: dict[int, int], keys: np.ndarray, cost: np.ndarray, sign: int = 1) -> None:
    """Nano-dollars summed per key (an hour, a sparkline bucket) into `table`."""
    unique, inverse = np.unique(keys, return_inverse=True)
    sums = np.rint(np.bincount(inverse.reshape(-1), weights=cost)).astype(np.int64)
    for key, total in zip(unique.tolist(), sums.tolist()):
        table[key] = table.get(key, 0) + sign * total


class WindowAggregates:
    """The aggregates of the rows in one window (see the module docstring)."""

    def __init__(self, bucket_seconds: int) -> None:
        self.bucket_seconds = bucket_seconds
        self.requests = 0
        self.errors = 0
        self.bad = 0
        self.rated = 0
        self.models = Counters(_MODEL_COUNTERS)
        self.prompts = Counters(_PROMPT_COUNTERS)
        self.prompt_ids = Counters(("cost", "priced"))
        self.users = Counters(("cost", "priced"))
        self.prompt_last_seen = np.full(0, -np.inf)
        self.prompt_id_of = np.zeros(0, np.int64)  # prompt version code -> prompt id code
        self.hash_pairs: dict[tuple[int, int], int] = {}  # (version code, hash code) -> rows
        self.hour_cost: dict[int, int] = {}  # epoch hour -> nano-dollars
        self.bucket_cost: dict[int, int] = {}  # sparkline bucket -> nano-dollars (a 1h window's spend chart)
        self.latency = SortedGroups()
        self.latency_by_model = SortedGroups()
        self.latency_by_prompt = SortedGroups()
        self.latency_by_bucket = SortedGroups()
        self.ttft = SortedGroups()
        self.ttft_by_model = SortedGroups()
        self.ttft_by_prompt = SortedGroups()

    # -- building ------------------------------------------------------------------------

    @classmethod
    def build(cls, cols: Columns, rows: np.ndarray | slice, bucket_seconds: int) -> WindowAggregates:
        """From scratch: one sort of the latencies (and of the TTFTs) serves every grouping."""
        made = cls(bucket_seconds)
        batch = Batch(cols, rows)
        made._count(batch, +1, cols)
        if len(batch):
            order = np.argsort(batch.latency)
            ordered = batch.latency[order]
            made.latency = SortedGroups({0: ordered})
            made.latency_by_model = SortedGroups.build(batch.model, ordered, order)
            made.latency_by_prompt = SortedGroups.build(batch.prompt, ordered, order)
            made.latency_by_bucket = SortedGroups.build(made._buckets(batch.ts), ordered, order)
            timed = np.flatnonzero(~np.isnan(batch.ttft))
            if len(timed):
                ttft = batch.ttft[timed]
                order = np.argsort(ttft)
                ordered = ttft[order]
                made.ttft = SortedGroups({0: ordered})
                made.ttft_by_model = SortedGroups.build(batch.model[timed], ordered, order)
                made.ttft_by_prompt = SortedGroups.build(batch.prompt[timed], ordered, order)
        return made

    def add_rows(self, cols: Columns, rows: np.ndarray) -> None:
        self._update(cols, rows, +1)

    def remove_rows(self, cols: Columns, rows: np.ndarray) -> None:
        """Rows that leave the window; they must have been added (or built) before."""
        self._update(cols, rows, -1)

    def _update(self, cols: Columns, rows: np.ndarray, sign: int) -> None:
        if not len(rows):
            return
        batch = Batch(cols, rows)
        self._count(batch, sign, cols)
        zeros = np.zeros(len(batch), np.int64)
        timed = ~np.isnan(batch.ttft)
        ttft, ttft_models, ttft_prompts = batch.ttft[timed], batch.model[timed], batch.prompt[timed]
        if sign > 0:
            self.latency.add(zeros, batch.latency)
            self.latency_by_model.add(batch.model, batch.latency)
            self.latency_by_prompt.add(batch.prompt, batch.latency)
            self.latency_by_bucket.add(self._buckets(batch.ts), batch.latency)
            self.ttft.add(zeros[: len(ttft)], ttft)
            self.ttft_by_model.add(ttft_models, ttft)
            self.ttft_by_prompt.add(ttft_prompts, ttft)
        else:
            self.latency.remove(zeros, batch.latency)
            self.latency_by_model.remove(batch.model, batch.latency)
            self.latency_by_prompt.remove(batch.prompt, batch.latency)
            self.latency_by_bucket.remove(self._buckets(batch.ts), batch.latency)
            self.ttft.remove(zeros[: len(ttft)], ttft)
            self.ttft_by_model.remove(ttft_models, ttft)
            self.ttft_by_prompt.remove(ttft_prompts, ttft)

    def _buckets(self, ts: np.ndarray) -> np.ndarray:
        return np.floor(ts / self.bucket_seconds).astype(np.int64)

    def _count(self, batch: Batch, sign: int, cols: Columns) -> None:
        if not len(batch):
            return
        self.requests += sign * len(batch)
        self.errors += sign * int(batch.is_error.sum())
        self.bad += sign * int(batch.is_bad.sum())
        self.rated += sign * int(batch.is_rated.sum())
        models = len(cols.names("model"))
        self.models.add(
            batch.model, sign, models, requests=None, errors=batch.is_error, priced=batch.priced,
            cost=batch.cost.astype(np.float64), unpriced=~batch.priced,
            estimated=batch.estimated, estimated_cost=batch.estimated_cost.astype(np.float64),
        )  # fmt: skip
        prompts = len(cols.names("prompt"))
        self.prompts.add(
            batch.prompt, sign, prompts, requests=None, errors=batch.is_error, bad=batch.is_bad,
            rated=batch.is_rated, input_tokens=batch.input_tokens.astype(np.float64),
            output_tokens=batch.output_tokens.astype(np.float64),
            priced=batch.priced, cost=batch.cost.astype(np.float64),
        )  # fmt: skip
        cost = batch.cost.astype(np.float64)
        self.prompt_ids.add(batch.prompt_id, sign, len(cols.names("prompt_id")), cost=cost, priced=batch.priced)
        self.users.add(batch.user, sign, len(cols.names("user")), cost=cost, priced=batch.priced)
        self._track_prompts(batch, sign, prompts)
        self._count_pairs(batch, sign)
        add_costs(self.hour_cost, np.floor(batch.ts / 3600.0).astype(np.int64), cost, sign)
        add_costs(self.bucket_cost, self._buckets(batch.ts), cost, sign)

    def _track_prompts(self, batch: Batch, sign: int, size: int) -> None:
        if len(self.prompt_id_of) < size:
            grow = size - len(self.prompt_id_of)
            self.prompt_id_of = np.concatenate([self.prompt_id_of, np.zeros(grow, np.int64)])
            self.prompt_last_seen = np.concatenate([self.prompt_last_seen, np.full(grow, -np.inf)])
        self.prompt_id_of[batch.prompt] = batch.prompt_id
        if sign > 0:
            np.maximum.at(self.prompt_last_seen, batch.prompt, batch.ts)
        else:
            # rows leave from the old end of the window, so a version's newest row stays
            # until the version has no row left at all
            self.prompt_last_seen[self.prompts["requests"][:size] == 0] = -np.inf

    def _count_pairs(self, batch: Batch, sign: int) -> None:
        pairs = (batch.prompt.astype(np.int64) << 32) | batch.prompt_hash.astype(np.int64)
        unique, counts = np.unique(pairs, return_counts=True)
        table = self.hash_pairs
        for pair, count in zip(unique.tolist(), counts.tolist()):
            key = (pair >> 32, pair & 0xFFFFFFFF)
            left = table.get(key, 0) + sign * count
            if left:
                table[key] = left
            else:
                table.pop(key, None)
