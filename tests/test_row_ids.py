"""The requests view's row ids: appends, prepends, growth, and ids past int32."""

from __future__ import annotations

import numpy as np

from console.ui.widgets.row_ids import NARROW_MAX, RowIds


def test_appends_and_prepends_keep_the_order_through_growth():
    ids = RowIds()
    expected: list[int] = []
    for start in range(0, 300_000, 7_001):  # past the first capacities, several growths
        batch = np.arange(start, start + 7_001, dtype=np.int64)
        ids.append(batch)
        expected.extend(batch.tolist())
    older = np.arange(-50_000, 0, dtype=np.int64)
    ids.prepend(older)
    expected = older.tolist() + expected
    assert len(ids) == len(expected)
    assert ids.slice(0, len(ids)).tolist() == expected
    assert ids[0] == -50_000 and ids.last == expected[-1] and ids[12_345] == expected[12_345]
    assert ids.slice(-5, 3).tolist() == expected[:3] and ids.slice(len(ids) - 2, len(ids) + 9).tolist() == expected[-2:]


def test_ids_are_narrow_until_one_does_not_fit():
    ids = RowIds()
    ids.append(np.arange(1, 1_001, dtype=np.int64))
    assert ids.slice(0, 1).dtype == np.int32  # half the memory of a million-row history
    big = np.array([NARROW_MAX + 1, NARROW_MAX + 2**33], dtype=np.int64)
    ids.append(big)
    assert ids.slice(0, len(ids)).tolist() == list(range(1, 1_001)) + big.tolist()
    ids.prepend(np.array([-3], dtype=np.int64))
    assert ids[0] == -3 and ids.last == NARROW_MAX + 2**33
    wide = RowIds()
    wide.prepend(big)
    assert wide.slice(0, 2).tolist() == big.tolist()
    ids.clear()
    assert len(ids) == 0 and ids.last is None
    ids.append(np.array([5, -(2**40)], dtype=np.int64))  # below int32 too
    assert ids.slice(0, 2).tolist() == [5, -(2**40)]
