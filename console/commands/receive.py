"""`llmops-console receive`: an OTLP/HTTP receiver into the store, headless (no Collector).

An app exporting OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318) has its GenAI
spans read as the files' are and written by `ingest --follow`'s loop, writer and retry policy
(console.ingest.tail_and_write, RetryingWriter) until Ctrl+C or SIGTERM, a line per commit.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Callable

from rich.console import Console
from rich.markup import escape

from console.analytics.prices import Pricer
from console.commands.errors import UsageError
from console.commands.store_access import open_store
from console.config import Settings
from console.ingest import IngestTotals, RetryingWriter, Written, tail_and_write
from console.live.otlp_inbox import RECEIVED_PATH, OtlpInbox
from console.live.otlp_receiver import ACK_WAIT_S, OtlpReceiver, ReceiverError
from console.sources.otlp import OtlpOptions
from console.store import LockRetry, StoreError
from console.store.stream_openings import held_openings


def open_receiver(host: str, port: int, token: str | None, settings: Settings,
                  ack_wait_s: float = ACK_WAIT_S) -> tuple[OtlpReceiver, OtlpInbox]:  # fmt: skip
    """A bound (not yet serving) receiver and its inbox; UsageError when it cannot bind."""
    inbox = OtlpInbox()
    try:
        receiver = OtlpReceiver(inbox, host, port, token=token, options=OtlpOptions.from_settings(settings.otel),
                                ack_wait_s=ack_wait_s)  # fmt: skip
    except ReceiverError as exc:
        raise UsageError(str(exc)) from None
    return receiver, inbox


def receiver_lines(receiver: OtlpReceiver) -> list[str]:
    """What to tell the user: where apps send, and the token when one was generated."""
    lines = [f"apps set OTEL_EXPORTER_OTLP_ENDPOINT={receiver.endpoint}"]
    if receiver.token_generated:
        lines.append(f"token (required: the receiver is not on loopback): {receiver.token}")
        lines.append(f"apps set OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20{receiver.token}")
    return lines


def run_receive(
    *, host: str, port: int, token: str | None, store: str | None, settings: Settings,
    on_trouble: Callable[[str | None], None] | None = None,
    started: Callable[[OtlpReceiver, OtlpInbox, IngestTotals], object] | None = None,
    lock_retry: LockRetry | None = None, ack_wait_s: float = ACK_WAIT_S,
) -> None:  # fmt: skip
    """on_trouble hears the store refusing a batch (each retry's reason, None once it takes
    it; by default stderr), started(receiver, inbox, totals) once serving (the console's
    child reports from them: commands/receiver_process.py); lock_retry, ack_wait_s: how long
    a write waits for a locked SQLite store, an export for its commit (tests shorten them)."""
    receiver, inbox = open_receiver(host, port, token, settings, ack_wait_s)
    opened = open_store(store)
    if lock_retry is not None:
        opened.lock_retry = lock_retry
    out = Console(soft_wrap=True, highlight=False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def report(written: Written) -> None:
        inbox.settle(written)  # the waiting exports are answered 200
        for batch, result in written:
            if result.added or result.duplicates or batch.rejected:
                out.print(f"{time.strftime('%H:%M:%S')} {result.added:,} rows added, {result.duplicates:,} duplicates, "
                          f"{len(batch.rejected):,} spans rejected")

    totals = IngestTotals()
    try:
        with receiver:
            out.print(f"receiving OTLP/HTTP on {receiver.endpoint}/v1/traces into {escape(opened.display_url)} (Ctrl+C stops)")
            for line in receiver_lines(receiver):
                out.print(line)
            writer = RetryingWriter(opened, stop.is_set, on_trouble)
            # Logfire stream openings a previous run acknowledged and left waiting for their end
            inbox.restore(held_openings(opened).get(RECEIVED_PATH, []))
            if started is not None:
                started(receiver, inbox, totals)
            tail_and_write(inbox, writer, stop.is_set, totals, report, pricer=Pricer(settings.prices))
        out.print(f"stopped: {totals.added:,} rows added, {totals.rejected:,} spans rejected, "
                  f"{totals.spans_skipped:,} spans skipped (not GenAI model calls), "
                  f"{inbox.refused_busy:,} exports refused as busy")
    except KeyboardInterrupt:
        out.print("stopped")
    except StoreError as exc:  # an error retrying cannot fix: the message, not a traceback
        raise UsageError(str(exc)) from None
    finally:
        opened.close()
