"""Replay: the store's requests played in time order as if live, from one moment to another.

`llmops-console replay --from T1 --to T2 [--speed 10]` opens the console on a store and moves
the figures' clock (console/live/figures_clock.py, `set`) from T1 to T2 at `speed` times the
wall clock. This thread stands in for the ingest thread, and does what it does:

- at start, seeds the analytics feed with the stored rows before T1 that the window and the
  budgets need (console/live/analytics_feed.py), as the live seed does with the rows before now;
- then, a tick at a time, reads the next stretch of rows from the store as columns (by ts,
  a little ahead of the clock: rows ahead of it wait in the feed's memory until their time
  comes, console/analytics/live.py), hands them to the feed, moves the clock, pokes the
  requests pager (which shows only rows with ts <= the clock: console/live/requests_pager.py)
  and posts RecordsArrived for the header, as the ingest thread would.

A step back moves the clock back at once (the window is a pure function of the store and the
moment: the feed rebuilds its aggregates from the rows it holds); the requests table starts
over at the new moment. The store is opened for reading: nothing here writes requests or
rollups (no tail, no OTLP receiver). Triage (`t`) scores in memory, up to the moment
(console/live/replay_scoring.py). Labels made meanwhile are real labels, saved as always.

The timeline's alert marks are the alert backtest's episodes over [T1, T2]
(console/analytics/backtest.py over the rollup minute cells, console/store/minute_series.py):
the same computation as `check --backtest`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from console.live.analytics_feed import AnalyticsFeed
from console.live.events import HistoryLoaded, IngestFailed, Post, RecordsArrived

SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)  # what + and - step through
TICK = 0.1  # wall seconds between moves of the clock
STEP_SECONDS = 60.0  # [ and ]
LOOKAHEAD_WALL = 2.0  # rows are read this many wall seconds of replay ahead of the clock...
LOOKAHEAD_MIN = 30.0  # ...and at least this many replayed seconds
MINUTE = 60
BLOCKS_FROM_ROWS = 20_000  # a stretch read from the column blocks above this many rows


@dataclass(frozen=True, slots=True)
class AlertMark:
    """One alert episode over the replayed period (an Episode of console.analytics.backtest)."""

    start: float
    end: float | None  # None: still firing at the period's end
    severity: str  # "warn" or "page"
    kind: str
    subject: str


@dataclass(frozen=True, slots=True)
class ReplayState:
    """What the timeline draws: read by the UI thread (ReplayDriver.state), never blocking."""

    start: float
    end: float
    moment: float
    speed: float
    paused: bool
    rows: int  # stored rows with ts <= moment (what the header counts as stored)
    marks: tuple[AlertMark, ...] | None  # None: still being computed
    ready: bool  # the seed is in: the clock moves
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.moment >= self.end


class ReplayDriver:
    """Thread-safe controls (pause, step, speed) for the UI thread; `run` is the thread."""

    def __init__(
        self, post: Post, feed: AnalyticsFeed, store_url: str, start: float, end: float, speed: float = 10.0,
        committed: Callable[[], object] | None = None, wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if end <= start:
            raise ValueError("the replay's end must be after its start")
        self._post = post
        self.feed = feed
        self.store_url = store_url
        self.start, self.end = float(start), float(end)
        self.committed = committed  # pokes the requests pager (set by the UI before the thread starts)
        self._wall = wall
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._moment = self.start
        self._speed = float(speed)
        self._paused = False
        self._ready = False
        self._error: str | None = None
        self._marks: tuple[AlertMark, ...] | None = None
        self._seeded_rows = 0
        self._loaded_until = self.start  # rows with ts < this are in the feed
        self._loaded_ts = np.zeros(0)  # the ts of the rows handed over since the seed, ascending
        self._shown = self.start  # where the clock is (never past _loaded_until)
        self._stepped = False  # a step asked for: the figures follow at once, not coalesced
        feed.clock.set(self.start)

    # -- the UI thread ------------------------------------------------------------------

    def state(self) -> ReplayState:
        with self._lock:
            shown = self._shown
            rows = self._seeded_rows + int(np.searchsorted(self._loaded_ts, shown, "right"))
            return ReplayState(self.start, self.end, shown, self._speed, self._paused, rows, self._marks,
                               self._ready, self._error)

    def toggle_pause(self) -> bool:
        """Pause or resume; at the end, resume starts over from the beginning. Returns paused."""
        with self._lock:
            if self._paused and self._moment >= self.end:
                self._moment = self.start
                rewound = True
            else:
                rewound = False
            self._paused = not self._paused
            paused = self._paused
        if rewound:
            self._move_clock_back()
        self._wake.set()
        return paused

    def step(self, seconds: float) -> bool:
        """Move the moment by `seconds` (within [start, end]); returns True when it went back
        (the requests table must start over: rows after the moment leave it)."""
        with self._lock:
            self._moment = min(max(self._moment + seconds, self.start), self.end)
            back = self._moment < self._shown
            self._stepped = True
        if back:
            self._move_clock_back()
        self._wake.set()
        return back

    def faster(self) -> float:
        return self._set_speed(+1)

    def slower(self) -> float:
        return self._set_speed(-1)

    def _set_speed(self, direction: int) -> float:
        with self._lock:
            at = int(np.searchsorted(SPEEDS, self._speed))
            if direction < 0:
                at -= 1
            elif at < len(SPEEDS) and SPEEDS[at] == self._speed:
                at += 1
            self._speed = SPEEDS[min(max(at, 0), len(SPEEDS) - 1)]
            return self._speed

    def _move_clock_back(self) -> None:
        """The rows before the moment are all held already: the clock moves now, so the
        requests table restarting next reads the new moment."""
        with self._lock:
            self._shown = min(self._moment, self._loaded_until)
            self.feed.clock.set(self._shown)
        self.feed.clock_moved(urgent=True)

    def stop(self) -> None:
        self._wake.set()

    # -- the thread ---------------------------------------------------------------------

    def run(self, is_cancelled: Callable[[], bool]) -> None:
        from console.store import Store, StoreError

        try:
            store = Store(self.store_url, for_reading=True)
        except StoreError as exc:
            self._fail(str(exc))
            return
        try:
            self._seed(store)
            self._compute_marks(store)
            last = self._wall()
            while not is_cancelled():
                self._wake.wait(TICK)
                self._wake.clear()
                now = self._wall()
                self._advance(store, now - last)
                last = now
        except Exception as exc:  # the UI must hear why the replay stopped
            self._fail(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            store.close()

    def _fail(self, reason: str) -> None:
        with self._lock:
            self._error = reason
        self._post(IngestFailed(f"replay stopped: {reason}"))

    def _seed(self, store) -> None:
        """The rows before the start that the window (and budgets) need, as the live seed
        loads the rows before now (console/live/history.py)."""
        from console.analytics.budget import budget_baselines
        from console.analytics.report import rows_needed_since
        from console.store.window_report import load_since

        feed, settings = self.feed, self.feed.settings
        feed.attach_store(store)
        needed = load_since(self.start, feed.window, settings)
        since = needed
        if store.count_between(needed, self.start) > feed.max_rows:
            since = rows_needed_since(self.start, feed.window, settings)  # the figures come from the store
        columns = store.load_columns(since, before_ts=self.start)
        if since is not None:
            columns.fold_first_seen(*store.first_seen_between(None, since))
        baselines = budget_baselines(store.spend_nano_between, settings.budgets, self.start, since)
        feed.seed(columns, {}, baselines, held_since=since)
        seeded = store.count_between(None, self.start)
        with self._lock:
            self._seeded_rows = seeded
            self._ready = True
        self._post(HistoryLoaded(seeded, store.rejected_lines(500), store.rejected_count()))

    def _compute_marks(self, store) -> None:
        marks = alert_marks(store, self.feed.settings, self.feed.window, self.start, self.end)
        with self._lock:
            self._marks = marks

    def _advance(self, store, elapsed: float) -> None:
        with self._lock:
            if not self._paused:
                self._moment = min(self._moment + elapsed * self._speed, self.end)
                if self._moment >= self.end:
                    self._paused = True  # the end: space starts over
            moment, speed, stepped = self._moment, self._speed, self._stepped
            self._stepped = False
        if moment >= self._loaded_until or (self._loaded_until < self.end and not self._paused
                                            and moment + LOOKAHEAD_WALL * speed / 2 > self._loaded_until):
            self._load_until(store, min(moment + max(LOOKAHEAD_WALL * speed, LOOKAHEAD_MIN), self.end))
        with self._lock:
            before = self._shown
            self._shown = min(self._moment, self._loaded_until)
            shown = self._shown
            if shown == before:
                return
            self.feed.clock.set(shown)
            added = int(np.searchsorted(self._loaded_ts, shown, "right") - np.searchsorted(self._loaded_ts, before, "right"))
        self.feed.clock_moved(urgent=stepped or shown < before)
        if added > 0:
            self._post(RecordsArrived([], [], added, []))
        if self.committed is not None:
            self.committed()

    def _load_until(self, store, until: float) -> None:
        """The rows with ts in [loaded_until, until) (the end itself included at the end)."""
        before = until if until < self.end else np.nextafter(self.end, np.inf)
        if before <= self._loaded_until:
            return
        # a stretch of a few hundred rows reads faster along the ts index than by decoding the
        # column blocks it falls in (each holds tens of thousands of rows)
        blocks = store.count_between(self._loaded_until, before) > BLOCKS_FROM_ROWS
        columns = store.load_columns(self._loaded_until, before_ts=before, blocks=blocks)
        self.feed.add_columns(columns)
        with self._lock:
            if len(columns):
                self._loaded_ts = np.concatenate([self._loaded_ts, np.asarray(columns.ts, np.float64)])
            self._loaded_until = float(before)


def alert_marks(store, settings, window: str, start: float, end: float) -> tuple[AlertMark, ...]:
    """When each alert rule would have fired over [start, end]: the backtest's episodes
    (console/analytics/backtest.py over the store's rollup minute cells)."""
    from console.analytics.backtest import backtest, lookback_seconds
    from console.store.minute_series import first_minute, read_minute_series

    lookback = lookback_seconds(settings, window)
    first = int(start // MINUTE * MINUTE - (lookback or 0))
    if lookback is None:
        first = min(first, first_minute(store) or first)
    last_end = int(end // MINUTE * MINUTE)
    series = read_minute_series(store, list(settings.budgets), first, max((last_end - first) // MINUTE, 0))
    return tuple(
        AlertMark(episode.start, episode.end, episode.severity, episode.rule.kind, episode.rule.subject)
        for episode in backtest(series, settings, window, start, end)
    )
