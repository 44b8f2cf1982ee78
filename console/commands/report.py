"""`llmops-console report`, and what `check` (console/commands/check.py) shares: the panes' figures, headless.

Both load the store's rows since the older of the window's start and the budgets' period
starts (so a budget's spend covers its whole day or month), build the Report with
console.analytics.report.build_report, the function the panes draw from, and then:

- report prints Rich tables, or with --json the Report itself (the documented contract in
  console/analytics/report_types.py);
- check (console/commands/check.py) prints the alerts that fire and exits 1 when there is
  any, 0 when none, 2 on a usage or config error (cron and CI).

Every string that comes from a log (model, prompt, user names) is printed as rich Text
with control sequences stripped, never parsed as markup.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Optional, Sequence

import msgspec

from console.analytics.report_types import Report
from console.analytics.windows import UnknownWindow, WINDOW_SYNTAX, parse_window
from console.commands.errors import UsageError
from console.commands.store_access import open_reader, open_store
from console.config import Settings
from console.formatting import noun, parse_rfc3339
from console.store.window_report import EXACT_MAX_ROWS as WINDOW_EXACT_MAX_ROWS
from console.store.window_report import load_since as load_since, report_from_store
from console.sanitize import json_for_terminal

STATE_STYLES = {"ok": "green", "warn": "bold yellow", "page": "bold red"}
SEVERITY_STYLES = {"warn": "bold yellow", "page": "bold red"}


def parse_now(text: Optional[str]) -> float:
    if text is None:
        return time.time()
    try:
        return parse_rfc3339(text)
    except ValueError:
        raise UsageError(f"--now {text!r}: use an RFC 3339 time like 2026-11-20T12:00:00Z") from None


def check_since(since: str) -> str:
    """--since as report, check and compare take it: a named window or any duration (2h)."""
    try:
        return parse_window(since)
    except UnknownWindow:
        raise UsageError(f"--since {since!r}: use {WINDOW_SYNTAX}") from None


def _ingest(store, sources: Sequence[str], settings: Settings) -> None:
    from console.analytics.prices import Pricer
    from console.ingest import SourceNotFound, expand_sources, ingest_files
    from console.sources.otlp import OtlpOptions
    from rich.console import Console
    from rich.text import Text

    try:
        paths = expand_sources(sources, must_exist=True)
    except SourceNotFound as exc:
        raise UsageError(str(exc)) from None
    totals = ingest_files(store, paths, pricer=Pricer(settings.prices), otlp_options=OtlpOptions.from_settings(settings.otel))
    err = Console(stderr=True)
    err.print(
        Text(
            f"ingested {len(paths)} file(s): {totals.added:,} {noun(totals.added, 'row')} added, "
            f"{totals.duplicates:,} {noun(totals.duplicates, 'duplicate')}, "
            f"{totals.rejected:,} {noun(totals.rejected, 'line')} rejected",
            style="dim",
        )
    )


# Above this many rows (the window's, or a budget period's if longer) `report` and `check` read
# the store's rollups for the older part (console/store/window_report.py, which the live
# console's panes use too).
EXACT_MAX_ROWS = WINDOW_EXACT_MAX_ROWS


def make_report(
    sources: Sequence[str], *, store: Optional[str], since: str, settings: Settings, now: Optional[str],
    exact_max_rows: int | None = None,
) -> Report:
    """Ingest the sources (if any), load what the window and the budgets need, build the Report:
    from every row up to exact_max_rows rows (default EXACT_MAX_ROWS), else merged with the rollups."""
    window = check_since(since)
    as_of = parse_now(now)
    missing_hint = None if sources else "give log files, or load them first: llmops-console ingest FILES"
    # only reading: a SQLite store at the current schema through plain sqlite3 (no SQLAlchemy)
    opened = open_store(store) if sources else open_reader(store, missing_hint=missing_hint)
    try:
        if sources:
            _ingest(opened, sources, settings)
        limit = EXACT_MAX_ROWS if exact_max_rows is None else exact_max_rows
        # a large load is split over the cores (forked readers: this process has one thread)
        return report_from_store(opened, as_of, window, settings, limit, processes=min(os.cpu_count() or 1, 4))
    finally:
        opened.close()


def _newest_request(store: Optional[str]) -> float | None:
    """When the window is empty: the store's newest request, for the hint (logs from last week, as
    the sample logs are, report nothing over the last 24h of the clock)."""
    opened = open_reader(store, missing_hint="")
    try:
        return opened.newest_ts(1)
    finally:
        opened.close()


def run_report(
    sources: Sequence[str], *, store: Optional[str], since: str, settings: Settings, now: Optional[str], as_json: bool
) -> Report:
    from console.malloc import keep_freed_memory

    keep_freed_memory()  # a process that exits after one report: no page faulted in twice
    report = make_report(sources, store=store, since=since, settings=settings, now=now)
    if as_json:
        sys.stdout.write(json_for_terminal(msgspec.json.encode(report).decode()) + "\n")
        sys.stdout.flush()
    else:
        from rich.console import Console

        from console.commands.prompts_report import print_registry_check, registry_drifts
        from console.commands.report_print import print_report

        out = Console()
        print_report(
            report, out, newest_ts=_newest_request(store) if not report.requests and now is None else None,
            wall_clock=now is None, registry=registry_drifts(report.versions, settings),
        )
        print_registry_check(report.versions, settings, out, window=report.window.name)
    return report
