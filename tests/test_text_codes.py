"""The one coding of text columns (console/store/text_codes.py), which column blocks and rollup
cells read from SQL both use: coded together a chunk at a time, each column comes out as one
pass over it alone codes it (by first appearance, None as NO_VALUE), in the dtype asked for."""

from __future__ import annotations

import numpy as np
import pytest

from console.analytics.columns import NO_VALUE
from console.store.text_codes import JointCodes


def _one_pass(column: list) -> tuple[list[int], list]:
    names = list(dict.fromkeys(NO_VALUE if value is None else value for value in column))
    return [names.index(NO_VALUE if value is None else value) for value in column], names


@pytest.mark.parametrize("width", [1, 2, 5])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_columns_coded_together_in_chunks_are_coded_as_one_pass_over_each(width, dtype):
    rng = np.random.default_rng(width)
    count = 400
    pool = [None, "", "a", "b", "é", "c@d"]
    columns = [[pool[i] for i in rng.integers(0, len(pool) - at % 3, count)] for at in range(width)]
    joint = JointCodes(width, dtype)
    for start, end in ((0, 1), (1, 150), (150, 150), (150, count)):  # chunks, an empty one too
        joint.add([column[start:end] for column in columns], end - start)
    for at, column in enumerate(columns):
        codes, names = joint.codes(at)
        assert codes.dtype == dtype
        assert (codes.tolist(), names) == _one_pass(column)


def test_nothing_added_is_no_codes():
    codes, names = JointCodes(3, np.int64).codes(1)
    assert codes.dtype == np.int64 and len(codes) == 0 and names == []
