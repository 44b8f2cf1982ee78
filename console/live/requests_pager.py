"""The thread that reads the requests view's ids and rows from the store.

The view holds only row ids; this thread finds them (the whole history, newest stretch
first, then whatever is committed later, placed by its ts: console/live/shown_order.py) and
reads the rows the view is about to draw.
A page the user waits for is read before the next stretch of history, so a jump to the
oldest row does not wait for a filter scanning a million bodies.

The tail thread pokes it right after each commit (not through the UI thread, where new
rows would wait for the header's coalesced RecordsArrived and a hop on the event loop);
it coalesces the pokes itself, so the view gets at most one batch of new ids, and so one
frame, per TAIL_INTERVAL.

In a replay (console/live/replay.py) it is given the replay's moment (`until`): the history
is the rows up to that moment, and new rows are those the moment has reached since, in time
order; a step back restarts it (set_filter). Under `open --at` the moment is fixed: rows
committed while it runs are shown when stamped up to it, never those after (in no figure).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from console.analytics.filters import RecordFilter
from console.live.events import Post, RequestIdsLoaded, RequestPageLoaded, RequestsPagerFailed
from console.live.inbox import Inbox

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported in the thread, not at the view's import
    from console.store.filter_sql import FilterSQL
    from console.store.pages import RequestPages

FIRST_STRETCH = 2_000  # the newest rows first, cheaply: the screen needs a few dozen
HISTORY_STRETCH = 100_000  # ids scanned per step of the history (a step is short: pages wait on it)
TAIL_ROWS = 120  # rows read along with new ids, so the tail is drawn at once
IDLE_WAIT = 0.25
TAIL_INTERVAL = 0.1  # new ids reach the view at most this often: each batch costs the UI thread a frame
HISTORY_PAUSE = 0.15  # seconds between stretches of the history scan
# after the console's first screenful, before the rest of the history: the first figures are
# being loaded at that moment, and the scan (a Python object per id) would take turns on the GIL
# with them (py-spy at start on 1M rows: the scan held it twice as long as the seed's load)
STARTUP_PAUSE = 1.0


@dataclass(frozen=True, slots=True)
class SetFilter:
    record_filter: RecordFilter | None
    generation: int


@dataclass(frozen=True, slots=True)
class WantRows:
    ids: list[int]


class RequestsPager:
    def __init__(self, post: Post, store_url: str, until: Callable[[], float] | None = None) -> None:
        self._post = post
        self.store_url = store_url
        self._until = until  # a replay's moment: only rows with ts <= until() are shown
        self._inbox: Inbox[SetFilter | WantRows] = Inbox()
        self._poked = False

    # -- called from the UI thread ----------------------------------------------------

    def set_filter(self, record_filter: RecordFilter | None, generation: int) -> None:
        """Start over: every id matching the filter (all when None) is sent again."""
        self._inbox.send(SetFilter(record_filter, generation))

    def rows_committed(self) -> None:
        """New rows are in the store: look for ids past the last one seen. Thread-safe: the
        tail thread calls it after each commit, so while a poke is pending the next ones
        are dropped: a wake-up per commit would take the GIL from the UI thread each time."""
        if not self._poked:
            self._poked = True  # cleared by the thread just before it looks: no poke is lost
            self._inbox.wake()

    def want(self, ids: list[int]) -> None:
        self._inbox.send(WantRows(ids))

    def stop(self) -> None:
        self._inbox.wake()

    # -- the thread -------------------------------------------------------------------

    def run(self, is_cancelled: Callable[[], bool]) -> None:
        from sqlalchemy.exc import DBAPIError

        from console.live.shown_order import ShownOrder
        from console.store import Store, StoreError
        from console.store.pages import RequestPages

        try:
            store = Store(self.store_url)
        except StoreError as exc:
            self._post(RequestsPagerFailed(str(exc)))
            return
        pages = RequestPages(store.engine)
        generation = -1
        record_filter: RecordFilter | None = None
        indexed = scan = None
        last_id = top = 0
        last_ts = 0.0  # a replay: the moment up to which new rows were sent
        history_ts: float | None = None  # a replay: the history is the rows up to the moment at the restart
        history: _History | None = None  # the part of the history not scanned yet
        order = ShownOrder()  # the ts of the rows shown, to place the rows committed later
        tail_due = 0.0  # monotonic time before which new ids are held back (coalesced)
        # between two stretches of history, a pause: the scan holds the GIL for much of its
        # time, and the first figures are being loaded at the same moment
        history_due = 0.0
        try:
            while not is_cancelled():
                now = time.monotonic()
                pause = IDLE_WAIT
                if history is not None:
                    pause = min(pause, history_due - now)
                if self._poked:  # new rows held back (coalesced) until they are due
                    pause = min(pause, tail_due - now)
                if pause > 0 and not self._inbox.has_mail():
                    self._inbox.wait(pause)
                wanted: list[int] = []
                restart = False
                for command in self._inbox.take_all():
                    match command:
                        case SetFilter(record_filter, generation):
                            restart = True
                        case WantRows(ids):
                            wanted.extend(ids)
                if generation < 0:
                    continue  # the view has not said what it shows yet
                try:
                    if wanted:
                        self._post(RequestPageLoaded(pages.records(list(dict.fromkeys(wanted)))))
                    if restart:
                        indexed = pages.compile(record_filter, indexed=True)
                        scan = pages.compile(record_filter, indexed=False)
                        last_id = top = pages.max_id()
                        if self._until is not None:
                            last_ts = history_ts = self._until()
                        span = _scanned_span(pages.time_span() if top else None, record_filter, history_ts)
                        history = _History(span) if span else None
                        order = ShownOrder()
                        history_due = 0.0
                        self._poked = True
                        if history is None:
                            self._post(RequestIdsLoaded(generation, _empty(), False, {}, 0.0))
                    if self._poked and (restart or time.monotonic() >= tail_due):
                        self._poked = False
                        moment = None if self._until is None else self._until()
                        if moment is None:
                            fresh, fresh_ts = pages.keys(scan, last_id)
                            seen_id = int(fresh.max()) if len(fresh) else last_id
                        else:
                            fresh, fresh_ts, seen_id = _up_to_moment(pages, scan, last_id, last_ts, moment)
                        if len(fresh):
                            # read before anything moves on: a store error here leaves them to the next look
                            newest = fresh[np.lexsort((fresh, fresh_ts))[-TAIL_ROWS:]]
                            tail = pages.records([int(i) for i in newest])
                        last_id = max(last_id, seen_id)
                        if moment is not None:
                            last_ts = max(last_ts, moment)
                        if len(fresh):
                            fresh, positions = order.place(fresh, fresh_ts, scanning=history is not None)
                        if len(fresh):  # else all held for the history's stretches
                            left = history.left if history else 0.0
                            self._post(RequestIdsLoaded(generation, fresh, True, tail, left, positions))
                            tail_due = time.monotonic() + TAIL_INTERVAL
                    if history is not None and not self._inbox.has_mail() and time.monotonic() >= history_due:
                        stretch = FIRST_STRETCH if history.first else HISTORY_STRETCH
                        older, older_ts, before = pages.history_keys(
                            indexed, top, history.before, stretch, up_to_ts=history_ts)
                        tail = pages.records([int(i) for i in older[-TAIL_ROWS:]]) if history.first else {}
                        history.before = before
                        done = before is None
                        older, _ = order.prepend(older, older_ts, done)  # with the rows held for it
                        starting = history.first and generation == 0
                        history.first = False
                        self._post(RequestIdsLoaded(generation, older, False, tail, 0.0 if done else history.left))
                        history_due = time.monotonic() + (STARTUP_PAUSE if starting else HISTORY_PAUSE)
                        if done:
                            history = None
                except DBAPIError as exc:  # the server restarted, the network blinked: try again
                    self._post(RequestsPagerFailed(f"cannot read the store: {exc.orig}"))
                    self._inbox.wait(1.0)
                    self._poked = True
        finally:
            store.close()


class _History:
    """Where the scan of the history (newest first, in time order) has got to."""

    def __init__(self, span: tuple[float, float]) -> None:
        self.oldest, self.newest = span
        self.before: tuple[float, int] | None = None  # (ts, id) of the oldest row sent
        self.first = True

    @property
    def left(self) -> float:
        """The share of the time span not scanned yet."""
        if self.before is None:
            return 1.0 if self.first else 0.0
        whole = self.newest - self.oldest
        return (self.before[0] - self.oldest) / whole if whole > 0 else 0.0


def _up_to_moment(
    pages: RequestPages, where: FilterSQL, last_id: int, last_ts: float, moment: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The rows to add with a moment (a replay's, or `open --at`'s): those committed since the
    last look stamped up to it, and the older ones a moment moved forward has reached (ids and
    ts); and the newest id looked at. A row stamped after the moment is in no figure: it waits
    (for a replay's moment to reach it) or is never shown (--at)."""
    newest_id = pages.max_id()
    committed, committed_ts = pages.keys(where, last_id, up_to_id=newest_id, up_to_ts=moment)
    if moment <= last_ts:
        return committed, committed_ts, max(last_id, newest_id)
    reached, reached_ts = pages.keys_in_time(where, last_ts, moment, up_to_id=last_id)
    return np.concatenate((reached, committed)), np.concatenate((reached_ts, committed_ts)), max(last_id, newest_id)


def _scanned_span(
    span: tuple[float, float] | None, record_filter: RecordFilter | None, until: float | None = None,
) -> tuple[float, float] | None:
    """The time the history scan goes through: the store's, from a since: term's moment on
    (where the scan stops), up to the moment when there is one, so its progress is a share of that."""
    since = record_filter.since if record_filter else None
    if span is None:
        return span
    oldest, newest = span
    if until is not None:
        newest = max(min(newest, until), oldest)
    if since is not None:
        oldest = min(max(oldest, since), newest)
    return oldest, newest


def _empty(dtype=np.int64) -> np.ndarray:
    return np.empty(0, dtype=dtype)
