"""A SQLite writer in a child process, so decoding and inserting use both cores.

In one process the two take turns on the GIL (measured: a reader thread gains nothing).
The parent decodes and sends plain tuples; the child inserts them. At most `depth`
batches are in flight, so memory stays bounded. Each batch still carries its own offsets
and is committed whole, and the child dies with its parent (PR_SET_PDEATHSIG), so a
kill -9 leaves exactly a committed prefix of what was read: a restart resumes cleanly.
"""

from __future__ import annotations

import gc
import os
import queue
import signal
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

import msgspec

from console.malloc import fix_mmap_threshold
from console.store.engine import StoreError
from console.store.sqlite_writer import SqliteBatchWriter
from console.store.writers import PreparedBatch, WriteResult

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the child still stops at EOF, after finishing its batch


def close_child(send_end: Connection, receive_end: Connection, process: subprocess.Popen) -> None:
    """Both pipe ends closed (the child stops at EOF, after finishing its batch), then it is
    waited for, killed if it does not stop within 30 s."""
    send_end.close()
    receive_end.close()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _receive_ahead(incoming: Connection, inbox: queue.Queue) -> None:
    """Drain the pipe while the main thread writes, so the parent never blocks on send."""
    while True:
        try:
            inbox.put(incoming.recv_bytes())
        except (EOFError, OSError):
            inbox.put(None)
            return


# An empty message: commit the batches held (WriterProcess.drain), the sender wants answers.
_FLUSH = b""


def serve(path: str, incoming: Connection, outgoing: Connection, group: int = 1) -> None:
    """The child's loop: write the batches received, `group` of them a transaction (fewer
    when told to flush or at the end), and answer each with its WriteResult, in order."""
    _die_with_parent()
    fix_mmap_threshold()
    # each batch's values are acyclic and freed by reference counting when it is written;
    # the collector's passes over them were waste (as ingest's decoding, console.ingest.paused_gc)
    gc.disable()
    writer = SqliteBatchWriter(path)
    decoder = msgspec.msgpack.Decoder(PreparedBatch)
    inbox: queue.Queue = queue.Queue(maxsize=group + 1)  # the next group comes in while one is written
    threading.Thread(target=_receive_ahead, args=(incoming, inbox), daemon=True).start()
    held: list[PreparedBatch] = []
    try:
        while True:
            payload = inbox.get()
            if payload is not None and payload != _FLUSH:
                held.append(decoder.decode(payload))
                if len(held) < group:
                    continue
            if held and not _write(writer, held, path, outgoing):
                return
            held = []
            if payload is None:
                return
    finally:
        writer.close()


def _write(writer: SqliteBatchWriter, batches: list[PreparedBatch], path: str, outgoing: Connection) -> bool:
    """The batches written in one transaction, each answered; False when the child must stop
    (the write failed: reported to the parent, which raises it; or the parent is gone)."""
    try:
        results: list = writer.write_group(batches)
    except Exception as exc:  # reported to the parent, which raises it
        results = [StoreError(f"writing to {path} failed: {type(exc).__name__}: {exc}")]
    try:
        for result in results:
            outgoing.send(result)
    except OSError:  # the parent is gone (it quit): what was committed stays committed
        return False
    return not isinstance(results[0], StoreError)


class WriterProcess:
    def __init__(self, path: str, depth: int = 2, quiet: bool = False, group: int = 1) -> None:
        """quiet: the child's stderr goes nowhere (under a full-screen UI it would scribble on
        the screen; its errors come back through the pipe anyway). group: batches committed
        together (a bulk load); their answers come when the group is written, and drain()
        has the last ones written. At most `depth` are in flight: at least two groups and
        one, so the next group is decoded and sent while one is written (with one group and
        one, either process waited on the other for half the time)."""
        # A plain `python -m` child over pipes: multiprocessing's spawn would re-import the
        # caller's __main__, which breaks scripts that call ingest_files at top level.
        depth = max(depth, 2 * group + 1) if group > 1 else depth
        self._process = subprocess.Popen(
            [sys.executable, "-m", "console.store.writer_process", path, str(group)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if quiet else None,
        )
        self._send_end = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._receive_end = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._process.stdin.close()
        self._process.stdout.close()
        self._depth = depth
        self._encoder = msgspec.msgpack.Encoder()
        self._in_flight = 0

    def submit(self, batch: PreparedBatch) -> list[WriteResult]:
        """Queue a batch; returns the results of batches that finished meanwhile."""
        finished = []
        while self._in_flight >= self._depth:
            finished.append(self._receive())
        self._send_end.send_bytes(self._encoder.encode(batch))
        self._in_flight += 1
        return finished

    def send(self, payload: bytes) -> None:
        """An encoded PreparedBatch queued without waiting for answers: whoever sends this way
        takes each answer with receive(), in order (the live console's decoding process,
        from a thread of its own)."""
        self._send_end.send_bytes(payload)

    def receive(self) -> WriteResult:
        return self._receive()

    def drain(self) -> list[WriteResult]:
        if self._in_flight:
            self._send_end.send_bytes(_FLUSH)
        return [self._receive() for _ in range(self._in_flight)]

    def _receive(self) -> WriteResult:
        try:
            result = self._receive_end.recv()
        except EOFError:
            raise StoreError("the store writer process stopped unexpectedly") from None
        self._in_flight -= 1
        if isinstance(result, Exception):
            raise result
        return result

    def close(self) -> None:
        close_child(self._send_end, self._receive_end, self._process)

    def __enter__(self) -> WriterProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def main() -> None:
    # stdout carries the answers, so nothing else may print there.
    outgoing = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    serve(sys.argv[1], Connection(os.dup(0), writable=False), outgoing, int(sys.argv[2]) if len(sys.argv) > 2 else 1)


if __name__ == "__main__":
    main()
