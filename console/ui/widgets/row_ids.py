"""The requests view's row ids: a numpy buffer that grows at the end without copying
everything each time (live appends), takes older stretches at the front (history) and rows
committed late in between, at their place by time (insert).

The view holds the id of every row it shows (millions, for hours), so ids are kept as
int32 while they fit, which they do in any store under two billion rows, and the buffer
turns int64 the first time one does not.
"""

from __future__ import annotations

import numpy as np

NARROW = np.int32
NARROW_MIN, NARROW_MAX = np.iinfo(NARROW).min, np.iinfo(NARROW).max


class RowIds:
    def __init__(self) -> None:
        self._buffer = np.empty(1024, dtype=NARROW)
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    def __getitem__(self, position: int) -> int:
        if not 0 <= position < len(self):
            raise IndexError(position)
        return int(self._buffer[self._start + position])

    def slice(self, start: int, stop: int) -> np.ndarray:
        start, stop = max(start, 0), min(stop, len(self))
        return self._buffer[self._start + start : self._start + max(start, stop)]

    @property
    def last(self) -> int | None:
        return int(self._buffer[self._end - 1]) if len(self) else None

    def append(self, ids: np.ndarray) -> None:
        self._widen_for(ids)
        if self._end + len(ids) > len(self._buffer):
            size = len(self._buffer)
            while size < len(self) + len(ids):
                size += size // 4 + 1024  # a quarter, not double: a live console's ids grow for hours
            grown = np.empty(size, dtype=self._buffer.dtype)
            grown[: len(self)] = self._buffer[self._start : self._end]
            self._buffer, self._start, self._end = grown, 0, len(self)
        self._buffer[self._end : self._end + len(ids)] = ids
        self._end += len(ids)

    def prepend(self, ids: np.ndarray) -> None:
        self._widen_for(ids)
        if len(ids) <= self._start:
            self._start -= len(ids)
            self._buffer[self._start : self._start + len(ids)] = ids
            return
        kept = self._buffer[self._start : self._end]
        grown = np.empty(max(2 * (len(kept) + len(ids)), 1024), dtype=self._buffer.dtype)
        grown[: len(ids)] = ids
        grown[len(ids) : len(ids) + len(kept)] = kept
        self._buffer, self._start, self._end = grown, 0, len(ids) + len(kept)

    def insert(self, positions: np.ndarray, ids: np.ndarray) -> None:
        """ids at np.insert's positions (ascending, in the list as it is): rows committed late
        placed by their time (console/live/shown_order.py). Only the ids from the first
        position on are moved: a tail row a few seconds late moves a few."""
        if not len(ids):
            return
        self._widen_for(ids)
        first = int(positions[0])
        rest = np.insert(self._buffer[self._start + first : self._end], positions - first, ids.astype(self._buffer.dtype))
        self._end = self._start + first
        self.append(rest)

    def clear(self) -> None:
        self._buffer = np.empty(1024, dtype=NARROW)
        self._start = self._end = 0

    def _widen_for(self, ids: np.ndarray) -> None:
        if self._buffer.dtype != NARROW or not len(ids):
            return
        if not NARROW_MIN <= int(np.min(ids)) <= int(np.max(ids)) <= NARROW_MAX:
            self._buffer = self._buffer.astype(np.int64)
