"""Commands from the UI thread to a live thread: a queue, and the event that wakes the thread.

The analytics feed, the requests pager and the scoring feed each own one; their commands are
small frozen dataclasses declared beside them, taken in the order sent.
"""

from __future__ import annotations

import queue
import threading
from typing import Generic, TypeVar

C = TypeVar("C")


class Inbox(Generic[C]):
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[C] = queue.SimpleQueue()
        self._wake = threading.Event()

    # -- any thread ---------------------------------------------------------------------

    def send(self, command: C) -> None:
        self._queue.put(command)
        self._wake.set()

    def wake(self) -> None:
        """Wake the thread without a command (stop, a new window, rows committed)."""
        self._wake.set()

    # -- the thread -----------------------------------------------------------------------

    def wait(self, timeout: float) -> bool:
        """Until woken (True) or timeout passes (False); a wake-up stays until take_all."""
        return self._wake.wait(timeout)

    def has_mail(self) -> bool:
        return not self._queue.empty()

    def take_all(self) -> list[C]:
        """Every command sent so far, oldest first. The wake-up is cleared first, so a command
        sent meanwhile is either taken now or wakes the next wait."""
        self._wake.clear()
        taken: list[C] = []
        while True:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                return taken
