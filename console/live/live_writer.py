"""How the live tail writes its batches: in its own thread while it keeps up, through a
decoding process and its writer process while it is behind.

In one process the SQLite inserts take about 60% of the tail thread's time on the GIL,
which the UI, the analytics and the scoring threads also need; and decoding the lines and
preparing them for a writer took another third of the console's GIL at 40,000 lines/s.
When the writer outpaces the console (the tail reads full batches), the tail leaves the
JSONL lines of its next batches unparsed (LogTail.defer_jsonl) and they go to a child
process (console.live.decode_process) that decodes, prices and prepares them and has its
own writer process insert them, as `ingest` does for big files: three processes share the
work and the console's GIL keeps only reading, the UI and the figures. What comes back
per batch is the WriteResult, the rejected lines and the stored rows' analytics columns.
When the tail has caught up, what is in flight is waited for and writes go back to the
thread, where a batch's rows show at once and a refused write is retried
(write_until_stored).
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from console.ingest import Written
from console.sources.base import SourceBatch
from console.store.writers import WriteResult


class LiveWriter:
    """console.ingest's TailWriter for the live console."""

    def __init__(self, store, write_in_thread: Callable[[SourceBatch], WriteResult | None], tail=None,
                 pricer=None, source_format: str = "auto") -> None:  # fmt: skip
        """write_in_thread(batch): the batch written here, retried while the store refuses
        it; None when cancelled meanwhile (or stopped for good). tail: the LogTail whose
        batches may hold lines it left unparsed (batch.raw), parsed here when the decoding
        process cannot take them."""
        self._store = store
        self._write_in_thread = write_in_thread
        self._tail, self._pricer, self._source_format = tail, pricer, source_format
        self._process = None
        self._process_failed = store.sqlite_path is None  # PostgreSQL takes concurrent writers itself
        self._in_flight: deque[SourceBatch] = deque()

    @property
    def decodes_elsewhere(self) -> bool:
        """Whether a batch's lines may be left unparsed for the decoding process."""
        return self._tail is not None and not self._process_failed

    def lines_in_flight(self) -> dict[str, int]:
        """Per file, the lines read and handed to the decoding process but not committed yet:
        up to three batches of them, in no figure (the tail's offset is past them)."""
        counts: dict[str, int] = {}
        for batch in self._in_flight:
            for path, _, lines in batch.raw:
                counts[path] = counts.get(path, 0) + len(lines)
        return counts

    def write(self, batch: SourceBatch, behind: bool) -> Written | None:
        """The batches whose writes are done, oldest first (maybe none yet, maybe earlier
        ones); None when cancelled while the store refused a write."""
        if (behind or batch.raw) and not self._process_failed:
            done = self._submit(batch)
            if done is None or behind:
                return done
            more = self.flush()  # caught up: this batch's rows are shown at once
            return None if more is None else [*done, *more]
        done = self.flush()
        if done is None:
            return None
        return self._write_here(batch, done)

    def flush(self) -> Written | None:
        """Wait for every batch in flight."""
        done: Written = []
        try:
            while self._in_flight:
                if self._take(self._process.receive(), done) is None:
                    return None
        except (self._store_error(), OSError):
            return self._rewrite_in_flight(done)
        return done

    def _submit(self, batch: SourceBatch) -> Written | None:
        from console.live.decode_process import DecodeProcess
        from console.store.writers import PreparedBatch

        if batch.raw and (batch.records or batch.held or batch.released):
            self._parse_here(batch)  # lines parsed here too: the batch goes prepared, in its order
        done: Written = []
        try:
            if self._process is None:
                self._store.discard_writer()  # one writer connection at a time
                self._process = DecodeProcess(self._store.sqlite_path, self._store.host, self._source_format, self._pricer)
            if batch.raw:
                message = ("raw", batch.raw, list(batch.positions.values()), batch.rejected)
            else:
                message = ("prepared", PreparedBatch.of(batch, self._store.host))
            while self._process.in_flight >= self._process.depth:  # before this batch is in flight
                if self._take(self._process.receive(), done) is None:
                    return None
            self._process.send(message)
        except (self._store_error(), OSError):
            self._in_flight.append(batch)
            return self._rewrite_in_flight(done)
        self._in_flight.append(batch)
        return done

    def _take(self, answer: tuple, done: Written) -> Written | None:
        """The answer for the oldest batch in flight, into done. A declined batch, and the
        ones after it (declined too), are parsed and written here, then the process resumes."""
        if answer[0] == "declined":
            declined = [self._in_flight.popleft()]
            while self._in_flight:
                self._process.receive()  # declined as well: sent after it
                declined.append(self._in_flight.popleft())
            for batch in declined:
                if self._write_here(batch, done) is None:
                    return None
            self._process.resume()
            return done
        _, result, columns, rejected, counts = answer
        batch = self._in_flight.popleft()
        if rejected is not None:  # lines decoded there
            batch.raw, batch.rejected, batch.columns = [], rejected, columns
            for path, (ok, bad) in counts.items():
                self._tail.count_parsed(path, ok, bad)
        done.append((batch, result))
        return done

    def _write_here(self, batch: SourceBatch, done: Written) -> Written | None:
        if batch.raw:
            self._parse_here(batch)
        result = self._write_in_thread(batch)
        if result is None:
            return None
        done.append((batch, result))
        return done

    def _parse_here(self, batch: SourceBatch) -> None:
        self._tail.parse_deferred(batch)
        if self._pricer is not None:
            self._pricer.fill(batch.records)

    def _rewrite_in_flight(self, done: Written) -> Written | None:
        """The child failed (a full disk, a locked store): what it may not have committed is
        written here, where refused writes are retried. Each batch commits whole with its
        offsets, and rows are unique by request_id, so nothing is stored twice."""
        self._close_process()
        self._process_failed = True
        while self._in_flight:
            if self._write_here(self._in_flight.popleft(), done) is None:
                return None
        return done

    @staticmethod
    def _store_error() -> type[Exception]:
        from console.store import StoreError

        return StoreError

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
            try:  # at most a few batches: let them commit (and answer) before the pipes close
                while self._in_flight and self._process.in_flight:
                    self._process.receive()
                    self._in_flight.popleft()
            except (self._store_error(), OSError):
                pass
        self._close_process()
