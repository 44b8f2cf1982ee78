"""How the live tail writes its batches: in its own thread while it keeps up, through a
writer process while it is behind.

In one process the SQLite inserts take about 60% of the tail thread's time on the GIL,
which the UI, the analytics and the scoring threads also need. When the writer outpaces
the console (the tail reads full batches), batches go to a child process
(console.store.writer_process, as `ingest` does for big files), two in flight, so
decoding here and inserting there use both cores. When it has caught up, what is in
flight is waited for and writes go back to the thread, where a batch's rows show at once
and a refused write is retried (write_until_stored).
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from console.ingest import Written
from console.sources.base import SourceBatch
from console.store.writers import WriteResult


class LiveWriter:
    """console.ingest's TailWriter for the live console."""

    def __init__(self, store, write_in_thread: Callable[[SourceBatch], WriteResult | None]) -> None:
        """write_in_thread(batch): the batch written here, retried while the store refuses
        it; None when cancelled meanwhile (or stopped for good)."""
        self._store = store
        self._write_in_thread = write_in_thread
        self._process = None
        self._process_failed = store.sqlite_path is None  # PostgreSQL takes concurrent writers itself
        self._in_flight: deque[SourceBatch] = deque()

    def write(self, batch: SourceBatch, behind: bool) -> Written | None:
        """The batches whose writes are done, oldest first (maybe none yet, maybe earlier
        ones); None when cancelled while the store refused a write."""
        if behind and not self._process_failed:
            return self._submit(batch)
        done = self.flush()
        if done is None:
            return None
        result = self._write_in_thread(batch)
        return None if result is None else [*done, (batch, result)]

    def flush(self) -> Written | None:
        """Wait for every batch in flight."""
        if not self._in_flight:
            return []
        from console.store import StoreError

        try:
            results = self._process.drain()
        except StoreError:
            return self._rewrite_in_flight()
        return [(self._in_flight.popleft(), result) for result in results]

    def _submit(self, batch: SourceBatch) -> Written | None:
        from console.store import StoreError
        from console.store.writer_process import WriterProcess
        from console.store.writers import PreparedBatch

        try:
            if self._process is None:
                self._store.discard_writer()  # one writer connection at a time
                self._process = WriterProcess(self._store.sqlite_path, quiet=True)
            self._in_flight.append(batch)
            results = self._process.submit(PreparedBatch.of(batch, self._store.host, with_block=True))
        except (StoreError, OSError):
            return self._rewrite_in_flight()
        return [(self._in_flight.popleft(), result) for result in results]

    def _rewrite_in_flight(self) -> Written | None:
        """The child failed (a full disk, a locked store): what it may not have committed is
        written here, where refused writes are retried. Each batch commits whole with its
        offsets, and rows are unique by request_id, so nothing is stored twice."""
        self._close_process()
        self._process_failed = True
        done: Written = []
        while self._in_flight:
            batch = self._in_flight.popleft()
            result = self._write_in_thread(batch)
            if result is None:
                return None
            done.append((batch, result))
        return done

    def _close_process(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            try:
                process.close()
            except Exception:  # a child that died: nothing more to release
                pass

    def close(self) -> None:
        self.flush()
        self._close_process()

    def __enter__(self) -> LiveWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None and self._in_flight:
            from console.store import StoreError

            try:  # at most two batches: let them commit (and answer) before the pipes close
                self._process.drain()
            except (StoreError, OSError):
                pass
        self._close_process()
