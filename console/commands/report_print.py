"""`report`'s Rich tables (without --json): the Report (console/analytics/report_types.py) as
the panes show it. Imported only when printing: `report --json` and `check` need no Rich tables.

Every string that comes from a log (model, prompt, user names) is printed as rich Text
with control sequences stripped, never parsed as markup.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Mapping

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from console.analytics.after_now import note
from console.analytics.budget_outlook import budget_outlook
from console.analytics.report_types import Alert, Percentiles, Report
from console.commands.report import SEVERITY_STYLES, STATE_STYLES
from console.config import duration_seconds
from console.formatting import parse_rfc3339, rfc3339, short_time, usd
from console.sanitize import strip_control

if TYPE_CHECKING:
    from console.prompts.checks import Drift


def _text(value: str, style: str = "") -> Text:
    return Text(strip_control(value), style=style)


def _ms(value: float | None) -> str:
    """In seconds, as the panes, compare and the alerts write latencies; the unit is in the
    table's title (with an 's' on each cell the name column was squeezed out at 80 columns)."""
    return "—" if value is None else f"{value / 1000:,.2f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _table(title: str) -> Table:
    return Table(
        title=title, title_justify="left", title_style="bold", header_style="bold",
        box=None, pad_edge=False, padding=(0, 1),
    )  # fmt: skip


def _name_column(table: Table, header: str = "") -> None:
    # folded, never cut with …: 'claude-sonnet daily (model=cl…' could not be told apart from
    # another budget on that model; _fit_name_column gives it what the figures leave
    table.add_column(header, overflow="fold", min_width=12)


def _plain_width(cell) -> int:
    """The widest line of a cell."""
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return max(cell_len(line) for line in text.split("\n"))


def _fit_name_column(table: Table, width: int | None, wrapping_min: int = 12) -> None:
    """The name column (the first) as wide as its names, up to what the other columns leave of
    the terminal's width: a budget's name and scope whole on a wide terminal (max_width=30 cut
    'claude-sonnet daily (model=cl…' at 160 columns), folded onto a second line only when the
    width truly lacks room. A column that wraps is counted at wrapping_min (it gives way
    first) and then given what the whole names leave (Rich would squeeze it and the names
    alike); width None: no limit."""
    name = table.columns[0]
    name.max_width = None
    if width is None:
        return
    fixed, wrapping = 0, []
    for column in table.columns[1:]:
        natural = max([_plain_width(column.header), *(_plain_width(cell) for cell in column.cells)])
        if column.no_wrap:
            fixed += natural
        else:
            wrapping.append(column)
    padding = (table.padding[1] + table.padding[3]) * (len(table.columns) - 1)  # pad_edge=False
    name.max_width = max(name.min_width or 0, width - fixed - wrapping_min * len(wrapping) - padding)
    widest = min(name.max_width, max([_plain_width(name.header), *(_plain_width(cell) for cell in name.cells)]))
    for column in wrapping:
        column.max_width = max(wrapping_min, (width - fixed - widest - padding) // len(wrapping))


def _number_columns(table: Table, *headers: str) -> None:
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)


def _latency_row(table: Table, name: Text, figures: Percentiles) -> None:
    # the mark first, then the threshold as set, as the Latency pane writes it (✗ ≤9s, ✓ p99≤2s)
    which = "" if figures.slo_percentile in (None, 95) else f"p{figures.slo_percentile:g}"
    if figures.slo_ms is None:
        slo = Text("")
    elif figures.slo_breached:
        slo = Text(f"✗ {which}≤{figures.slo_ms / 1000:g}s", style="bold red")
    else:
        slo = Text(f"✓ {which}≤{figures.slo_ms / 1000:g}s", style="green")
    p95 = Text(_ms(figures.p95), style="bold red" if figures.slo_breached else "")
    table.add_row(
        name, f"{figures.requests:,}", _ms(figures.p50), _ms(figures.p90), p95, _ms(figures.p99),
        _ms(figures.ttft_p50), _ms(figures.ttft_p95), slo,
    )  # fmt: skip


def latency_table(report: Report, width: int | None = None) -> Table:
    """width: the terminal's, which the names take what they need of (None: no limit)."""
    table = _table("Latency (s)")
    _name_column(table)
    _number_columns(table, "reqs", "p50", "p90", "p95", "p99", "ttft50", "ttft95")
    table.add_column("SLO", no_wrap=True)
    latency = report.latency
    _latency_row(table, Text("all traffic", style="bold"), latency.overall)
    for model, figures in latency.by_model.items():
        _latency_row(table, _text(model, "cyan"), figures)
    for version, figures in latency.by_version.items():
        _latency_row(table, _text(version, "magenta"), figures)
    _fit_name_column(table, width)
    return table


def spend_table(report: Report, width: int | None = None) -> Table:
    """width: as latency_table's."""
    spend = report.spend
    table = _table("Spend")
    _name_column(table)
    _number_columns(table, "USD")
    table.add_row(Text("total (priced requests)", style="bold"), usd(spend.total_usd))
    for model, amount in spend.by_model.items():
        table.add_row(_text(f"model {model}", "cyan"), usd(amount))
    for prompt, amount in spend.by_prompt.items():
        table.add_row(_text(f"prompt {prompt}", "magenta"), usd(amount))
    for user, amount in spend.top_users.items():
        table.add_row(_text(f"user {user}"), usd(amount))
    _fit_name_column(table, width)
    return table


# below this many columns the table has no room for "rated" (at 80 it cut p95 to '10.…')
RATED_COLUMN_FROM = 90


def versions_table(report: Report, width: int | None = None) -> Table:
    """width: the terminal's; narrower than RATED_COLUMN_FROM, no rated column (unrated_line
    says what "—" means)."""
    table = _table("Prompt versions (latency in s)")
    rated = width is None or width >= RATED_COLUMN_FROM
    _name_column(table, "version")
    # bad is over the rated requests (a label, or feedback): "—" when none is, never a 0%
    _number_columns(table, "reqs", "errors", "bad", *(("rated",) if rated else ()), "p50", "p95", "$/req")
    table.add_column("first seen", no_wrap=True)
    # no column of flags: at 80 columns it was folded into a column of '…' and '≠'; new versions
    # are the change points and drift_lines says which hashes, both under the table
    for row in report.versions:
        counted = (f"{row.rated:,}",) if rated else ()
        table.add_row(
            _text(f"{row.prompt_id}@{row.prompt_version}", "magenta"), f"{row.requests:,}",
            _percent(row.error_rate), _percent(row.bad_rate), *counted, _ms(row.p50_ms), _ms(row.p95_ms),
            usd(row.cost_per_request_usd),
            short_time(row.first_seen),
        )  # fmt: skip
    _fit_name_column(table, width)
    return table


def unrated_line(report: Report) -> Text | None:
    """What a bad rate of "—" means, when a version has one."""
    unrated = [f"{row.prompt_id}@{row.prompt_version}" for row in report.versions if not row.rated]
    if not unrated:
        return None
    return _text(f"bad —: no response rated (no feedback, no label), no bad rate: {', '.join(unrated)}", "dim")


def drift_lines(report: Report, registry: Mapping[str, Drift] | None = None) -> list[Text]:
    """Which template hashes a drifted version was logged with (one version label, changed text):
    against the registry's hash when it has the version, logged first and registry second as
    the registry footer says them; else every hash logged, most requests first. Then, once,
    what drift means and what to do about it: an on-call engineer reading 'logged 4c5a…,
    registry b965… (the registry's logged too)' learnt neither."""
    lines = []
    for row in report.versions:
        if not row.drifted:
            continue
        ref = f"{row.prompt_id}@{row.prompt_version}"
        drift = (registry or {}).get(ref)
        if drift is None:
            lines.append(_text(f"drifted: {ref} ran more than one text: logged prompt hashes "
                               f"{', '.join(row.prompt_hashes)} (most requests first)", "red"))  # fmt: skip
        else:
            also = f"; other requests logged {drift.registry_hash}" if drift.registry_logged else ""
            lines.append(_text(f"drifted: {ref} ran a text that is not the registry's {row.prompt_version}: "
                               f"{drift.hashes_text}{also}", "red"))  # fmt: skip
    if lines:
        if registry:
            what = "the app logged a prompt_hash that is not the hash of the registry's text for that version"
            fix = ("give the new text its own version (in the app and the registry), or fix the registry's file "
                   "if it is the one out of date")  # fmt: skip
        else:
            what, fix = "the app logged more than one prompt_hash under one version", "give each text its own version"
        lines.append(_text(f"  drift: {what}: the text changed without a new version label, so that version's "
                           f"figures mix texts. Find the deploy that changed it; {fix}.", "dim"))  # fmt: skip
    return lines


def _budget_name(budget) -> Text:
    """The name, and its scope on a line of its own (at 80 columns the two on one line were cut
    to 'claude-sonnet daily (model=cl…')."""
    name = _text(budget.name, "bold")
    scope = ", ".join(f"{key}={value}" for key, value in budget.scope.items())
    if scope:
        name.append("\n")
        name.append(strip_control(scope), style="dim")
    return name


def budgets_table(report: Report, width: int | None = None) -> Table:
    """width: the terminal's, which the budget names take what they need of (None: no limit)."""
    table = _table("Budgets")
    _name_column(table, "budget")
    _number_columns(table, "spent", "budget")
    table.add_column("state", no_wrap=True)
    table.add_column("runs out at this rate")
    for budget in report.budgets:
        outlook = budget_outlook(budget)  # the Budget pane's words too
        outlook_style = {"exhausted": "bold red", "idle": "dim", "after_reset": "dim"}.get(outlook.kind, "")
        outlook = Text(outlook.text, style=outlook_style)
        table.add_row(
            _budget_name(budget), usd(budget.spent_usd), f"{usd(budget.budget_usd)}/{budget.period}",
            Text(budget.state, style=STATE_STYLES[budget.state]), outlook,
        )  # fmt: skip
    _fit_name_column(table, width)
    return table


def burn_table(report: Report, width: int | None = None) -> Table:
    """Burn rate per window (1 = spending exactly the budget over its period); width as
    budgets_table's."""
    table = _table("Burn rates (1 = on budget)")
    # every budget's windows, shortest first: a daily budget is judged over 5m..24h, a monthly
    # one over [burn]'s windows too; "—" where a budget is not judged (never a made-up 0.00)
    windows = sorted({w for budget in report.budgets for w in budget.burn_rates}, key=duration_seconds)
    _name_column(table, "budget")
    _number_columns(table, *windows)
    for budget in report.budgets:
        table.add_row(
            _budget_name(budget),
            *(f"{budget.burn_rates[w]:.2f}" if w in budget.burn_rates else "—" for w in windows),
        )
    _fit_name_column(table, width)
    table.caption = "; ".join(
        f"{strip_control(b.name)}: page {b.rules['page']}, warn {b.rules['warn']}" for b in report.budgets
    )
    table.caption_justify = "left"
    return table


def alert_line(alert: Alert) -> Text:
    line = Text()
    line.append(f"{alert.severity.upper():<5}", style=SEVERITY_STYLES[alert.severity])
    line.append(f" {alert.kind:<10} ")
    line.append(strip_control(alert.message))
    return line


def empty_window_hint(newest_ts: float, lead: str = "no request in the window") -> Text:
    """An empty window over a store whose requests are all older: where they end, and the
    --now that reports them (a second later, so the newest is inside the window)."""
    newest = rfc3339(newest_ts, timespec="seconds")
    at = rfc3339(math.floor(newest_ts) + 1, timespec="seconds")
    return Text(f"{lead}; the newest stored is {newest}:\nadd --now {at}", style="yellow")


def after_now_text(report: Report, wall_clock: bool) -> Text | None:
    """The requests stamped after the window's end, in no figure (console/analytics/after_now.py):
    yellow on the wall clock (clock skew?), dim after an explicit --now."""
    line = note(report.after_now, wall_clock)
    if line is None:
        return None
    return Text(line, style="yellow" if wall_clock else "dim")


def print_report(report: Report, out: Console, newest_ts: float | None = None, wall_clock: bool = True,
                 registry: Mapping[str, Drift] | None = None) -> None:
    """newest_ts: the store's newest request, given when the window holds none (a hint follows).
    wall_clock: the window ends at the wall clock (no --now).
    registry: the versions that drifted from the prompt registry, by "prompt_id@version"."""
    window = report.window
    span = f"{window.start} → {window.end}" if window.start else f"everything up to {window.end}"
    out.print(
        Text(
            f"window {window.name} ({span}): {report.requests:,} requests, {report.errors:,} errors "
            f"({_percent(report.error_rate)})",
            style="bold",
        )
    )
    if not report.requests and newest_ts is not None and window.start and newest_ts < parse_rfc3339(window.start):
        out.print(empty_window_hint(newest_ts))
    after = after_now_text(report, wall_clock)
    if after is not None:
        out.print(after, soft_wrap=True)  # one line, for grep
    figures = report.figures
    if figures.source == "rollups":
        how = (f"percentiles from merged sketches, each within {figures.relative_error:.0%}"
               if figures.percentiles == "sketch" else "percentiles exact")  # fmt: skip
        out.print(Text(f"rows from {figures.exact_since}, the window before from rollups: counts and spend exact, {how}",
                       style="dim"))  # fmt: skip
    out.print()
    out.print(latency_table(report, out.width))
    out.print()
    out.print(spend_table(report, out.width))
    spend = report.spend
    if spend.unpriced_requests:
        out.print(
            _text(
                f"{spend.unpriced_requests:,} of {spend.priced_requests + spend.unpriced_requests:,} requests unpriced "
                f"(not in the total): {', '.join(spend.unpriced_models)}",
                "yellow",
            )
        )
    if spend.estimated_requests:
        models = ", ".join(f"{model} ~{usd(amount)}" for model, amount in spend.estimated_by_model.items())
        out.print(
            _text(
                f"{spend.estimated_requests:,} requests with only estimated usage (an instrumentation's guess, "
                f"0 real tokens): ~{usd(spend.estimated_usd)}, not in the total" + (f" ({models})" if models else ""),
                "yellow",
            )
        )
    out.print()
    out.print(versions_table(report, out.width))
    for line in filter(None, (unrated_line(report), *drift_lines(report, registry))):
        out.print(line)
    inside = [point for point in report.change_points if window.start is None or point.first_seen >= window.start]
    for point in inside:
        out.print(_text(f"change point: {point.kind.replace('_', ' ')} {point.name} first seen {point.first_seen}", "green"))
    out.print()
    if report.budgets:
        out.print(budgets_table(report, out.width))
        out.print()
        out.print(burn_table(report, out.width))
    else:
        out.print(Text("Budgets: none configured ([[budgets]] in llmops.toml)", style="dim"))
    out.print()
    if report.alerts:
        out.print(Text("Alerts", style="bold"))
        for alert in report.alerts:
            out.print(alert_line(alert))
    else:
        out.print(Text("Alerts: none", style="green"))
