"""Budget: spend against each budget, burn rates with their alert state, exhaustion."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Sparkline, Static

from console.analytics.budget_outlook import budget_outlook
from console.analytics.report_types import BudgetStatus, Report
from console.formatting import usd
from console.sanitize import one_line
from console.ui.formatting import bucket_words, chart_bucket_seconds, rate
from console.ui.widgets.in_place import update_in_place
from console.ui.widgets.pane import Pane
from console.ui.widgets.piece_lines import PieceLines

STATE_STYLE = {"ok": "bold green", "warn": "bold yellow", "page": "bold white on red"}
BAR_WIDTH = 20
TOP_SHOWN = 3  # models and users in the spend summary


def _bar(fraction: float) -> Text:
    filled = min(int(round(fraction * BAR_WIDTH)), BAR_WIDTH)
    style = "red" if fraction >= 1 else "yellow" if fraction >= 0.8 else "green"
    return Text("█" * filled, style=style) + Text("░" * (BAR_WIDTH - filled), style="dim")


def budget_block(budget: BudgetStatus, partial: bool = False) -> Group:
    """partial: the figures do not hold the whole history yet (loading, or the tail catching
    up): no OK/WARN/PAGE verdict is given on them (an early OK turned PAGE 20 s later)."""
    scope = ", ".join(f"{k}={v}" for k, v in budget.scope.items()) or "all traffic"
    verdict = (" PARTIAL: no verdict yet ", "bold black on grey70") if partial else (
        f" {budget.state.upper()} ", STATE_STYLE[budget.state])
    title = Text.assemble(
        (one_line(budget.name), "bold"), "  daily · " if budget.period == "day" else "  monthly · ", (one_line(scope), "dim"),
        "  ", verdict,
    )  # fmt: skip
    fraction = budget.spent_usd / budget.budget_usd if budget.budget_usd else 0.0
    # the spend, its limit and its percent read as one figure: on a line of their own when
    # they do not fit beside the bar (120 columns cut '(2%)' off onto the next line)
    spent = PieceLines([_bar(fraction), Text(f"{usd(budget.spent_usd)} of {usd(budget.budget_usd)} ({fraction:.0%})")],
                       separator=" ")  # fmt: skip
    pairs = []
    for window, value in budget.burn_rates.items():
        style = "red" if value >= 6 else "yellow" if value >= 1 else "green"
        pairs.append(Text.assemble(f"{window} ", (rate(value), style)))
    if pairs:
        pairs[0] = Text("burn ") + pairs[0]
    burns = PieceLines(pairs)  # a window and its burn are never split across lines
    outlook = _outlook_line(budget, partial)
    return Group(title, spent, burns, outlook)


def _outlook_line(budget: BudgetStatus, partial: bool) -> Text:
    """report's wording (console/analytics/budget_outlook.py), as a sentence."""
    outlook = budget_outlook(budget, partial)
    if outlook.kind == "exhausted":
        return Text("budget exhausted", style="bold red")
    # no green before the figures are whole: a "lasts" on a partial hour is not known yet
    style = {"runs_out": "bold red" if budget.state != "ok" else "", "loading": "dim"}.get(outlook.kind, "green")
    lead = "at this rate it runs out " if outlook.kind == "runs_out" else "runs out: "
    return Text(lead + outlook.text, style=style)


def spend_summary(report: Report) -> Group:
    spend = report.spend
    lines = [Text.assemble(("spend in window ", "dim"), (usd(spend.total_usd), "bold"),
                           (f" over {spend.priced_requests:,} priced requests", "dim"))]  # fmt: skip
    if spend.unpriced_requests:
        models = ", ".join(one_line(m) for m in spend.unpriced_models[:4])
        lines.append(Text(f"unpriced: {spend.unpriced_requests:,} requests ({models})", style="yellow"))
    if spend.estimated_requests:  # usage an instrumentation guessed (openlit): apart, never in the spend above
        lines.append(Text(f"estimated usage: {spend.estimated_requests:,} requests, ~{usd(spend.estimated_usd)} "
                          "(not in spend)", style="yellow"))  # fmt: skip
    # which model spends most beside who does, side by side: stacked, they pushed the spend
    # chart out of the pane at 200x60
    rankings = [(title, ranked, nameless) for title, ranked, nameless in (
        ("top models", spend.by_model, "(no model)"), ("top users", spend.top_users, "(no user)")) if ranked]
    if rankings:
        lines.append(_top_table(rankings))
    return Group(*lines)


def _top_table(rankings: list[tuple[str, dict[str, float], str]]) -> Table:
    """The three biggest of each ranking, which the report sorts biggest first (analytics/spend.py)."""
    top = Table.grid(padding=(0, 1))
    for index, _ in enumerate(rankings):
        top.add_column(style="dim", no_wrap=True, overflow="ellipsis")
        top.add_column(justify="right", no_wrap=True)
        if index < len(rankings) - 1:
            top.add_column(width=1)  # a gap between the rankings
    cells = [[Text(title, style="dim"), "", ""] for title, _, _ in rankings]
    top.add_row(*[cell for group in cells for cell in group][:-1])
    shown = [list(ranked.items())[:TOP_SHOWN] for _, ranked, _ in rankings]
    for row in range(max(len(items) for items in shown)):
        cells = []
        for (_, _, nameless), items in zip(rankings, shown):
            name, amount = items[row] if row < len(items) else ("", None)
            cells += [Text(one_line(name or nameless) if amount is not None else ""),
                      usd(amount) if amount is not None else "", ""]  # fmt: skip
        top.add_row(*cells[:-1])
    return top


class BudgetPane(Pane, can_focus=True):
    def compose(self) -> ComposeResult:
        yield Static(id="budget-body")
        yield Static("spend per hour", classes="caption")
        yield Sparkline([], id="budget-spark")

    def on_mount(self) -> None:
        self.border_title = "Budget"

    def show(self, report: Report, partial: bool = False) -> None:
        blocks = [budget_block(b, partial) for b in report.budgets]
        if not blocks:
            blocks = [Text("no budget set: add [[budgets]] to llmops.toml", style="dim")]
        update_in_place(self.query_one("#budget-body", Static), Group(*blocks, spend_summary(report)))
        # per the p95 chart's bucket (a minute in 1h): per hour, a 1h window was two wide blocks
        spend = report.spend
        points = spend.per_bucket or spend.per_hour  # a report from before per_bucket: hours
        bucket = bucket_words(chart_bucket_seconds(report)) if spend.per_bucket else "hour"
        self.query_one(".caption", Static).update(f"spend per {bucket}")
        self.query_one(Sparkline).data = [p.value or 0.0 for p in points]
        worst = max((b.state for b in report.budgets), key=["ok", "warn", "page"].index, default="ok")
        if partial:
            self.border_subtitle = "partial: history loading" if report.budgets else ""
        else:
            self.border_subtitle = worst.upper() if report.budgets else ""
