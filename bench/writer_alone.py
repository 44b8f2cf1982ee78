"""The SQLite writer process's share of a bulk `ingest`, alone and repeatable (issue 20).

    python bench/writer_alone.py capture LOG WORKDIR   # once: LOG's PreparedBatches, as ingest sends them
    python bench/writer_alone.py run WORKDIR [--keep]   # feed them to SqliteBatchWriter, timed

`capture` runs `ingest LOG` in this process with the writer child replaced by a recorder: the
MessagePack payloads the child would get (WORKDIR/batches.bin) and the empty store they were
prepared for (WORKDIR/empty.db). `run` copies that store and writes the payloads with
SqliteBatchWriter.write_group, console.ingest.BULK_GROUP batches a transaction as the child
does (collector off, decoding untimed), and prints the writer's wall and CPU seconds. Run it
with PYTHONPATH at two worktrees, alternating, for an A/B of writer changes that is not blurred
by the parent's decoding; compare the stores (sqlite3 .dump of the rollup tables and
column_blocks) for equality.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import time

import msgspec


def capture(log: str, workdir: str) -> None:
    import console.store.writer_process as writer_process
    from console.cli import main
    from console.store.writers import WriteResult

    os.makedirs(workdir, exist_ok=True)
    store = os.path.join(workdir, "empty.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store + suffix):
            os.remove(store + suffix)
    payloads: list[bytes] = []

    class Recorder:
        def __init__(self, *_args, **_kwargs) -> None:
            self.encoder = msgspec.msgpack.Encoder()

        def submit(self, batch):
            payloads.append(self.encoder.encode(batch))
            return [WriteResult(batch.count, 0, len(batch.rejected), ())]

        def drain(self):
            return []

        def __enter__(self):
            return self

        def __exit__(self, *_exc) -> None:
            pass

    writer_process.WriterProcess = Recorder
    sys.argv = ["llmops-console", "ingest", log, "--store", store]
    try:
        main()
    except SystemExit:
        pass
    with open(os.path.join(workdir, "batches.bin"), "wb") as out:
        out.write(msgspec.msgpack.encode(payloads))
    print(f"{len(payloads)} batches in {workdir}", file=sys.stderr)


def run(workdir: str, keep: bool) -> None:
    from console.ingest import BULK_GROUP
    from console.malloc import fix_mmap_threshold
    from console.store.sqlite_writer import SqliteBatchWriter
    from console.store.writers import PreparedBatch

    fix_mmap_threshold()
    with open(os.path.join(workdir, "batches.bin"), "rb") as source:
        payloads = msgspec.msgpack.decode(source.read())
    store = os.path.join(workdir, "run.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store + suffix):
            os.remove(store + suffix)
    shutil.copy(os.path.join(workdir, "empty.db"), store)
    decoder = msgspec.msgpack.Decoder(PreparedBatch)
    gc.disable()
    writer = SqliteBatchWriter(store)
    wall = cpu = 0.0
    for first in range(0, len(payloads), BULK_GROUP):
        batches = [decoder.decode(payload) for payload in payloads[first : first + BULK_GROUP]]
        started, cpu_started = time.perf_counter(), time.process_time()
        writer.write_group(batches)
        wall += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        del batches
    writer.close()
    print(f"writer: wall {wall:.2f} s, CPU {cpu:.2f} s, {len(payloads)} batches into {store}")
    if not keep:
        os.remove(store)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    captured = commands.add_parser("capture")
    captured.add_argument("log")
    captured.add_argument("workdir")
    timed = commands.add_parser("run")
    timed.add_argument("workdir")
    timed.add_argument("--keep", action="store_true", help="keep WORKDIR/run.db to compare")
    args = parser.parse_args()
    if args.command == "capture":
        capture(args.log, args.workdir)
    else:
        run(args.workdir, args.keep)
