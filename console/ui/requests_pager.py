"""The thread that reads the requests view's ids and rows from the store.

The view holds only row ids; this thread finds them (the whole history, newest stretch
first, then whatever is committed later) and reads the rows the view is about to draw.
A page the user waits for is read before the next stretch of history, so a jump to the
oldest row does not wait for a filter scanning a million bodies.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable

from textual.message import Message

from console.analytics.filters import RecordFilter
from console.ui.messages import RequestIdsLoaded, RequestPageLoaded, RequestsPagerFailed

HISTORY_STRETCH = 100_000  # ids scanned per step of the history (a step is short: pages wait on it)
TAIL_ROWS = 120  # rows read along with new ids, so the tail is drawn at once
IDLE_WAIT = 0.25


class RequestsPager:
    def __init__(self, post: Callable[[Message], object], store_url: str) -> None:
        self._post = post
        self.store_url = store_url
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._wake = threading.Event()

    # -- called from the UI thread ----------------------------------------------------

    def set_filter(self, record_filter: RecordFilter | None, generation: int) -> None:
        """Start over: every id matching the filter (all when None) is sent again."""
        self._inbox.put(("filter", record_filter, generation))
        self._wake.set()

    def rows_committed(self) -> None:
        """New rows are in the store: look for ids past the last one seen."""
        self._inbox.put(("poke", None, None))
        self._wake.set()

    def want(self, ids: list[int]) -> None:
        self._inbox.put(("page", ids, None))
        self._wake.set()

    def stop(self) -> None:
        self._wake.set()

    # -- the thread -------------------------------------------------------------------

    def run(self, is_cancelled: Callable[[], bool]) -> None:
        from sqlalchemy.exc import DBAPIError

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
        last_id = history_low = history_top = 0
        poked = False
        try:
            while not is_cancelled():
                if history_low <= 0 and self._inbox.empty():
                    self._wake.wait(IDLE_WAIT)
                self._wake.clear()
                wanted: list[int] = []
                restart = False
                while True:
                    try:
                        kind, payload, extra = self._inbox.get_nowait()
                    except queue.Empty:
                        break
                    if kind == "filter":
                        record_filter, generation, restart = payload, extra, True
                    elif kind == "poke":
                        poked = True
                    else:
                        wanted.extend(payload)
                if generation < 0:
                    continue  # the view has not said what it shows yet
                try:
                    if wanted:
                        self._post(RequestPageLoaded(pages.records(list(dict.fromkeys(wanted)))))
                    if restart:
                        indexed = pages.compile(record_filter, indexed=True)
                        scan = pages.compile(record_filter, indexed=False)
                        last_id = history_top = history_low = pages.max_id()
                        poked = True
                        if history_top == 0:
                            self._post(RequestIdsLoaded(generation, _empty(), False, {}, 0.0))
                    if poked:
                        poked = False
                        fresh = pages.ids(scan, last_id)
                        if len(fresh):
                            last_id = int(fresh[-1])
                            tail = pages.records([int(i) for i in fresh[-TAIL_ROWS:]])
                            self._post(RequestIdsLoaded(generation, fresh, True, tail, _left(history_low, history_top)))
                    if history_low > 0 and self._inbox.empty():
                        low = max(history_low - HISTORY_STRETCH, 0)
                        older = pages.ids(indexed, low, history_low)
                        newest_step = history_low == history_top
                        history_low = low
                        tail = pages.records([int(i) for i in older[-TAIL_ROWS:]]) if newest_step else {}
                        self._post(RequestIdsLoaded(generation, older, False, tail, _left(history_low, history_top)))
                except DBAPIError as exc:  # the server restarted, the network blinked: try again
                    self._post(RequestsPagerFailed(f"cannot read the store: {exc.orig}"))
                    self._wake.wait(1.0)
                    poked = True
        finally:
            store.close()


def _left(low: int, top: int) -> float:
    return low / top if top else 0.0


def _empty():
    import numpy as np

    return np.empty(0, dtype=np.int64)
