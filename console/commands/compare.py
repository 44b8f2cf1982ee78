"""`llmops-console compare --a SPEC --b SPEC`: two arms side by side, headless.

The table built here is also what the compare screen shows (console.ui.screens.compare),
so the terminal command and the console print the same cells.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Optional

import msgspec
from rich.console import Console
from rich.table import Table
from rich.text import Text

from console.analytics.columns import Columns
from console.analytics.arm_spec import ArmSpec, parse_arm_spec
from console.analytics.compare import (
    Comparison,
    compare,
    format_ms,
    format_p,
    format_percent,
)
from console.analytics.compare_overlap import shared_span_options
from console.analytics.filters import near_name
from console.analytics.windows import window_start
from console.commands.errors import UsageError
from console.commands.report import check_since, parse_now
from console.commands.store_access import open_store
from console.formatting import rfc3339, usd
from console.sanitize import json_for_terminal, strip_control
from console.store import StoreError
from console.store.rollup_reads import more_rows_than
from console.store.window_report import EXACT_MAX_ROWS

FINDING_STYLES = {"significant": "bold", "no_difference": "", "not_enough_data": "yellow"}


def parse_since(since: str, now: Optional[float] = None) -> Optional[float]:
    """"15m", "24h", "7d"... -> the epoch seconds the window starts at; "all" -> None."""
    return window_start(time.time() if now is None else now, check_since(since))


def _spec(option: str, text: str) -> ArmSpec:
    try:
        return parse_arm_spec(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _ending(spec: ArmSpec, end: Optional[float]) -> ArmSpec:
    """The spec with its before= no later than the window's end (the rollups path's bound)."""
    if end is None or (spec.before is not None and spec.before <= end):
        return spec
    return msgspec.structs.replace(spec, before=end)


def _compare(
    store_url: Optional[str], since_ts: Optional[float], a: ArmSpec, b: ArmSpec, exact_max_rows: int,
    end: Optional[float] = None,
) -> tuple[Comparison, Optional[Columns], Optional[float]]:
    """The comparison, from every row of the window up to exact_max_rows rows, else from the
    rollups (console/analytics/compare_sketch.py; arms by user always read rows: the cells
    are not crossed with users); the window's columns when they were loaded; the store's
    newest request when the window holds none (for the hint). end: only rows stamped before
    it (--now: its next float, so a row stamped at --now is in, as in report's window)."""
    # opening a missing SQLite file would create an empty store and "compare" nothing
    try:
        with open_store(store_url, missing_hint="load logs first: llmops-console ingest FILES") as store:
            if a.user is None and b.user is None and more_rows_than(store, since_ts, exact_max_rows):
                from console.analytics.compare_sketch import compare_parts
                from console.store.compare_reads import arm_parts

                # the parts are read up to the window's end; the arms keep their own specs
                parts = arm_parts(store, since_ts, [_ending(a, end), _ending(b, end)])
                return compare_parts(*parts, a, b), None, None
            cols = store.load_columns(since_ts=since_ts, before_ts=end)
            bounded = since_ts is not None or end is not None
            newest = store.newest_ts(1) if not len(cols) and bounded else None
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    return compare(cols, a, b), cols, newest


def _arm_cells(arm, narrow: bool = False) -> list[str]:
    def counted(count: str, rate: Optional[float], ci: Optional[tuple[float, float]]) -> str:
        if rate is None or ci is None:
            return count
        # narrow: the interval on a line of its own, so both arms and p fit 80 columns
        return f"{count}  {format_percent(rate)}{chr(10) if narrow else ' '}[{format_percent(ci[0])}–{format_percent(ci[1])}]"

    # bad over the rated requests (a label, or feedback); an unrated one is not counted good
    bad = counted(f"{arm.bad:,} / {arm.rated:,}", arm.bad_rate, arm.bad_rate_ci) if arm.rated else "none rated"
    return [
        f"{arm.requests:,}",
        counted(f"{arm.errors:,}", arm.error_rate, arm.error_rate_ci),
        bad,
        f"{format_ms(arm.latency_p50_ms)} / {format_ms(arm.latency_p95_ms)}",
        f"{usd(arm.cost_median_usd)} / {usd(arm.cost_p95_usd)}"
        if arm.cost_median_usd is not None or arm.cost_mean_usd is None
        else f"mean {usd(arm.cost_mean_usd)}",  # over rollups: no per-request costs
        f"{arm.unpriced_requests:,}",
    ]


TESTED = (("error_rate", "errors"), ("bad_rate", "bad"), ("latency", "latency"), ("cost", "cost"))


def comparison_table(comparison: Comparison, narrow: bool = False) -> Table:
    """Rows = measures, columns = arm A, arm B and the test between them.

    narrow (the console's compare screen when the table is wider than the terminal): the arms
    headed A and B (the screen's title names them), each interval under its rate, p alone in
    its column and the tests named once in the caption: at 80 columns the wide table was cut
    mid-figure ('1,3' for 1,346 errors) and the p column was off-screen."""

    def test(metric: str) -> str:
        difference = comparison.differences[metric]
        if difference.p_value is None:
            return "—"
        return format_p(difference.p_value) if narrow else f"{format_p(difference.p_value)} ({difference.method})"

    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("")
    # arm labels can come from log values (model names): Text, never markup
    table.add_column("A" if narrow else Text(f"A: {strip_control(comparison.a.label)}"), justify="right")
    table.add_column("B" if narrow else Text(f"B: {strip_control(comparison.b.label)}"), justify="right")
    table.add_column("p" if narrow else "difference (two-sided)")
    measures = (
        "requests", "errors, rate [95% CI]", "bad / rated [95% CI]" if narrow else "bad / rated, rate [95% CI]",
        "latency p50 / p95",
        "cost/req median / p95" if narrow else "cost/request median / p95", "unpriced requests",
    )  # fmt: skip
    tests = ("", test("error_rate"), test("bad_rate"), test("latency"), test("cost"), "")
    rows = zip(measures, _arm_cells(comparison.a, narrow), _arm_cells(comparison.b, narrow), tests)
    for measure, cell_a, cell_b, cell_test in rows:
        table.add_row(Text(measure, style="cyan"), Text(cell_a), Text(cell_b), Text(cell_test, style="dim"))
    if narrow:
        methods: dict[str, list[str]] = {}
        for metric, name in TESTED:
            method = comparison.differences[metric].method if metric in comparison.differences else None
            if method:
                methods.setdefault(method, []).append(name)
        if methods:  # none when an arm is empty: no test ran, and a bare "p, two-sided:" said nothing
            table.caption = Text("p, two-sided: " + "; ".join(f"{', '.join(names)} by {method}"
                                                             for method, names in methods.items()))
            table.caption_justify = "left"
    return table


def verdict_lines(comparison: Comparison) -> list[Text]:
    return [
        Text(f"• {strip_control(finding.text)}", style=FINDING_STYLES[finding.kind])
        for finding in comparison.findings
    ]


def overlap_line(comparison: Comparison) -> Optional[Text]:
    """The arms' requests cover different times (console.analytics.compare_overlap): said
    before the table, with the options that compare over the time they share."""
    overlap = comparison.overlap
    if overlap is None or overlap.warning is None:
        return None
    text = f"! {strip_control(overlap.warning)}"
    if overlap.rerun_with is not None:
        text += f"; compare over the shared span with {overlap.rerun_with}"
    return Text(text, style="bold yellow")


def empty_window_hint(since: str, newest_ts: float, now_text: Optional[str] = None) -> Text:
    """A window with no request over a store that holds some: older ones (last week's logs, as
    report says it) are reached by --since all; with --now, later ones by moving it."""
    newest = rfc3339(newest_ts, timespec="seconds")
    if now_text is None:
        return Text(f"no request in the last {since}; the newest stored is {newest}:\nadd --since all", style="yellow")
    window = f"all stored requests up to {now_text.strip()}" if since == "all" else f"the {since} up to {now_text.strip()}"
    move = "a later --now" if newest_ts > parse_now(now_text) else "add --since all"
    return Text(f"no request in {window}; the newest stored is {newest}:\n{move}", style="yellow")


def _hint_for_empty_arms(comparison: Comparison, cols: Columns, err: Console,
                         specs: tuple[ArmSpec, ArmSpec] = (ArmSpec(), ArmSpec())) -> None:
    """A typo in a model or version gives an empty arm: say what the data does contain, and
    when the name is a part of some (model=gpt), which: an arm names one exactly, as the `/`
    filter does (console.analytics.filters.near_name, whose hint this is)."""
    for option, arm, spec in zip(("--a", "--b"), (comparison.a, comparison.b), specs):
        if arm.requests:
            continue
        models = ", ".join(sorted(set(cols.labels("model").tolist()))[:12]) or "none"
        prompts = ", ".join(sorted(set(cols.labels("prompt").tolist()))[:12]) or "none"
        err.print(Text(f"no request matches {arm.spec} ({len(cols):,} requests in the window)", style="yellow"))
        for key, wanted, known in (("model", spec.model, cols.labels("model").tolist()),
                                   ("prompt", spec.prompt_id, cols.labels("prompt_id").tolist())):
            near = near_name(wanted, known) if wanted else None
            if near is not None:
                hint = (f"  no {key} is named {near.wanted!r} (an arm names one exactly, ignoring case); "
                        f"named like it: {near.shown}, e.g. {option} {key}={near.names[0]}")
                err.print(Text(strip_control(hint), style="yellow"))
        err.print(Text(f"  models: {strip_control(models)}"))
        err.print(Text(f"  prompt versions: {strip_control(prompts)}"))


def run(
    a: str, b: str, *, since: str = "all", store: Optional[str] = None, as_json: bool = False,
    exact_max_rows: Optional[int] = None, now: Optional[str] = None,
) -> Comparison:
    """Load the window from the store, compare, print; raises UsageError on bad input.
    now: the window ends then (RFC 3339, report's --now), rows stamped later left out; None:
    it ends at the clock, and rows stamped later are in (as compare always counted them).
    exact_max_rows: above this many rows in the window, read the rollups (default: the
    report's EXACT_MAX_ROWS)."""
    spec_a, spec_b = _spec("--a", a), _spec("--b", b)
    since = check_since(since)
    as_of = parse_now(now)  # report's parsing and error: "--now 'x': use an RFC 3339 time like ..."
    since_ts = parse_since(since, as_of)
    end = None if now is None else math.nextafter(as_of, math.inf)
    limit = EXACT_MAX_ROWS if exact_max_rows is None else exact_max_rows
    comparison, cols, newest = _compare(store, since_ts, spec_a, spec_b, limit, end)
    if comparison.overlap is not None and comparison.overlap.warning is not None:
        comparison.overlap.rerun_with = shared_span_options(comparison.overlap, as_of, now)
    if newest is not None and ((since_ts is not None and newest < since_ts) or now is not None):
        Console(stderr=True).print(empty_window_hint(since, newest, now))
    elif cols is not None:
        _hint_for_empty_arms(comparison, cols, Console(stderr=True), (spec_a, spec_b))
    if as_json:
        sys.stdout.write(json_for_terminal(msgspec.json.encode(comparison).decode()) + "\n")
        sys.stdout.flush()
        return comparison
    out = Console()
    if since_ts is None:
        window = "all stored requests" if now is None else f"all stored requests up to {rfc3339(as_of)}"
    else:
        window = f"the last {since}" if now is None else f"the {since} up to {rfc3339(as_of)}"
    out.print(Text(f"compare over {window}", style="dim"))
    if comparison.figures == "rollups":
        out.print(Text("read from the rollups (more rows than the exact path loads): counts exact, "
                       "latency percentiles within 1%, cost per request as a mean", style="dim"))  # fmt: skip
    overlap = overlap_line(comparison)
    if overlap is not None:
        out.print(overlap)
    out.print(comparison_table(comparison))
    out.print()
    for line in verdict_lines(comparison):
        out.print(line)
    return comparison
