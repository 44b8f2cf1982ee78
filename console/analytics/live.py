"""LiveWindow: the console's columns and window aggregates, kept up to date as records arrive.

    live = LiveWindow(settings, window="1h")
    live.append(records)                 # or append_rows(rows) from the store
    report = live.report(time.time())    # build_report with the kept aggregates
    live.set_window(next_window(live.window))   # the `w` key

Appending is cheap; the work happens in `update(now)` (which `report` calls): rows that
arrived since the last update and fall inside the window are added to the aggregates (a
sorted insert per latency group), and rows the window slid past are removed. Nothing is
re-sorted and nothing is re-read from the store. A new window, a clock that went backwards,
a sparkline bucket that has to change (window "all" growing), or evicting rows that are
still inside the window rebuilds the aggregates from the columns once.

Row membership is a boolean array beside the columns; finding rows that left is one
vectorised comparison over it (~1 ms per million rows).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from console.analytics.aggregates import WindowAggregates
from console.analytics.columns import Columns
from console.analytics.report import build_aggregates, build_report, window_bucket_seconds, window_first
from console.analytics.report_types import Report
from console.analytics.windows import DEFAULT_WINDOW, check_window, window_start
from console.config import Settings
from console.records import RequestRecord


class LiveWindow:
    def __init__(self, settings: Settings, window: str = DEFAULT_WINDOW, cols: Columns | None = None) -> None:
        self.settings = settings
        self.window = check_window(window)
        self.cols = cols if cols is not None else Columns()
        # per budget name: USD spent this period before the first loaded row (or in exact
        # integer nano-dollars: Store.spend_nano_between, rows evicted by count)
        self.baseline_spend: dict[str, float] = {}
        self.baseline_nano: dict[str, int] = {}
        self._aggregates: WindowAggregates | None = None
        self._member = np.zeros(0, bool)
        self._synced = 0  # rows of cols the aggregates have looked at
        self._newest = -np.inf  # the newest ts among the looked-at rows
        self._now = -np.inf
        self._start: float | None = None

    # -- changing the data ----------------------------------------------------------------

    def append(self, records: Sequence[RequestRecord]) -> None:
        self.cols.append(records)

    def append_rows(self, rows: Sequence[tuple]) -> None:
        self.cols.append_rows(rows)

    def evict_before(self, ts: float) -> int:
        """Drop columns rows older than ts (see Columns.evict_before); returns how many.

        Rows inside the window (a count bound evicts them) leave the aggregates first, as
        rows sliding out of the window do: a rebuild over a million rows took ~140 MB and
        most of a second, each time the live window passed its bound."""
        cut = self.cols.prefix_before(ts)
        if cut:
            if self._aggregates is not None:
                self._aggregates.remove_rows(self.cols, np.flatnonzero(self._member[:cut]))
            self.cols.drop_prefix(cut)
            self._member = self._member[cut:]
            self._synced = max(self._synced - cut, 0)
        return cut

    def apply_verdicts(self, verdicts: Mapping[str, str | None]) -> int:
        """Labels (request_id -> "bad", "good", or None when removed) into is_bad and is_rated;
        the aggregates swap the changed rows out and back in. Returns how many rows changed."""
        rows, bad, rated = self.cols.verdict_rows(verdicts)
        if not len(rows):
            return 0
        inside = np.zeros(0, np.int64)
        if self._aggregates is not None:
            kept = rows[rows < self._synced]
            inside = kept[self._member[kept]]
            self._aggregates.remove_rows(self.cols, inside)
        self.cols.set_verdicts(rows, bad, rated)
        if self._aggregates is not None:
            self._aggregates.add_rows(self.cols, inside)
        return len(rows)

    def set_window(self, window: str) -> None:
        if check_window(window) != self.window:
            self.window = window
            self._aggregates = None

    # -- reading ----------------------------------------------------------------------------

    def report(self, now: float, baseline_spend: Mapping[str, float] | None = None) -> Report:
        aggregates = self.update(now)
        baseline = self.baseline_spend if baseline_spend is None else baseline_spend
        return build_report(
            self.cols, now, self.window, self.settings, baseline,
            aggregates=aggregates, baseline_nano=self.baseline_nano,
        )

    def update(self, now: float) -> WindowAggregates:
        """Bring the aggregates to the window ending at `now`; returns them."""
        start = window_start(now, self.window)
        bucket = window_bucket_seconds(self.window, window_first(self.cols, now, self.window), now)
        aggregates = self._aggregates
        if aggregates is None or now < self._now or aggregates.bucket_seconds != bucket:
            return self._rebuild(now, start)
        cols, ts, synced, member = self.cols, self.cols.ts, self._synced, self._member
        if start is not None and (self._start is None or start > self._start):
            leaving = np.flatnonzero(member & (ts[:synced] < start))
            if len(leaving):
                aggregates.remove_rows(cols, leaving)
                member[leaving] = False
        if self._newest > self._now and now > self._now:
            # rows stamped ahead of the previous `now` whose time has come
            arrived = ~member & (ts[:synced] > self._now) & (ts[:synced] <= now)
            if start is not None:
                arrived &= ts[:synced] >= start
            self._admit(np.flatnonzero(arrived))
        if len(cols) > synced:
            self._member = np.concatenate([member, np.zeros(len(cols) - synced, bool)])
            new = ts[synced:]
            inside = new <= now
            if start is not None:
                inside &= new >= start
            self._newest = max(self._newest, float(new.max()))
            self._admit(np.flatnonzero(inside) + synced)
            self._synced = len(cols)
        self._now, self._start = now, start
        return aggregates

    def _admit(self, rows: np.ndarray) -> None:
        if len(rows):
            assert self._aggregates is not None
            self._aggregates.add_rows(self.cols, rows)
            self._member[rows] = True

    def _rebuild(self, now: float, start: float | None) -> WindowAggregates:
        ts = self.cols.ts
        self._aggregates = build_aggregates(self.cols, now, self.window)
        self._member = ts <= now
        if start is not None:
            self._member &= ts >= start
        self._synced = len(self.cols)
        self._newest = float(ts.max()) if len(ts) else -np.inf
        self._now, self._start = now, start
        return self._aggregates
