"""Records as numpy columns: what every figure on screen and in `report` is computed from.

Text stays out (the store has it); what is kept is numbers and small categorical codes,
about 90 bytes a record, so a million records fit in ~90 MB and every aggregate is a
vectorised pass. Appends are amortised O(1) (capacity doubles); eviction drops a prefix.

Missing numbers are NaN: a request without TTFT has ttft_ms NaN, an unpriced request has
cost_usd NaN (never 0: "unpriced" is counted, not hidden in a total).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import numpy as np
from xxhash import xxh3_64_intdigest

if TYPE_CHECKING:  # console.records (~1.3 ms to import) only where records are appended
    from console.records import RequestRecord

GROW_BY_A_QUARTER_FROM = 1 << 18  # rows of capacity (~27 MB)
# estimated_cost_usd: a request whose usage is only estimated (console.records.ESTIMATED_TOKENS),
# its estimated spend; NaN for every other request (real usage is cost_usd).
_FLOAT_FIELDS = ("ts", "latency_ms", "ttft_ms", "cost_usd", "feedback", "estimated_cost_usd")
_INT_FIELDS = ("input_tokens", "output_tokens", "cached_input_tokens", "request_key")
_CATEGORY_FIELDS = ("model", "prompt", "prompt_id", "user", "environment", "prompt_hash", "provider")
# is_rated: someone judged the response (a label, or unlabelled, a feedback value); bad rates
# are bad / rated, so a version nobody rated has no bad rate rather than 0%
_BOOL_FIELDS = ("is_error", "is_bad", "is_rated")

# The store columns append_rows takes, in order (console.store reads them in this order).
ROW_FIELDS = (
    "ts", "model", "prompt_id", "prompt_version", "input_tokens", "output_tokens",
    "cached_input_tokens", "latency_ms", "ttft_ms", "status", "cost_usd", "feedback",
    "user_id", "environment", "prompt_hash", "provider", "request_id", "estimated_cost_usd",
)  # fmt: skip

NO_VALUE = ""  # the category of a record without that field (no user_id, no environment...)


@dataclass
class Categories:
    """A growing string <-> code table for one categorical column."""

    names: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)

    def code(self, name: str | None) -> int:
        key = NO_VALUE if name is None else name
        found = self.codes.get(key)
        if found is None:
            found = self.codes[key] = len(self.names)
            self.names.append(key)
        return found

    def __len__(self) -> int:
        return len(self.names)


def prompt_key(prompt_id: str, prompt_version: str) -> str:
    return f"{prompt_id}@{prompt_version}"


def is_bad(record: RequestRecord) -> bool:
    """Unlabelled, negative user feedback stands for a bad response (labels: apply_verdicts)."""
    return record.feedback is not None and record.feedback < 0


def is_rated(record: RequestRecord) -> bool:
    """Unlabelled, any feedback value rates a response (labels: apply_verdicts)."""
    return record.feedback is not None


def request_key(request_id: str) -> int:
    """A request_id as a signed 64-bit number, to find a row by id: xxh3 of its UTF-8, the
    same in every process (the store keeps it in its column blocks); a collision would need
    ~4e9 rows."""
    return _signed64(xxh3_64_intdigest(request_id.encode("utf-8", "surrogatepass")))


def request_keys(request_ids: Iterable[str], count: int) -> np.ndarray:
    """request_key of each, as an int64 array (one C-level map). Encoded by plain str.encode
    (~3x faster than with errors=: 1M ids, 0.21 -> 0.07 s), which gives the same bytes for
    every str without a lone surrogate; with one, all again with surrogatepass."""
    if not isinstance(request_ids, (list, tuple, dict)):
        request_ids = list(request_ids)
    try:
        return np.fromiter(map(xxh3_64_intdigest, map(str.encode, request_ids)), np.uint64, count).view(np.int64)
    except UnicodeEncodeError:
        encoded = map(partial(str.encode, encoding="utf-8", errors="surrogatepass"), request_ids)
        return np.fromiter(map(xxh3_64_intdigest, encoded), np.uint64, count).view(np.int64)


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


class Columns:
    """A bounded, append-only table of numeric columns (oldest rows first)."""

    def __init__(self, capacity: int = 1024) -> None:
        self._size = 0
        self._capacity = max(capacity, 16)
        self._floats = {name: np.empty(self._capacity, np.float64) for name in _FLOAT_FIELDS}
        self._ints = {name: np.empty(self._capacity, np.int64) for name in _INT_FIELDS}
        self._cats = {name: np.empty(self._capacity, np.int32) for name in _CATEGORY_FIELDS}
        self._bools = {name: np.empty(self._capacity, np.bool_) for name in _BOOL_FIELDS}
        self.categories = {name: Categories() for name in _CATEGORY_FIELDS}
        # first time each model / prompt version was seen, over everything ever appended
        self.first_seen: dict[str, dict[str, float]] = {"model": {}, "prompt": {}}

    def __len__(self) -> int:
        return self._size

    # -- columns ---------------------------------------------------------------------

    def __getattr__(self, name: str) -> np.ndarray:
        for table in ("_floats", "_ints", "_cats", "_bools"):
            columns = self.__dict__.get(table)
            if columns is not None and name in columns:
                return columns[name][: self._size]
        raise AttributeError(name)

    def names(self, category: str) -> list[str]:
        return self.categories[category].names

    def labels(self, category: str) -> np.ndarray:
        """The category's string for every row (object array; for small selections)."""
        names = np.array(self.categories[category].names, dtype=object)
        return names[getattr(self, category)]

    # -- growing and shrinking ----------------------------------------------------------

    def _reserve(self, extra: int) -> None:
        needed = self._size + extra
        if needed <= self._capacity:
            return
        capacity = self._capacity
        while capacity < needed:
            # doubling a live window held at its million-row bound would take ~100 MB more
            # for the moment until the next eviction: past GROW_BY_A_QUARTER_FROM, a quarter
            capacity += capacity // 4 if capacity >= GROW_BY_A_QUARTER_FROM else capacity
        self._resize(capacity)

    def _resize(self, capacity: int) -> None:
        for table in (self._floats, self._ints, self._cats, self._bools):
            for name, column in table.items():
                resized = np.empty(capacity, column.dtype)
                resized[: self._size] = column[: self._size]
                table[name] = resized
        self._capacity = capacity

    def append(self, records: Sequence[RequestRecord]) -> None:
        from console.records import estimated_cost_usd

        count = len(records)
        if not count:
            return
        self._reserve(count)
        start, end = self._size, self._size + count
        nan = np.nan
        floats = self._floats
        floats["ts"][start:end] = [r.ts for r in records]
        floats["latency_ms"][start:end] = [r.latency_ms for r in records]
        floats["ttft_ms"][start:end] = [nan if r.ttft_ms is None else r.ttft_ms for r in records]
        floats["cost_usd"][start:end] = [nan if r.cost_usd is None else r.cost_usd for r in records]
        floats["feedback"][start:end] = [nan if r.feedback is None else r.feedback for r in records]
        floats["estimated_cost_usd"][start:end] = [_nan_if_none(estimated_cost_usd(r.metadata)) for r in records]
        ints = self._ints
        ints["input_tokens"][start:end] = [r.input_tokens for r in records]
        ints["output_tokens"][start:end] = [r.output_tokens for r in records]
        ints["cached_input_tokens"][start:end] = [r.cached_input_tokens or 0 for r in records]
        ints["request_key"][start:end] = request_keys([r.request_id for r in records], count)
        self._bools["is_error"][start:end] = [r.status == "error" for r in records]
        self._bools["is_bad"][start:end] = [is_bad(r) for r in records]
        self._bools["is_rated"][start:end] = [is_rated(r) for r in records]
        cats = self.categories
        code = {name: cats[name].code for name in _CATEGORY_FIELDS}
        self._cats["model"][start:end] = [code["model"](r.model) for r in records]
        self._cats["prompt"][start:end] = [
            code["prompt"](prompt_key(r.prompt_id, r.prompt_version)) for r in records
        ]
        self._cats["prompt_id"][start:end] = [code["prompt_id"](r.prompt_id) for r in records]
        self._cats["user"][start:end] = [code["user"](r.user_id) for r in records]
        self._cats["environment"][start:end] = [code["environment"](r.environment) for r in records]
        self._cats["prompt_hash"][start:end] = [code["prompt_hash"](r.prompt_hash) for r in records]
        self._cats["provider"][start:end] = [code["provider"](r.provider) for r in records]
        self._size = end
        self._note_first_seen(records)

    def append_rows(self, rows: Sequence[tuple]) -> None:
        """Append rows shaped like ROW_FIELDS (how the store reads them, no record objects)."""
        if rows:
            self.append_row_columns(tuple(zip(*rows)), len(rows))

    def append_row_columns(self, columns: Sequence[Sequence], count: int) -> None:
        """Append `count` rows given column by column in ROW_FIELDS order (each a sequence
        of `count` values). The same values as append() would store for the same records,
        built per column in C loops: no record objects, no per-row Python. A category's
        code is one dict lookup per value (a new value, rare, gets the next code, so codes
        follow first appearance as append's do). `status` may also be given as 0/1 (the
        store reads status = 'error')."""
        if not count:
            return
        (ts, model, prompt_id, prompt_version, input_tokens, output_tokens, cached,
         latency_ms, ttft_ms, status, cost_usd, feedback, user_id, environment,
         prompt_hash, provider, request_id, estimated) = columns  # fmt: skip
        self._reserve(count)
        start, end = self._size, self._size + count
        floats = self._floats
        ts_values = floats["ts"][start:end]
        ts_values[:] = _floats(ts)
        floats["latency_ms"][start:end] = _floats(latency_ms)
        floats["ttft_ms"][start:end] = _floats(ttft_ms)  # None -> NaN
        floats["cost_usd"][start:end] = _floats(cost_usd)
        feedback_values = floats["feedback"][start:end]
        feedback_values[:] = _floats(feedback)
        floats["estimated_cost_usd"][start:end] = _floats(estimated)
        ints = self._ints
        ints["input_tokens"][start:end] = _ints(input_tokens, count)
        ints["output_tokens"][start:end] = _ints(output_tokens, count)
        ints["cached_input_tokens"][start:end] = _ints(cached, count)  # None -> 0
        ints["request_key"][start:end] = request_keys(request_id, count)
        self._bools["is_error"][start:end] = np.fromiter(map(_IS_ERROR.__getitem__, status), np.bool_, count)
        self._bools["is_bad"][start:end] = feedback_values < 0  # NaN (no feedback) is not < 0
        np.logical_not(np.isnan(feedback_values), out=self._bools["is_rated"][start:end])
        coders = self._coders
        cats = self._cats
        for name, values in (
            ("model", model), ("prompt_id", prompt_id), ("user", user_id), ("environment", environment),
            ("prompt_hash", prompt_hash), ("provider", provider),
        ):  # fmt: skip
            cats[name][start:end] = np.fromiter(map(coders[name].__getitem__, values), np.int32, count)
        prompt_codes = cats["prompt"][start:end]
        pairs = zip(prompt_id, prompt_version)
        prompt_codes[:] = np.fromiter(map(coders["prompt"].__getitem__, pairs), np.int32, count)
        self._size = end
        # first_seen: the earliest ts per model / version in this batch, folded in
        for kind, codes in (("model", cats["model"][start:end]), ("prompt", prompt_codes)):
            names = self.categories[kind].names
            earliest = np.full(len(names), np.inf)
            np.minimum.at(earliest, codes, ts_values)
            seen = self.first_seen[kind]
            for code in np.flatnonzero(earliest < np.inf).tolist():
                name, first = names[code], float(earliest[code])
                if first < seen.get(name, np.inf):
                    seen[name] = first

    @property
    def _coders(self) -> dict[str, _Coder]:
        """Per category, value -> code dicts that stay valid as long as the categories do."""
        coders = self.__dict__.get("_coder_cache")
        if coders is None or coders[0] is not self.categories:
            coders = (self.categories, {name: _Coder(self.categories[name]) for name in _CATEGORY_FIELDS})
            coders[1]["prompt"] = _Coder(self.categories["prompt"], lambda pair: prompt_key(*pair))
            self.__dict__["_coder_cache"] = coders
        return coders[1]

    def extend(self, other: Columns) -> None:
        """Append another Columns' rows (newer ones: loaded in parts), its category codes
        translated to this one's; the same columns, codes and first_seen as appending those
        rows here would give."""
        count = len(other)
        if not count:
            return
        self._reserve(count)
        start, end = self._size, self._size + count
        for table_name in ("_floats", "_ints", "_bools"):
            target, source = getattr(self, table_name), getattr(other, table_name)
            for name, column in source.items():
                target[name][start:end] = column[:count]
        for name in _CATEGORY_FIELDS:
            table = self.categories[name]
            mapping = np.fromiter((table.code(value) for value in other.categories[name].names), np.int32)
            self._cats[name][start:end] = mapping[other._cats[name][:count]] if len(mapping) else 0
        self._size = end
        for kind in ("model", "prompt"):
            seen = self.first_seen[kind]
            for name, first in other.first_seen[kind].items():
                if first < seen.get(name, np.inf):
                    seen[name] = first

    @classmethod
    def from_arrays(
        cls, numbers: Mapping[str, np.ndarray], codes: Mapping[str, np.ndarray], names: Mapping[str, Sequence[str]],
        spare: int = 0, order: np.ndarray | None = None,
    ) -> Columns:
        """Columns of whole arrays, rows already in order: `numbers` holds ts, latency_ms,
        ttft_ms, cost_usd, feedback, input_tokens, output_tokens, cached_input_tokens (None
        as 0), request_key and is_error; `codes`/`names` each text column's codes into its
        names, for model, prompt_id, prompt_version, user, environment, prompt_hash and
        provider, codes in any order. Codes are renumbered by first appearance and first_seen
        is set: the same Columns as appending the same rows would give. spare: room for that
        many more rows; order: the rows' order as indexes into the arrays (None: as they are),
        gathered straight into the new columns (no sorted copy of the whole)."""
        count = len(numbers["ts"])
        columns = cls(count + spare)
        columns._size = count

        def ordered(values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
            if order is None:
                if out is None:
                    return values
                out[:] = values
                return out
            return np.take(values, order, out=out)

        for table in (columns._floats, columns._ints):
            for name, column in table.items():
                ordered(numbers[name], column[:count])
        ordered(numbers["is_error"], columns._bools["is_error"][:count])
        columns._bools["is_bad"][:count] = columns.feedback < 0  # NaN (no feedback) is not < 0
        columns._bools["is_rated"][:count] = ~np.isnan(columns.feedback)
        for name in ("model", "prompt_id", "user", "environment", "prompt_hash", "provider"):
            source = names[name]
            renumbered, columns.categories[name] = _by_first_appearance(ordered(codes[name]), source.__getitem__)
            columns._cats[name][:count] = renumbered
        versions = names["prompt_version"]
        width = max(len(versions), 1)
        pairs = ordered(codes["prompt_id"]).astype(np.int64) * width + ordered(codes["prompt_version"])
        prompt_ids = names["prompt_id"]
        renumbered, columns.categories["prompt"] = _by_first_appearance(
            pairs, lambda pair: prompt_key(prompt_ids[pair // width], versions[pair % width])
        )
        columns._cats["prompt"][:count] = renumbered
        ts = columns.ts
        for kind in ("model", "prompt"):
            table = columns.categories[kind].names
            earliest = np.full(len(table), np.inf)
            np.minimum.at(earliest, columns._cats[kind][:count], ts)
            columns.first_seen[kind] = dict(zip(table, earliest.tolist()))
        return columns

    def fold_first_seen(self, models: Mapping[str, float], prompts: Mapping[tuple[str, str], float]) -> None:
        """First appearances found elsewhere (older rows, by SQL) into first_seen."""
        for kind, found in (("model", models.items()), ("prompt", ((prompt_key(*k), ts) for k, ts in prompts.items()))):
            seen = self.first_seen[kind]
            for name, ts in found:
                seen[name] = min(float(ts), seen.get(name, np.inf))

    def __getstate__(self) -> dict:
        """Pickled without the per-category coders (rebuilt on use) or spare capacity."""
        state = {key: value for key, value in self.__dict__.items() if key != "_coder_cache"}
        keep = max(self._size, 16)
        for table in ("_floats", "_ints", "_cats", "_bools"):
            state[table] = {name: column[:keep] for name, column in state[table].items()}
        state["_capacity"] = keep
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    # -- labels ---------------------------------------------------------------------------------

    def verdict_rows(self, verdicts: Mapping[str, str | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, is_bad, is_rated for them) that labels call for: "bad" is bad, "good" is
        not, both rated; None (label removed) falls back to feedback (bad when < 0, rated when
        there is one). Rows whose values would not change are left out. Nothing is modified
        (see set_verdicts)."""
        none = np.zeros(0, np.bool_)
        if not verdicts or not self._size:
            return np.zeros(0, np.int64), none, none
        keys = request_keys(verdicts, len(verdicts))
        wanted = dict(zip(keys.tolist(), verdicts.values()))
        rows = np.flatnonzero(np.isin(self.request_key, keys))
        if not len(rows):
            return rows, none, none
        found = [wanted[key] for key in self.request_key[rows].tolist()]
        labelled = np.array([verdict is not None for verdict in found], np.bool_)
        feedback = self.feedback[rows]
        bad = np.where(labelled, np.array([verdict == "bad" for verdict in found], np.bool_), feedback < 0)
        rated = labelled | ~np.isnan(feedback)
        changed = (bad != self.is_bad[rows]) | (rated != self.is_rated[rows])
        return rows[changed], bad[changed], rated[changed]

    def set_verdicts(self, rows: np.ndarray, bad: np.ndarray, rated: np.ndarray) -> None:
        self._bools["is_bad"][rows] = bad
        self._bools["is_rated"][rows] = rated

    def apply_verdicts(self, verdicts: Mapping[str, str | None]) -> np.ndarray:
        """Make labels the truth for is_bad and is_rated; returns the rows that changed."""
        rows, bad, rated = self.verdict_rows(verdicts)
        self.set_verdicts(rows, bad, rated)
        return rows

    def _note_first_seen(self, records: Iterable[RequestRecord]) -> None:
        models, prompts = self.first_seen["model"], self.first_seen["prompt"]
        for record in records:
            ts = float(record.ts)
            if ts < models.get(record.model, np.inf):
                models[record.model] = ts
            key = prompt_key(record.prompt_id, record.prompt_version)
            if ts < prompts.get(key, np.inf):
                prompts[key] = ts

    def evict_before(self, ts: float) -> int:
        """Drop the rows older than ts when rows are in time order; returns how many.

        Rows arrive roughly in time order; a late row older than the cut stays until the
        prefix before it goes, which bounds memory without re-sorting.
        """
        cut = self.prefix_before(ts)
        if cut:
            self.drop_prefix(cut)
        return cut

    def prefix_before(self, ts: float) -> int:
        """How many rows evict_before(ts) drops: the rows before the first at or after ts."""
        if not self._size:
            return 0
        recent = self.ts >= ts
        return int(np.argmax(recent)) if recent.any() else self._size

    def drop_prefix(self, cut: int) -> None:
        """Drop the first `cut` rows."""
        for table in (self._floats, self._ints, self._cats, self._bools):
            for column in table.values():
                column[: self._size - cut] = column[cut : self._size]
        self._size -= cut
        if self._capacity > 2 * self._size + 1024:
            # a window held at a count bound would otherwise keep the doubled capacity of its
            # largest moment (twice the memory) for good
            self._resize(self._size + self._size // 4 + 16)

    def select(self, mask: np.ndarray) -> Columns:
        """A new Columns with the rows where mask is true (categories shared by copy)."""
        chosen = Columns(int(mask.sum()) + 16)
        size = int(mask.sum())
        for table_name in ("_floats", "_ints", "_cats", "_bools"):
            source, target = getattr(self, table_name), getattr(chosen, table_name)
            for name, column in source.items():
                target[name][:size] = column[: self._size][mask]
        chosen._size = size
        chosen.categories = self.categories
        chosen.first_seen = self.first_seen
        return chosen


def _by_first_appearance(codes: np.ndarray, name_of) -> tuple[np.ndarray, Categories]:
    """codes renumbered so that they follow the first appearance of their names (codes
    whose names are equal become one), with the Categories of the new codes."""
    table = Categories()
    count = len(codes)
    if not count:
        return np.zeros(0, np.int32), table
    size = int(codes.max()) + 1
    if size > 4 * count + 1024:  # sparse codes (pairs of many ids and versions): by sorting
        present, first = np.unique(codes, return_index=True)
        in_order = present[np.argsort(first, kind="stable")]
        new_codes = np.fromiter((table.code(name_of(old)) for old in in_order.tolist()), np.int32, len(in_order))
        renumber = np.empty(len(present), np.int32)
        renumber[np.argsort(first, kind="stable")] = new_codes
        return renumber[np.searchsorted(present, codes)], table
    first = np.full(size, count, np.int64)
    np.minimum.at(first, codes, np.arange(count))
    present = np.flatnonzero(first < count)
    in_order = present[np.argsort(first[present], kind="stable")]
    lookup = np.zeros(size, np.int32)
    lookup[in_order] = np.fromiter((table.code(name_of(old)) for old in in_order.tolist()), np.int32, len(in_order))
    return lookup[codes], table


class _IsError(dict):
    def __missing__(self, status) -> bool:
        return False


_IS_ERROR = _IsError({"error": True, 1: True})


class _Coder(dict):
    """A category's value -> code; a value not seen yet is coded on first lookup, so a
    column is coded by one C-level map over dict lookups (None codes as NO_VALUE)."""

    def __init__(self, table: Categories, key=None) -> None:
        super().__init__()
        self.table = table
        self.key = key

    def __missing__(self, value) -> int:
        code = self[value] = self.table.code(value if self.key is None else self.key(value))
        return code


def _floats(values: Sequence) -> np.ndarray:
    """Numbers (None -> NaN) as float64, converted in C."""
    return np.array(values, dtype=np.float64)


def _ints(values: Sequence, count: int) -> np.ndarray:
    """Integers (None -> 0) as int64."""
    if None in values:
        values = [0 if value is None else value for value in values]
    return np.fromiter(values, np.int64, count)


def _nan_if_none(value: float | None) -> float:
    return np.nan if value is None else value
