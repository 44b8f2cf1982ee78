"""Latency: percentiles per model and per prompt version, SLO breaches, p95 over time."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Sparkline, Static

from console.analytics.filters import window_filter
from console.analytics.report_types import Percentiles, Report
from console.sanitize import one_line
from console.ui.formatting import bucket_words, chart_bucket_seconds, error_rate_text, ms
from console.ui.widgets.diff_table import DiffTable
from console.ui.widgets.fitted_table import FittedTable
from console.ui.widgets.pane import CompareRequested, FilterRequests, Pane, hidden_note

# The SLO (threshold and ✗/✓) beside p95, before the other percentiles: at 120 columns the
# side pane is ~60 wide, and a breach must be readable there, in words, not only in red. Then
# the error rate: a model whose provider fails most calls is the first thing on fire, and its
# steady rate fires no spike (that rule looks at all traffic against its own window).
COLUMNS = ("model / version", "reqs", "p95", "SLO", "err", "p50", "p90", "p99", "ttft p50")


def _row(label: str, stats: Percentiles, partial: bool = False) -> list:
    """partial: the history is still loading, so a p95 within its SLO is not known to be
    ("…", as the summary's "checking"); one over it is shown, as found so far."""
    breached = stats.slo_breached
    style = "bold red" if breached else ""
    slo = "—"
    if stats.slo_ms is not None:
        # beside p95, a p95 SLO needs no name (and fits the 120-column side pane)
        name = "" if stats.slo_percentile == 95 else f"p{stats.slo_percentile:g}"
        mark = "✗" if breached else "…" if partial else "✓"
        # the mark first (never cut), then the threshold as set (9s, 12s, 0.5s)
        slo = mark + f"{name}≤{stats.slo_ms / 1000:g}s"  # "✓≤12s" fits at 120 columns
    calm = "dim" if partial or not stats.slo_ms else "green"
    return [
        Text(one_line(label), style=style),
        Text(f"{stats.requests:,}", justify="right"),
        Text(ms(stats.p95), justify="right", style=style),
        Text(slo, style="bold red" if breached else calm),
        _error_rate(stats),
        Text(ms(stats.p50), justify="right"),
        Text(ms(stats.p90), justify="right"),
        Text(ms(stats.p99), justify="right"),
        Text(ms(stats.ttft_p50), justify="right"),
    ]


def _error_rate(stats: Percentiles) -> Text:
    if not stats.requests:
        return Text("—", justify="right", style="dim")
    return error_rate_text(stats.errors / stats.requests)


class LatencyPane(Pane):
    BINDINGS = [
        Binding("enter", "show_requests", "Requests of row", id="latency.requests"),
        Binding("c", "compare", "Compare", id="latency.compare"),
        Binding("C", "compare_change", "Before/after it appeared", id="latency.before_after"),
    ]

    def compose(self) -> ComposeResult:
        yield FittedTable(COLUMNS, id="latency-table")
        yield Static("p95 per minute", classes="caption")
        yield Sparkline([], id="latency-spark")

    _subtitle_parts: tuple[str, ...] = ()
    _window = "all"  # the report's window: a row's requests are those since its start

    def on_mount(self) -> None:
        self.border_title = "Latency"

    def show(self, report: Report, partial: bool = False) -> None:
        latency = report.latency
        self._window = report.window.name
        rows = [("overall", _row("all requests", latency.overall, partial))]
        rows += [(f"model:{name}", _row(name, stats, partial)) for name, stats in sorted(latency.by_model.items())]
        rows += [(f"version:{name}", _row(name, stats, partial)) for name, stats in sorted(latency.by_version.items())]
        self.query_one(DiffTable).sync(rows)
        points = [p.value for p in latency.p95_per_minute if p.value is not None]
        self.query_one(Sparkline).data = points
        # the bucket the points are: 'p95 per minute' stayed at 7d and all, where they are hours or days
        self.query_one(".caption", Static).update(f"p95 per {bucket_words(chart_bucket_seconds(report))}")
        breaches = sum(1 for s in [latency.overall, *latency.by_model.values()] if s.slo_breached)
        subtitle = f"✗ {breaches} SLO breach{'es' if breaches != 1 else ''}" if breaches else ""
        figures = report.figures  # above the exact path's size: merged sketches, within their bound
        sketched = f"percentiles ±{figures.relative_error:.0%} (sketches)" if figures.percentiles == "sketch" else ""
        loading = "partial: history loading" if partial else ""
        self._subtitle_parts = (subtitle, sketched, loading)
        self._subtitle()

    def _subtitle(self) -> None:
        hidden = hidden_note(self.query_one(FittedTable).hidden_columns)
        self.border_subtitle = " · ".join(part for part in (*self._subtitle_parts, hidden) if part)

    def on_fitted_table_columns_fitted(self, event: FittedTable.ColumnsFitted) -> None:
        event.stop()
        self._subtitle()

    def _selected(self) -> tuple[str, str] | None:
        key = self.query_one(DiffTable).current_key
        if not key or ":" not in key:
            return None
        kind, _, name = key.partition(":")
        return kind, name

    def on_data_table_row_selected(self, event: DiffTable.RowSelected) -> None:
        # The table's own Enter (select row) arrives here; the pane's binding documents it.
        event.stop()
        self.action_show_requests()

    def action_show_requests(self) -> None:
        selected = self._selected()
        if selected:
            kind, name = selected
            named = f"model:{name}" if kind == "model" else f"prompt:{name}"
            self.post_message(FilterRequests(window_filter(named, self._window)))

    def action_compare(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        self.post_message(CompareRequested(*selected))

    def action_compare_change(self) -> None:
        selected = self._selected()
        if selected is not None:
            self.post_message(CompareRequested(*selected, before_after=True))
