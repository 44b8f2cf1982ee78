"""Where the requests view's rows go: newest by ts last, ties by id, whatever order they were
committed in.

The history is read in (ts, id) order (console/store/pages.py, on the ts index); rows
committed later (the tail, another service's log, a backfill of an older file) come by id,
and their ts need not be the newest: each is placed among the rows shown by its ts. The
pager keeps the ts of every row the view shows, in the view's order (8 bytes a row, in the
pager's thread, not the UI's), and tells the view at which positions to insert; the view
only inserts (console/ui/widgets/row_ids.py). A row newer than every row shown (the usual
tail) is appended, and inserting near the end moves only the rows after it.

Ties need no ids here: a committed row's id is greater than every id shown (the history is
the rows up to the restart's max id, new rows are read past the last id seen), so among rows
of the same ts it goes last.

While the history is still being scanned (newest first), a new row older than the oldest row
shown belongs to the part not scanned yet: it is held and merged into the stretch of the
history it falls in (or the last one).
"""

from __future__ import annotations

import numpy as np


class ShownOrder:
    def __init__(self) -> None:
        self._ts = np.empty(1024, dtype=np.float64)  # view order, ascending, from _start to _end
        self._start = self._end = 0
        self._held_ids = np.empty(0, dtype=np.int64)  # rows older than the history scanned so far
        self._held_ts = np.empty(0, dtype=np.float64)

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def held(self) -> int:
        return len(self._held_ids)

    def place(self, ids: np.ndarray, ts: np.ndarray, scanning: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows committed since the last look (ids greater than every id shown). Returns the
        ids to insert in (ts, id) order and np.insert's positions in the view as it is (None:
        all at the end). scanning: the history is still being read; rows older than the
        oldest shown are then held for its later stretches, not returned."""
        order = np.lexsort((ids, ts))
        ids, ts = ids[order], ts[order]
        if scanning:
            oldest = self._ts[self._start] if len(self) else np.inf
            older = ts < oldest  # a tie with the oldest shown goes after it (a greater id)
            if older.any():
                self._hold(ids[older], ts[older])
                ids, ts = ids[~older], ts[~older]
        if not len(ids):
            return ids, None
        if not len(self) or ts[0] >= self._ts[self._end - 1]:
            self._append(ts)
            return ids, None
        shown = self._ts[self._start : self._end]
        positions = np.searchsorted(shown, ts, side="right")
        self._insert(positions, ts)
        return ids, positions

    def prepend(self, ids: np.ndarray, ts: np.ndarray, done: bool) -> tuple[np.ndarray, np.ndarray]:
        """A stretch of the history (ascending, older than every row shown): with the held
        rows that fall in it (all of them when it is the last), as the view prepends it."""
        if self.held:
            take = np.ones(self.held, dtype=bool) if done or not len(ts) else self._held_ts >= ts[0]
            if take.any():
                ids = np.concatenate([ids, self._held_ids[take]])
                ts = np.concatenate([ts, self._held_ts[take]])
                order = np.lexsort((ids, ts))
                ids, ts = ids[order], ts[order]
                self._held_ids, self._held_ts = self._held_ids[~take], self._held_ts[~take]
        self._prepend(ts)
        return ids, ts

    # -- the ts buffer: room at both ends -------------------------------------------------

    def _hold(self, ids: np.ndarray, ts: np.ndarray) -> None:
        self._held_ids = np.concatenate([self._held_ids, ids])
        self._held_ts = np.concatenate([self._held_ts, ts])

    def _append(self, ts: np.ndarray) -> None:
        if self._end + len(ts) > len(self._ts):
            self._grow(len(ts), front=0)
        self._ts[self._end : self._end + len(ts)] = ts
        self._end += len(ts)

    def _prepend(self, ts: np.ndarray) -> None:
        if len(ts) > self._start:
            self._grow(len(ts), front=len(ts))
        self._start -= len(ts)
        self._ts[self._start : self._start + len(ts)] = ts

    def _insert(self, positions: np.ndarray, ts: np.ndarray) -> None:
        """Only the rows from the first position on are moved (a late tail row: a few)."""
        first = int(positions[0])
        rest = np.insert(self._ts[self._start + first : self._end], positions - first, ts)
        self._end = self._start + first
        self._append(rest)

    def _grow(self, extra: int, front: int) -> None:
        size = len(self)
        grown = np.empty(size + extra + size // 4 + 1024 + front, dtype=np.float64)
        start = front + (size // 8 if front else 0)  # room for the next stretches too
        grown[start : start + size] = self._ts[self._start : self._end]
        self._ts, self._start, self._end = grown, start, start + size
