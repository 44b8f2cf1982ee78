"""Mergeable latency sketches: DDSketch's logarithmic buckets, counted with numpy.

A value x > 0 falls in bucket k = ceil(log_gamma(x)), gamma = (1 + a) / (1 - a), a = 1%
(RELATIVE_ACCURACY), exactly DDSketch's `LogarithmicMapping(0.01)` (the `ddsketch` package
from DataDog: its gamma and multiplier are used here, and tests/test_rollups.py checks the keys
against its `key()`); the bucket stands for 2 * gamma**k / (gamma + 1), which is within a of
every value in it. Zero (and anything below the mapping's smallest positive value) counts in
ZERO_KEY and stands for 0. A sketch is its sorted (key, count) pairs: merging sketches adds
counts key by key, so a window's sketch is the sum of its minutes' or hours' sketches.

Bound: a percentile read from a sketch with numpy's linear interpolation between ranks (as
`percentiles_of_sorted` reads a sorted array) is within a relative error of RELATIVE_ACCURACY
of `numpy.percentile` over the same values (both ranks' values are within a, and the
interpolation is a weighted mean of them), for non-negative values such as latencies.

Counting is vectorised: one log2 over the array and one `numpy.unique` of (group, key) pairs
(DataDog's Python DDSketch adds one value at a time: 0.5 s per million, too slow for ingest).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Sequence

import numpy as np
from ddsketch.mapping import LogarithmicMapping

RELATIVE_ACCURACY = 0.01
MAPPING = LogarithmicMapping(RELATIVE_ACCURACY)
GAMMA = MAPPING.gamma
_MULTIPLIER = MAPPING._multiplier  # 1 / log2(gamma): key = ceil(log2(x) * multiplier)
_MIN_POSITIVE = MAPPING.min_possible
ZERO_KEY = -32768  # int16's lowest: sorts before every real key
_KEY = np.dtype("<i2")
_COUNT = np.dtype("<u4")
_PAIR = np.dtype([("key", _KEY), ("count", _COUNT)])
# (group, key) tables summed with a bincount instead of a sort: up to this size, and only when
# not much sparser than the entries (a table is scanned whole for its non-zero cells)
_DENSE_MAX = 1 << 24


def keys_of(values: np.ndarray) -> np.ndarray:
    """The bucket key of each value (NaN-free, >= 0), as int64."""
    values = np.asarray(values, np.float64)
    positive = values > _MIN_POSITIVE
    keys = np.full(len(values), ZERO_KEY, np.int64)
    with np.errstate(divide="ignore"):
        logs = np.ceil(np.log2(values[positive]) * _MULTIPLIER)
    # int16 keys reach gamma**32767 (~1e284 ms): absurd values share the last bucket
    keys[positive] = np.clip(logs, ZERO_KEY + 1, -ZERO_KEY - 1).astype(np.int64)
    return keys


def value_of(keys: np.ndarray) -> np.ndarray:
    """The value each key stands for (DDSketch's `value(key)`); 0 for ZERO_KEY."""
    keys = np.asarray(keys)
    values = np.power(2.0, keys / _MULTIPLIER) * (2.0 / (1.0 + GAMMA))
    return np.where(keys == ZERO_KEY, 0.0, values)


@dataclass(frozen=True)
class Entries:
    """Sketch contents for many groups at once: (group, key, count) triples sorted by
    (group, key), each pair once."""

    groups: np.ndarray  # int64
    keys: np.ndarray  # int64
    counts: np.ndarray  # int64

    @classmethod
    def empty(cls) -> Entries:
        nothing = np.zeros(0, np.int64)
        return cls(nothing, nothing, nothing)

    @classmethod
    def of_values(cls, groups: np.ndarray, values: np.ndarray) -> Entries:
        """Count values (NaN skipped) into their groups' sketches."""
        values = np.asarray(values, np.float64)
        fine = ~np.isnan(values)
        if not fine.all():
            groups, values = groups[fine], values[fine]
        return cls.summed(np.asarray(groups, np.int64), keys_of(values), None)

    @classmethod
    def summed(cls, groups: np.ndarray, keys: np.ndarray, counts: np.ndarray | None) -> Entries:
        """Entries with repeated (group, key) pairs added up (counts None: 1 each)."""
        if not len(groups):
            return cls.empty()
        if counts is None:
            counts = np.ones(len(groups), np.int64)
            unit = True
        else:
            unit = False
        groups, keys = groups.astype(np.int64), keys.astype(np.int64)
        low_group, low_key = int(groups.min()), int(keys[keys != ZERO_KEY].min(initial=0))
        keys = np.where(keys == ZERO_KEY, low_key - 1, keys)  # zero right below the lowest real key
        low_key -= 1
        width = int(keys.max()) - low_key + 1
        cells = (int(groups.max()) - low_group + 1) * width
        if cells <= min(_DENSE_MAX, 8 * len(groups) + 65_536):  # a dense (group, key) table: one bincount, no sort
            index = (groups - low_group) * width + (keys - low_key)
            totals = np.bincount(index, weights=counts.astype(np.float64), minlength=cells)
            found = np.flatnonzero(totals)
            found_keys = found % width + low_key
            return cls(found // width + low_group, np.where(found_keys == low_key, ZERO_KEY, found_keys),
                       np.rint(totals[found]).astype(np.int64))  # fmt: skip
        keys = np.where(keys == low_key, ZERO_KEY, keys)
        pairs = (groups.astype(np.int64) << 17) | (keys.astype(np.int64) - ZERO_KEY)
        # sorted, each run of equal pairs summed (np.unique's inverse and a bincount took ~2x as
        # long); counts of 1 need no argsort, a run's count is its length
        order = None if unit else np.argsort(pairs)
        ordered = np.sort(pairs) if unit else pairs[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        unique = ordered[starts]
        if unit:
            totals = np.diff(np.append(starts, len(ordered)))
        else:
            totals = np.add.reduceat(np.asarray(counts, np.int64)[order], starts)
        return cls(unique >> 17, (unique & 0x1FFFF) + ZERO_KEY, totals.astype(np.int64))

    @classmethod
    def concat(cls, parts: Sequence[Entries]) -> Entries:
        parts = [part for part in parts if len(part.groups)]
        if not parts:
            return cls.empty()
        return cls.summed(
            np.concatenate([p.groups for p in parts]),
            np.concatenate([p.keys for p in parts]),
            np.concatenate([p.counts for p in parts]),
        )

    def regroup(self, mapping: np.ndarray) -> Entries:
        """The same counts under group mapping[group] (groups merged where they map alike):
        summed's dense table, with the keys' part of each entry's place in it made once per
        Entries (a report over rollups regroups the same cells' entries seven ways); the same
        entries as summed gives."""
        if not len(self.groups):
            return Entries.empty()
        mapping = np.asarray(mapping, np.int64)
        offsets, width, weights, low_key = self._dense_keys
        low_group = int(mapping.min())  # over every cell mapped: at worst a wider table than needed
        cells = (int(mapping.max()) - low_group + 1) * width
        if cells > min(_DENSE_MAX, 8 * len(self.groups) + 65_536):
            return Entries.summed(mapping[self.groups], self.keys, self.counts)
        index = mapping[self.groups]  # a new array: added to in place
        if low_group:
            index -= low_group
        index *= width
        index += offsets
        totals = np.bincount(index, weights=weights, minlength=cells)
        found = np.flatnonzero(totals)
        found_keys = found % width
        return Entries(found // width + low_group, np.where(found_keys == 0, ZERO_KEY, found_keys + low_key),
                       np.rint(totals[found]).astype(np.int64))  # fmt: skip

    @cached_property
    def _dense_keys(self) -> tuple[np.ndarray, int, np.ndarray, int]:
        """(each entry's key as summed's dense table places it: ZERO_KEY at 0, right below the
        lowest real key or 0; the keys' width; the counts as bincount's weights; the key at 0)."""
        keys = np.asarray(self.keys, np.int64)
        real = keys != ZERO_KEY
        low_key = int(keys[real].min(initial=0)) - 1
        offsets = np.where(real, keys - low_key, 0)
        return offsets, int(offsets.max()) + 1, np.asarray(self.counts, np.float64), low_key

    def encode(self, group_count: int, blob: type = bytes) -> list:
        """One blob per group 0..group_count-1: its (key int16, count uint32) pairs (blob:
        bytes, or bytearray, which sqlite3 binds without its adapter lookup). Sliced from one
        buffer of them all (an array slice and its tobytes took ~3x as long)."""
        bounds = (np.searchsorted(self.groups, np.arange(group_count + 1)) * _PAIR.itemsize).tolist()
        pairs = np.empty(len(self.keys), _PAIR)
        pairs["key"] = self.keys
        pairs["count"] = self.counts
        joined = blob(pairs.tobytes())
        return [joined[a:b] for a, b in zip(bounds[:-1], bounds[1:])]

    @classmethod
    def decode(cls, blobs: Iterable[bytes | None], groups: Iterable[int]) -> Entries:
        """Entries of blobs made by encode, the i-th blob counted under groups[i] (ascending:
        each blob's keys are sorted and unique, so the entries are too, without a merge)."""
        blobs = blobs if isinstance(blobs, (list, tuple)) and None not in blobs else [blob or b"" for blob in blobs]
        sizes = np.fromiter(map(len, blobs), np.int64, len(blobs))
        owners = None if isinstance(groups, range) and groups == range(len(blobs)) else np.fromiter(groups, np.int64, len(blobs))
        return cls.of_blobs(b"".join(blobs), sizes, owners)  # one buffer: no array per blob

    @classmethod
    def of_blobs(cls, joined: bytes, sizes: np.ndarray, owners: np.ndarray | None = None) -> Entries:
        """decode's entries of blobs given joined, with their byte sizes: the i-th counted under
        owners[i] (ascending), or under i."""
        if not len(joined):
            return cls.empty()
        pairs = np.frombuffer(joined, _PAIR)
        counted = sizes // _PAIR.itemsize
        groups = np.repeat(np.arange(len(sizes), dtype=np.int64) if owners is None else owners, counted)
        return cls(groups, pairs["key"].astype(np.int64), pairs["count"].astype(np.int64))


class SketchValues:
    """A sketch read like the sorted array of its values: len() is the count and [i] the
    value of rank i (the representative of the bucket holding it), so
    `percentiles_of_sorted` reads it with numpy's interpolation, in O(buckets)."""

    __slots__ = ("_keys", "_ends")

    def __init__(self, keys: np.ndarray, counts: np.ndarray) -> None:
        self._keys = keys
        self._ends = np.cumsum(counts)

    def __len__(self) -> int:
        return int(self._ends[-1]) if len(self._ends) else 0

    def __getitem__(self, index):
        ranks = np.asarray(index, np.int64)
        ranks = np.where(ranks < 0, ranks + len(self), ranks)
        return value_of(self._keys[np.searchsorted(self._ends, ranks, side="right")])


class SketchGroups:
    """SortedGroups' reading side (get, keys) over sketches: the latency groups of a report
    built from rollups."""

    __slots__ = ("groups",)

    def __init__(self, entries: Entries) -> None:
        self.groups: dict[int, SketchValues] = {}
        if not len(entries.groups):
            return
        starts = np.flatnonzero(np.r_[True, entries.groups[1:] != entries.groups[:-1]])
        ends = np.r_[starts[1:], len(entries.groups)]
        for start, end in zip(starts.tolist(), ends.tolist()):
            group = int(entries.groups[start])
            self.groups[group] = SketchValues(entries.keys[start:end], entries.counts[start:end])

    def get(self, key: int):
        found = self.groups.get(key)
        return found if found is not None else _EMPTY

    def keys(self) -> Iterable[int]:
        return self.groups.keys()


_EMPTY = SketchValues(np.zeros(0, np.int64), np.zeros(0, np.int64))
