"""FiguresClock: the one "now" the live console's figures end at.

Every moment the panes compute from (the window's end, the budgets' burn windows and periods,
alert onsets, a version's "new" flag, the compare screen's window) is `clock.now()`, read in
the analytics and ingest threads. Three ways to run it:

- the wall clock (the default): a console on live logs;
- fixed (`llmops-console open --at TIME`, report's `--now` for the TUI): the figures as of
  that moment, whatever the store holds after it;
- anchored: opened on a store whose newest record is older than the window, the windows end
  at that record (a postmortem on last week's logs sees them), and follow newer records as
  they arrive; once one arrives within the window of the wall clock, the logs are live again
  and the clock is the wall's from then on.

A replay (playing the store's requests in time order as if live) moves it with `set(moment)`
each time it hands the feed a batch; nothing else needs to change.

The object is shared between threads; each field is replaced whole (a float or a str), so a
reader sees either the old moment or the new one.
"""

from __future__ import annotations

import time
from typing import Callable

from console.formatting import rfc3339

WALL, FIXED, ANCHORED, REPLAY = "wall", "fixed", "anchored", "replay"


class FiguresClock:
    def __init__(self, at: float | None = None, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._moment = at
        self.mode = WALL if at is None else FIXED
        self._window_seconds = 3600.0  # anchored: how old the newest record may be to count as live
        self._undecided = False  # opened on an empty store: the first records decide

    def now(self) -> float:
        moment = self._moment
        return self._wall() if moment is None else moment

    # -- what moves it ----------------------------------------------------------------------

    def anchor_if_stale(self, newest: float | None, window_seconds: float | None) -> bool:
        """At open: on the wall clock, when the store's newest record is older than the
        window (for "all": than an hour), the windows end at it; an empty store leaves it to
        the first records that arrive (a log file tailed into a new store). Returns whether
        anchored."""
        if self.mode != WALL:
            return False
        self._window_seconds = window_seconds or 3600.0
        self._undecided = newest is None
        if newest is not None and self._wall() - newest > self._window_seconds:
            self._moment, self.mode = newest, ANCHORED
            return True
        return False

    def records_arrived(self, newest: float) -> None:
        """Anchored: newer records move the anchor; one inside the window of the wall clock
        brings the wall clock back (the logs are live). Opened on an empty store: the first
        records decide as the store's newest would have."""
        if self._undecided:
            self.anchor_if_stale(newest, self._window_seconds)
            return
        if self.mode != ANCHORED or self._moment is None or newest <= self._moment:
            return
        if self._wall() - newest <= self._window_seconds:
            self._moment, self.mode = None, WALL
        else:
            self._moment = newest

    def set(self, moment: float) -> None:
        """A replay's moving clock: the figures end at `moment` until the next set."""
        self._moment, self.mode = moment, REPLAY

    # -- what the header says ---------------------------------------------------------------

    def note(self) -> str | None:
        """One line for the header, None on the wall clock."""
        moment = self._moment
        if self.mode == WALL or moment is None:
            return None
        at = rfc3339(moment, timespec="seconds")[:16].replace("T", " ")
        if self.mode == ANCHORED:
            return f"logs end {at} UTC: windows anchored there (--at)"
        if self.mode == FIXED:
            return f"as of {at} UTC (--at)"
        return f"replaying: {at} UTC"
