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
from console.ui.formatting import rate
from console.ui.widgets.in_place import update_in_place
from console.ui.widgets.pane import Pane

STATE_STYLE = {"ok": "bold green", "warn": "bold yellow", "page": "bold white on red"}
BAR_WIDTH = 20


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
    spent = Text.assemble(
        _bar(fraction), f" {usd(budget.spent_usd)} of {usd(budget.budget_usd)} ({fraction:.0%})"
    )
    burns = Text("burn ")
    for window, value in budget.burn_rates.items():
        style = "red" if value >= 6 else "yellow" if value >= 1 else "green"
        burns.append(f"{window} ")
        burns.append(rate(value), style=style)
        burns.append("  ")
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
    if spend.top_users:
        top = Table.grid(padding=(0, 1))
        top.add_column(style="dim")
        top.add_column(justify="right")
        for user, amount in list(spend.top_users.items())[:3]:
            top.add_row(Text(one_line(user or "(no user)")), usd(amount))
        lines.append(Text("top spenders", style="dim"))
        lines.append(top)
    return Group(*lines)


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
        self.query_one(Sparkline).data = [p.value or 0.0 for p in report.spend.per_hour]
        worst = max((b.state for b in report.budgets), key=["ok", "warn", "page"].index, default="ok")
        if partial:
            self.border_subtitle = "partial: history loading" if report.budgets else ""
        else:
            self.border_subtitle = worst.upper() if report.budgets else ""
