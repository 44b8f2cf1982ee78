"""Moving batches from sources into the store: the one loop the CLI and the UI share."""

from __future__ import annotations

import gc
import glob
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Protocol, Sequence

from console.analytics.prices import Pricer, PricingTally
from console.sources.base import FilePosition, RejectedLine, SourceBatch
from console.store import Store, StoreError, WriteResult
from console.store.retry import RetryPolicy, retry_store

if TYPE_CHECKING:
    from console.sources.detect import LogTail
    from console.sources.otlp import OtlpOptions

GLOB_CHARS = frozenset("*?[")
# 10k rows a transaction: the measured sweet spot for SQLite, and bounded memory per batch.
INGEST_BATCH_LINES = 10_000
# Batches a parallel load's writer commits together (console.store.writer_process), with one
# column block and one merge of rollup cells for them: 30,000-row blocks need no merge (each
# row was decoded and re-encoded once more), and the cells at batch edges are rewritten a
# third as often.
BULK_GROUP = 3
# Below this a child writer process costs more to start (~0.3 s) than it saves.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
_NO_POSITION = FilePosition("", 0, 0, 0)
# A batch the store refuses for a reason that may pass is retried (console.store.retry):
# one-shot ingest gives up after INGEST_GIVE_UP_S of it, `--follow` never does.
INGEST_GIVE_UP_S = 120.0
RESUME_HINT = (
    "Everything before it was stored with its file offsets: run the same command again "
    "to resume (nothing is read twice)"
)


class SourceNotFound(Exception):
    pass


@dataclass(slots=True)
class IngestTotals:
    added: int = 0
    duplicates: int = 0
    rejected: int = 0
    spans_skipped: int = 0  # OTLP spans that are not GenAI model calls
    # Files refused whole (binary: the Collector's `format: proto`, compressed): path -> why.
    refused_files: dict[str, str] = field(default_factory=dict)
    first_rejections: list[RejectedLine] = field(default_factory=list)
    pricing: PricingTally = field(default_factory=PricingTally)
    # Distinct (prompt_id, prompt_version, prompt_hash) read: the registry check at the end of an
    # ingest (console/commands/prompts_report.py) works on these few triples, never per record.
    prompt_keys: set[tuple[str, str, str | None]] = field(default_factory=set)
    # Logfire stream openings left waiting for their end (kept in the store's stream_openings;
    # joined when a later ingest reads the end).
    streams_waiting: int = 0

    def add_prompt_keys(self, records: Sequence) -> None:
        self.prompt_keys.update({(r.prompt_id, r.prompt_version, r.prompt_hash) for r in records})

    def add_result(self, result: WriteResult) -> None:
        self.added += result.added
        self.duplicates += result.duplicates

    def add_rejected(self, rejected: Sequence[RejectedLine]) -> None:
        self.rejected += len(rejected)
        room = 5 - len(self.first_rejections)
        if room > 0:
            self.first_rejections.extend(rejected[:room])


def write_retrying(
    store: Store,
    batch: SourceBatch,
    *,
    give_up_after_s: float | None = -1.0,
    should_stop: Callable[[], bool] | None = None,
    on_trouble: Callable[[str | None], None] | None = None,
) -> WriteResult | None:
    """store.write(batch) under the store's retry policy (console.store.retry): a refusal that
    may pass is retried on a fresh connection, with backoff, for up to give_up_after_s (the
    default, -1: INGEST_GIVE_UP_S; None: never give up). StoreError when it does not go
    through, saying how to resume; None if should_stop() turned true meanwhile.
    on_trouble hears each retry (else stderr), and None once the write goes through."""
    if give_up_after_s is not None and give_up_after_s < 0:
        give_up_after_s = INGEST_GIVE_UP_S
    return retry_store(
        lambda: store.write(batch),
        RetryPolicy(give_up_after_s=give_up_after_s),
        where=store.display_url,
        on_trouble=on_trouble or _print_trouble,
        should_stop=should_stop,
        reset=store.discard_writer,
        hint=RESUME_HINT,
    )


def _print_trouble(message: str | None) -> None:
    if message is not None:
        print(message, file=sys.stderr, flush=True)


def is_glob(pattern: str) -> bool:
    return any(ch in GLOB_CHARS for ch in pattern)


def expand_sources(patterns: Sequence[str], *, must_exist: bool) -> list[str]:
    """Absolute paths for plain files and the current matches of globs.

    With must_exist, a missing file or a glob with no match is an error (for one-shot
    ingest); the live tail instead waits for them to appear.
    """
    paths: list[str] = []
    for pattern in patterns:
        if is_glob(pattern) and not os.path.isfile(os.path.expanduser(pattern)):
            matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
            if must_exist and not matches:
                raise SourceNotFound(f"no file matches {pattern!r}")
            paths.extend(str(Path(m).resolve()) for m in matches if os.path.isfile(m))
        else:
            path = Path(pattern).expanduser()
            if must_exist and not path.is_file():
                what = "is a directory, not a log file" if path.is_dir() else "does not exist"
                raise SourceNotFound(f"{pattern} {what}")
            paths.append(str(path.resolve()))
    return paths


@contextmanager
def paused_gc() -> Iterator[None]:
    """Bulk ingest allocates millions of acyclic objects; cyclic GC passes over them are waste.

    Measured: decoding runs ~1.4x faster with the collector paused. Reference counting still
    frees every batch as soon as it is written.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def ingest_files(
    store: Store,
    paths: Sequence[str],
    on_progress: Callable[[int], None] | None = None,
    *,
    parallel: bool | None = None,
    pricer: Pricer | None = None,
    source_format: str = "auto",
    on_trouble: Callable[[str | None], None] | None = None,
    otlp_options: OtlpOptions | None = None,
) -> IngestTotals:
    """Read the files to their current end into the store, resuming from saved offsets.

    on_progress receives the number of bytes newly consumed after each batch. Large
    loads into a SQLite file are written by a child process while this one decodes
    (parallel=None decides by size; True/False forces it). With a pricer, records without
    cost_usd are priced before they are written (totals.pricing counts how).
    source_format: "auto" (each file by its content), "jsonl" or "otlp"; otlp_options: which
    span attributes name the prompt, user, session, environment (llmops.toml's [otel];
    None: the defaults).

    Faults: a batch the store refuses for a reason that may pass (the PostgreSQL server
    restarting, its connections dropped, a full disk) is retried with backoff for up to
    INGEST_GIVE_UP_S (write_retrying; on_trouble hears each retry, else stderr); then, or
    at once for an error retrying cannot fix, StoreError with a message saying to run it
    again, which resumes after the last batch stored (rows and offsets commit together).
    """
    from console.sources.detect import LogTail, refused_file_reason
    from console.store.stream_openings import held_openings

    positions = store.positions()
    sqlite_path = store.sqlite_path
    if parallel is None:
        unread = sum(max(os.path.getsize(p) - positions.get(p, _NO_POSITION).offset, 0) for p in paths if os.path.exists(p))
        parallel = unread >= PARALLEL_MIN_BYTES
    totals = IngestTotals()
    with paused_gc(), LogTail(
        paths, positions, watch=False, max_lines=INGEST_BATCH_LINES, source_format=source_format,
        otlp_options=otlp_options, held=held_openings(store),
    ) as tail:
        consumed = {status.path: status.offset for status in tail.files}

        def progressed(batch: SourceBatch) -> None:
            if on_progress is not None:
                now = {p.path: p.offset for p in batch.positions.values()}
                on_progress(sum(offset - consumed.get(path, 0) for path, offset in now.items()))
                consumed.update(now)

        if parallel and sqlite_path:
            from console.records_for_store import parse_line_for_store
            from console.store.sqlite_writer import next_row_id
            from console.store.writer_process import WriterProcess
            from console.store.writers import PreparedBatch

            # No retry here: the child commits each batch whole, in order, with its offsets,
            # so when it fails the command stops and a rerun resumes after the last commit.
            # The ids the rows will get if nothing else writes meanwhile: the bodies are made
            # into blocks here with them (the writer unpacks them if they turn out otherwise).
            next_id = next_row_id(sqlite_path)
            tail.parse = parse_line_for_store  # the records go to the writer only
            try:
                with WriterProcess(sqlite_path, group=BULK_GROUP) as writer:
                    for batch in _batches(tail):
                        if pricer is not None:
                            totals.pricing.add(pricer.fill(batch.records))
                        prepared = PreparedBatch.of(batch, store.host, first_id=next_id)
                        next_id += len(batch.records)
                        for result in writer.submit(prepared):
                            totals.add_result(result)
                            next_id -= _ids_left_unused(result)
                        totals.add_rejected(batch.rejected)
                        totals.add_prompt_keys(batch.records)
                        progressed(batch)
                    for result in writer.drain():
                        totals.add_result(result)
            except StoreError as exc:
                raise StoreError(f"{exc}\n{RESUME_HINT}") from None
        else:
            for batch in _batches(tail):
                if pricer is not None:
                    totals.pricing.add(pricer.fill(batch.records))
                result = write_retrying(store, batch, on_trouble=on_trouble)
                assert result is not None  # no should_stop: it returns or raises
                totals.add_result(result)
                totals.add_rejected(batch.rejected)
                totals.add_prompt_keys(batch.records)
                progressed(batch)
        totals.spans_skipped = tail.total_spans_skipped
        totals.refused_files = dict(tail.refused)
        totals.streams_waiting = tail.streams_waiting
    for path in paths:  # refused by an earlier run: its offset is past the head that says so
        if path not in totals.refused_files and positions.get(path, _NO_POSITION).offset:
            reason = refused_file_reason(path)
            if reason is not None:
                totals.refused_files[path] = reason
    return totals


def _ids_left_unused(result: WriteResult) -> int:
    """How many ids at the end of a written batch went unused (its last rows were already
    stored): the next batch's rows start that much lower."""
    unused, position = 0, result.added + result.duplicates - 1
    for skipped in reversed(result.duplicate_positions):
        if skipped != position:
            break
        unused, position = unused + 1, position - 1
    return unused


def _batches(tail) -> Iterator[SourceBatch]:
    while True:
        batch = tail.read_available()
        if not batch:
            return
        yield batch
        if batch.lines_read == 0 and not tail.has_more:
            return


# What a tail writer hands back: each batch written, with what the store made of it.
Written = list[tuple[SourceBatch, WriteResult]]


class TailWriter(Protocol):
    """How tail_and_write stores a batch: at once (RetryingWriter), or through a writer
    process while the tail is behind (the live console's console.live.live_writer)."""

    def write(self, batch: SourceBatch, behind: bool) -> Written | None:
        """The batches whose writes are done, oldest first; None when stopped meanwhile."""
        ...

    def flush(self) -> Written | None:
        """Wait for every batch in flight."""
        ...


class RetryingWriter:
    """Each batch written at once under the store's retry policy, never giving up (`ingest
    --follow`): a store that refuses it for a reason that may pass is waited for."""

    def __init__(
        self, store: Store, should_stop: Callable[[], bool], on_trouble: Callable[[str | None], None] | None = None
    ) -> None:
        self._store, self._should_stop, self._on_trouble = store, should_stop, on_trouble

    def write(self, batch: SourceBatch, behind: bool) -> Written | None:
        result = write_retrying(
            self._store, batch, give_up_after_s=None, should_stop=self._should_stop, on_trouble=self._on_trouble
        )
        return None if result is None else [(batch, result)]

    def flush(self) -> Written | None:
        return []


def tail_and_write(
    tail: LogTail,
    writer: TailWriter,
    should_stop: Callable[[], bool],
    totals: IngestTotals,
    on_written: Callable[[Written], object] | None = None,
    *,
    pricer: Pricer | None = None,
    idle_wait_s: float | None = None,
) -> bool:
    """The one tail-and-write loop (`ingest --follow` and the live console): read what the
    tail has, price it, write it, count it in totals, then on_written(the batches done,
    maybe none) until should_stop(); when nothing was read, wait for the files to change
    (at most idle_wait_s; None: the tail's poll interval). False when it stopped while the
    store refused a batch."""
    try:
        while not should_stop():
            batch = tail.read_available()
            if batch:
                if pricer is not None:
                    totals.pricing.add(pricer.fill(batch.records))
                written = writer.write(batch, behind=tail.has_more)
            else:
                written = writer.flush()
            if written is None:
                return False
            for stored, result in written:
                totals.add_result(result)
                totals.add_rejected(stored.rejected)
            if on_written is not None:
                on_written(written)
            if not batch.lines_read:
                tail.wait_for_change(idle_wait_s)
        return True
    finally:
        totals.spans_skipped = tail.total_spans_skipped


def follow_files(
    store: Store,
    patterns: Sequence[str],
    should_stop: Callable[[], bool],
    on_batch: Callable[[SourceBatch, WriteResult], None] | None = None,
    *,
    pricer: Pricer | None = None,
    source_format: str = "auto",
    on_trouble: Callable[[str | None], None] | None = None,
    otlp_options: OtlpOptions | None = None,
) -> IngestTotals:
    """Tail files and globs into the store until should_stop(): a headless ingester.

    Team mode runs one per host (`ingest --follow`) into a shared PostgreSQL store, while
    consoles anywhere follow that store. Files that do not exist yet are waited for.
    A store that refuses a batch for a reason that may pass (the server restarting) is
    retried for as long as it lasts; an error retrying cannot fix raises StoreError.
    """
    from console.sources.detect import LogTail
    from console.store.stream_openings import held_openings

    def each_batch(written: Written) -> None:
        if on_batch is not None:
            for batch, result in written:
                on_batch(batch, result)

    totals = IngestTotals()
    with LogTail(patterns, store.positions(), source_format=source_format, otlp_options=otlp_options,
                 held=held_openings(store)) as tail:
        writer = RetryingWriter(store, should_stop, on_trouble)
        tail_and_write(tail, writer, should_stop, totals, each_batch, pricer=pricer)
    return totals
