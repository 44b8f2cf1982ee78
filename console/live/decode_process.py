"""The live console's decoding process: behind a firehose, the tail's JSONL lines are parsed,
priced and prepared here, not on the console's GIL.

py-spy on bench/live.py at 40,000 lines/s: the console process held its GIL ~70% of the
time, a third of it the ingest thread parsing lines and preparing batches for the writer
process, and another fifth the analytics thread making columns out of records one by one,
while the UI drew. So, as `ingest` splits a bulk load over two processes, the live tail
behind by full batches hands its raw lines (read, split and numbered by the tail, which
keeps offsets, truncation and rotation) to this process, which decodes them strictly
(console.records_for_store: the bodies kept as JSON text), prices them, prepares the batch
(body blocks compressed here, the column block's numbers) and sends it to its own writer
process (console.store.writer_process),
then answers, in order, with the WriteResult, the rejected lines (file:line, as the tail
reports them) and the stored rows' analytics columns (Columns: about 130 bytes a row,
added to the window with Columns.extend, no record objects in the console).

A batch that holds a line the tail alone can read (an OTLP span in a JSONL file, read with
the file's Logfire stream joiner) is declined, and so is every batch after it until the
console says resume: the console parses those itself and writes them in order. Each batch
commits whole with its file offsets in the writer; this process and its writer die with
their parent (PR_SET_PDEATHSIG): a kill -9 leaves a committed prefix, and a restart resumes.
"""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
import threading
from collections import deque
from multiprocessing.connection import Connection

import msgspec

from console.store.engine import StoreError
from console.store.writer_process import close_child

DEPTH = 3  # batches sent and not answered yet: one decoding, one writing, one in the pipe
_DECLINED = ("declined",)


class DecodeProcess:
    """The console's end: batches in (raw lines or prepared), answers out, in order."""

    def __init__(self, sqlite_path: str, host: str, source_format: str = "auto", pricer=None, depth: int = DEPTH) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "console.live.decode_process", sqlite_path, source_format],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # under a full-screen UI it would scribble on the screen
        )
        self._send_end = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._receive_end = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._process.stdin.close()
        self._process.stdout.close()
        self.depth, self.in_flight = depth, 0
        self._encoder = msgspec.msgpack.Encoder()
        self._send((_fresh_pricer(pricer), host))

    def send(self, message: tuple) -> None:
        """("raw", raw, positions, rejected) or ("prepared", PreparedBatch); its answer is
        taken with receive() (at most `depth` in flight is the caller's to keep)."""
        if message[0] == "prepared":
            batch = message[1]
            message = ("prepared", self._encoder.encode(batch), batch.count)
        self._send(message)
        self.in_flight += 1

    def resume(self) -> None:
        """After a decline: take batches again."""
        self._send(("resume",))

    def receive(self) -> tuple:
        """("done", WriteResult, columns or None, rejected or None, {path: (ok, rejected)})
        or ("declined",)."""
        try:
            answer = pickle.loads(self._receive_end.recv_bytes())
        except (EOFError, OSError):
            raise StoreError("the store's decoding process stopped unexpectedly") from None
        self.in_flight -= 1
        if answer[0] == "failed":
            raise StoreError(answer[1])
        return answer

    def _send(self, message) -> None:
        try:
            self._send_end.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            raise StoreError("the store's decoding process stopped unexpectedly") from None

    def close(self) -> None:
        close_child(self._send_end, self._receive_end, self._process)


def _fresh_pricer(pricer):
    """The console's pricer without its cache of price sources (rebuilt there on use)."""
    if pricer is None:
        return None
    fresh = object.__new__(type(pricer))
    fresh.__dict__.update(pricer.__dict__)
    fresh._sources = {}
    return fresh


def decode(raw: list[tuple[str, int, list[bytes]]], source_format: str):
    """(records, rejected, {path: (ok, rejected)}) of the lines, as LogTail parses a JSONL
    file's lines; None when a line is one only the tail can read (an OTLP span)."""
    from console.records import RecordError
    from console.records_for_store import parse_line_for_store  # the bodies go to the writer only
    from console.sources.detect import looks_like_otlp
    from console.sources.jsonl import bad_line

    records: list = []
    rejected: list = []
    counts: dict[str, tuple[int, int]] = {}
    append = records.append
    for path, first_no, lines in raw:
        before, refused = len(records), len(rejected)
        for line_no, line in enumerate(lines, first_no):
            try:
                append(parse_line_for_store(line))
            except Exception as exc:  # noqa: BLE001 - a bad line must never stop the tail
                if source_format == "auto" and isinstance(exc, RecordError) and looks_like_otlp(line):
                    return None
                refusal = bad_line(path, line_no, line, exc)
                if refusal is not None:
                    rejected.append(refusal)
        ok, bad = counts.get(path, (0, 0))
        counts[path] = (ok + len(records) - before, bad + len(rejected) - refused)
    return records, rejected, counts


def serve(path: str, source_format: str, incoming: Connection, outgoing: Connection) -> None:
    """The child's loop: this thread decodes and sends batches to the writer; `answer`
    receives the writer's results and answers the console, in order."""
    from console.analytics.columns import Columns
    from console.ingest import _ids_left_unused
    from console.malloc import fix_mmap_threshold
    from console.sources.base import SourceBatch
    from console.store.sqlite_writer import next_row_id
    from console.store.writer_process import WriterProcess, _die_with_parent
    from console.store.writers import PreparedBatch

    _die_with_parent()
    fix_mmap_threshold()
    gc.disable()  # millions of acyclic records: reference counting frees each batch
    pricer, host = pickle.loads(incoming.recv_bytes())
    writer = WriterProcess(path, quiet=True)
    encoder = msgspec.msgpack.Encoder()
    pending: deque = deque()  # per batch sent: (records, rejected, counts) or _DECLINED
    ready = threading.Condition()
    # the id the next batch's first row will likely get (its bodies go as blocks made with it):
    # the first free id, plus the rows sent, less those the writer found already stored
    first_id, sent, unused = next_row_id(path), 0, [0]

    def send(answer) -> bool:
        try:
            outgoing.send_bytes(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
            return True
        except OSError:  # the console is gone: what was committed stays committed
            return False

    def answer() -> None:
        while True:
            with ready:
                while not pending:
                    ready.wait()
                entry = pending.popleft()
            if entry is None:  # the console closed its end
                return
            if entry is _DECLINED:
                if not send(_DECLINED):
                    return
                continue
            records, rejected, counts = entry
            try:
                result = writer.receive()
            except StoreError as exc:
                send(("failed", str(exc)))
                return
            unused[0] += _ids_left_unused(result)  # written by this thread only
            columns = None
            if records is not None:
                columns = Columns()
                columns.append(result.new_records(records))
            if not send(("done", result, columns, rejected, counts)):
                return

    def queue(entry) -> None:
        with ready:
            pending.append(entry)
            ready.notify()

    answering = threading.Thread(target=answer, daemon=True)
    answering.start()
    declined = False
    try:
        while True:
            try:
                message = pickle.loads(incoming.recv_bytes())
            except (EOFError, OSError):
                return
            kind = message[0]
            if kind == "resume":
                declined = False
                continue
            if declined:
                queue(_DECLINED)
                continue
            if kind == "prepared":
                _, payload, count = message
                queue((None, None, None))
                writer.send(payload)
                sent += count
                continue
            _, raw, positions, rejected_here = message
            decoded = decode(raw, source_format)
            if decoded is None:
                declined = True
                queue(_DECLINED)
                continue
            records, rejected, counts = decoded
            if pricer is not None:
                pricer.fill(records)
            batch = SourceBatch(records=records, rejected=rejected_here + rejected,
                                positions={p.path: p for p in positions})  # fmt: skip
            prepared = PreparedBatch.of(batch, host, first_id=first_id + sent - unused[0])
            sent += len(records)
            queue((records, batch.rejected, counts))
            writer.send(encoder.encode(prepared))
    finally:
        queue(None)
        answering.join()
        writer.close()


def main() -> None:
    # stdout carries the answers, so nothing else may print there.
    outgoing = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    serve(sys.argv[1], sys.argv[2], Connection(os.dup(0), writable=False), outgoing)


if __name__ == "__main__":
    main()
