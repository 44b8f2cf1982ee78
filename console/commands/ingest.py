"""`llmops-console ingest FILES` and `ingest --follow`: logs into the store, headless.

Once: a progress bar on stderr while console.ingest.ingest_files loads the files, then what
was added, the first rejected lines, the unpriced models and the prompt registry check; a
file refused whole (binary) is an `error:` line and exit 1.
With --follow: a line per committed batch until Ctrl+C or SIGTERM (team mode: one ingester
per host into a shared store). Log text (paths, reasons, model names) is escaped: it is
printed, never read as Rich markup.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Sequence

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from console.analytics.prices import Pricer
from console.commands.errors import UsageError
from console.commands.prompts_report import print_ingest_registry_check
from console.commands.store_access import open_store
from console.config import Settings
from console.formatting import noun
from console.ingest import IngestTotals, SourceNotFound, expand_sources, follow_files, ingest_files
from console.sources.otlp import OtlpOptions
from console.store import Store, StoreError

# A file refused whole (binary) is not a usage mistake but the data not being read: exit 1.
EXIT_REFUSED = 1


def run_ingest(files: Sequence[str], *, store: str | None, settings: Settings, source_format: str, follow: bool) -> int:
    """The exit code: 0, or EXIT_REFUSED when a file was refused whole (the Collector's
    `format: proto`, a compressed file), after saying why on stderr."""
    pricer = Pricer(settings.prices)
    otlp_options = OtlpOptions.from_settings(settings.otel)  # llmops.toml's [otel]
    if follow:
        follow_into_store(files, open_store(store), pricer, source_format, otlp_options)
        return 0
    try:
        paths = expand_sources(files, must_exist=True)
    except SourceNotFound as exc:
        raise UsageError(str(exc)) from None
    opened = open_store(store)
    try:
        totals = _ingest_with_progress(opened, paths, pricer, source_format, otlp_options)
        out = Console(soft_wrap=True)
        print_totals(totals, opened.display_url, out)
        print_ingest_registry_check(totals.prompt_keys, settings, out)  # drifted / unregistered versions read
    finally:
        opened.close()
    err = Console(stderr=True, soft_wrap=True)
    for path, reason in totals.refused_files.items():
        err.print(f"[bold red]error:[/] {escape(path)}: {escape(reason)}")
    return EXIT_REFUSED if totals.refused_files else 0


def _ingest_with_progress(
    opened: Store, paths: list[str], pricer: Pricer, source_format: str, otlp_options: OtlpOptions
) -> IngestTotals:
    total_bytes = sum(os.path.getsize(p) for p in paths)
    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=not console.is_terminal,
    ) as progress:
        task = progress.add_task("ingesting", total=total_bytes)
        try:
            totals = ingest_files(
                opened, paths, lambda n: progress.advance(task, n), pricer=pricer, source_format=source_format,
                otlp_options=otlp_options,
            )
        except StoreError as exc:  # e.g. locked by another process through every retry
            progress.stop()
            raise UsageError(str(exc)) from None
        progress.update(task, completed=total_bytes)
    return totals


def print_totals(totals: IngestTotals, store_name: str, out: Console) -> None:
    out.print(
        f"[green]{totals.added:,}[/] {noun(totals.added, 'row')} added, {totals.duplicates:,} "
        f"{noun(totals.duplicates, 'duplicate')} skipped, [{'red' if totals.rejected else 'green'}]"
        f"{totals.rejected:,}[/] {noun(totals.rejected, 'line')} rejected into {escape(store_name)}"
    )
    for rejected in totals.first_rejections:
        out.print(f"  {escape(rejected.path)}:{rejected.line_no}: {escape(rejected.reason)}")
    if totals.rejected > len(totals.first_rejections):
        # where the rest are: the store keeps every rejected line, and the console lists them
        out.print(f"  … and {totals.rejected - len(totals.first_rejections):,} more (x in the console lists every one)")
    if totals.spans_skipped:
        out.print(f"{totals.spans_skipped:,} OpenTelemetry spans skipped (not GenAI model calls)")
    if totals.streams_waiting:
        out.print(
            f"{totals.streams_waiting:,} Logfire stream opening(s) wait for the log of their stream's end, not in "
            "the file yet: kept aside in the store, joined when a later ingest reads it (run ingest again once "
            "the file is complete); stored alone once the file's later spans show a wait over 60 s"
        )
    pricing = totals.pricing
    if pricing.unpriced:
        names = ", ".join(f"{escape(name)} ({count:,})" for name, count in pricing.unpriced_models.most_common(10))
        parts = [f"no price known for {names}" + escape(' (add [prices."<model>"] to llmops.toml)')] if names else []
        if pricing.bad_usage:
            parts.append(f"{pricing.bad_usage:,} with more cached than input tokens")
        if pricing.no_usage:
            parts.append(f"{pricing.no_usage:,} whose call reported no usage (a stream without "
                         "stream_options include_usage)")
        out.print(f"[yellow]{pricing.unpriced:,}[/] requests unpriced (no cost_usd): " + "; ".join(parts))


def follow_into_store(
    patterns: Sequence[str], opened: Store, pricer: Pricer, source_format: str, otlp_options: OtlpOptions
) -> None:
    """Tail into the store until SIGINT or SIGTERM, printing a line per committed batch."""
    out = Console(soft_wrap=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    out.print(f"following {', '.join(escape(p) for p in patterns)} into {escape(opened.display_url)} (Ctrl+C stops)")

    def report(batch, result) -> None:
        if result.added or result.duplicates or batch.rejected:
            out.print(f"{time.strftime('%H:%M:%S')} {result.added:,} {noun(result.added, 'row')} added, "
                      f"{result.duplicates:,} {noun(result.duplicates, 'duplicate')}, "
                      f"{len(batch.rejected):,} {noun(len(batch.rejected), 'line')} rejected")

    try:
        totals = follow_files(opened, patterns, stop.is_set, report, pricer=pricer, source_format=source_format,
                              otlp_options=otlp_options)
        out.print(f"stopped: {totals.added:,} {noun(totals.added, 'row')} added, "
                  f"{totals.rejected:,} {noun(totals.rejected, 'line')} rejected")
    except KeyboardInterrupt:
        out.print("stopped")
    except StoreError as exc:  # a store error retrying cannot fix: the message, not a traceback
        raise UsageError(str(exc)) from None
    finally:
        opened.close()
