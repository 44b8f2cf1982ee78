"""Entries.regroup (console/analytics/sketch.py) keeps the keys' part of its dense table once per
Entries: whatever the mapping (one group, a few, many, spread too wide for a dense table), its
entries are the counts summed per (mapped group, key), sorted, each pair once, ZERO_KEY first,
exactly as Entries.summed gives them, and again on a second regroup of the same entries."""

from __future__ import annotations

from collections import Counter

import numpy as np

from console.analytics.sketch import Entries, keys_of


def _by_dict(entries: Entries, mapping: np.ndarray) -> list[tuple[int, int, int]]:
    totals: Counter = Counter()
    for group, key, count in zip(entries.groups.tolist(), entries.keys.tolist(), entries.counts.tolist()):
        totals[(int(mapping[group]), key)] += count
    return sorted((group, key, count) for (group, key), count in totals.items() if count)


def _triples(entries: Entries) -> list[tuple[int, int, int]]:
    return list(zip(entries.groups.tolist(), entries.keys.tolist(), entries.counts.tolist()))


def test_regroup_sums_per_mapped_group_and_key_as_summed_does():
    rng = np.random.default_rng(20)
    shapes = 0
    for trial in range(120):
        size, cells = int(rng.integers(1, 2000)), int(rng.integers(1, 300))
        values = rng.lognormal(rng.uniform(-3, 8), rng.uniform(0.1, 3), size)
        values[rng.random(size) < rng.uniform(0, 0.5)] = 0.0  # ZERO_KEY entries
        if trial % 9 == 0:
            values = np.zeros(size)  # only zeros
        if trial % 10 == 0:
            values = rng.uniform(1e5, 1e6, size)  # every key far above 0
        entries = Entries.summed(np.sort(rng.integers(0, cells, size)), keys_of(values), rng.integers(1, 50, size))
        mappings = (np.zeros(cells, np.int64), rng.integers(0, 5, cells), rng.integers(3, 200, cells),
                    rng.integers(0, 2**22, cells))  # fmt: skip  (the last too wide for a dense table)
        for mapping in mappings:
            expected = _by_dict(entries, mapping)
            for _ in range(2):  # the layout made by the first regroup serves the second
                got = entries.regroup(mapping)
                assert _triples(got) == expected
                assert got.groups.dtype == got.keys.dtype == got.counts.dtype == np.int64
            summed = Entries.summed(mapping[entries.groups], entries.keys, entries.counts)
            assert _triples(got) == _triples(summed)
            shapes += 1
    assert shapes == 480
    assert _triples(Entries.empty().regroup(np.zeros(0, np.int64))) == []


def test_summed_sparse_and_dense_paths_give_the_dict_sums(monkeypatch):
    """Entries.summed's sorted runs (counts of 1 by run length, else summed per run) and its
    dense table give the same entries: the dict sum of the triples, whether or not each count is 1."""
    from console.analytics import sketch

    rng = np.random.default_rng(7)
    for trial in range(60):
        size = int(rng.integers(1, 3000))
        groups = rng.integers(0, int(rng.choice([2, 40, 5000])), size)
        values = np.where(rng.random(size) < 0.1, 0.0, rng.lognormal(5, 2, size))
        counts = None if trial % 2 else rng.integers(1, 50, size)
        flat = Entries(groups, keys_of(values), np.ones(size, np.int64) if counts is None else counts)
        expected = _by_dict(flat, np.arange(int(groups.max()) + 1))
        monkeypatch.setattr(sketch, "_DENSE_MAX", 0)  # every table too big: the sort
        assert _triples(Entries.summed(groups, keys_of(values), counts)) == expected
        monkeypatch.setattr(sketch, "_DENSE_MAX", 1 << 24)
        dense = Entries.summed(groups, keys_of(values), counts)
        assert _triples(dense) == expected
        if counts is None:
            assert _triples(Entries.of_values(groups, values)) == expected
