"""The Budget pane's run-out says what `report` says (console/analytics/budget_outlook.py). In
the demo, while its figures loaded, the pane said 'at this rate it runs out 01-04 15:29 UTC, in
1491.0 days' (a monthly budget projected four years on, the date without its year) and, for a
daily budget, 'runs out 12-08 09:07, in 17.4 h' where `report` added '(after it resets)'."""

from __future__ import annotations

import msgspec
from rich.console import Console

from console.analytics.budget_outlook import budget_outlook
from console.analytics.report_types import BudgetStatus
from console.commands.report_print import budgets_table

NOW = "2026-12-07T15:29:00Z"


def status(period: str, exhaustion: str | None, hours: float | None, state: str = "ok") -> BudgetStatus:
    end = "2027-01-01T00:00:00Z" if period == "month" else "2026-12-08T00:00:00Z"
    start = "2026-12-01T00:00:00Z" if period == "month" else "2026-12-07T00:00:00Z"
    return BudgetStatus(
        name=f"support-chat {period}", period=period, scope={}, budget_usd=1000.0, period_start=start,
        period_end=end, spent_usd=10.0, remaining_usd=990.0, burn_rates={"1h": 0.1}, state=state,
        rules={"page": "", "warn": ""}, projected_exhaustion=exhaustion, hours_to_exhaustion=hours,
    )  # fmt: skip


def test_a_run_out_after_the_period_resets_is_not_projected_and_says_the_reset():
    monthly = budget_outlook(status("month", "2030-01-04T15:29:00Z", 1491.0 * 24))
    assert monthly.kind == "after_reset" and monthly.text == "not this month (resets 01-01 00:00 UTC)"
    daily = budget_outlook(status("day", "2026-12-08T09:07:00Z", 17.4))
    assert daily.text == "not this day (resets 12-08 00:00 UTC)"
    within = budget_outlook(status("day", "2026-12-07T18:40:00Z", 3.2))
    assert within.kind == "runs_out" and within.text == "12-07 18:40 UTC, in 3.2 h"
    assert budget_outlook(status("month", "2026-12-20T15:29:00Z", 13 * 24.0)).text == "12-20 15:29 UTC, in 13.0 days"


def test_partial_figures_project_nothing_but_an_exhausted_budget_is_said():
    assert budget_outlook(status("month", "2030-01-04T15:29:00Z", 30000.0), partial=True).kind == "loading"
    assert budget_outlook(status("month", NOW, 0.0), partial=True).text == "exhausted"
    assert budget_outlook(status("day", None, None)).text == "not this period (no spend in the last hour)"


def report_cell(budget: BudgetStatus) -> str:
    """`report`'s Budgets table for that budget alone (budgets_table reads report.budgets only)."""

    class OneBudget:
        budgets = [budget]

    console = Console(width=200, record=True)
    console.print(budgets_table(OneBudget()))  # type: ignore[arg-type]
    return console.export_text()


async def test_the_pane_says_what_report_says(tmp_path, monkeypatch):
    from conftest import wait_until
    from console.live.events import ReportReady
    from test_summary_verdicts import console_app, screen_text, started

    app = console_app(tmp_path, monkeypatch)
    monthly = status("month", "2030-01-04T15:29:00Z", 1491.0 * 24)
    daily = status("day", "2026-12-08T09:07:00Z", 17.4)
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, app)
        report = msgspec.structs.replace(app.dashboard.report, budgets=[monthly, daily])
        app.dashboard.show_report(ReportReady(report, "1h", report.requests))
        await wait_until(pilot, lambda: "support-chat day" in screen_text(app))
        text = screen_text(app)
        for budget in (monthly, daily):
            words = budget_outlook(budget).text
            assert words in report_cell(budget) and f"runs out: {words}" in text, (words, text)
        assert "1491" not in text and "17.4 h" not in text
        app.dashboard.show_report(ReportReady(report, "1h", report.requests, partial=True))
        await pilot.pause()
        text = screen_text(app)
        assert text.count("runs out: not projected (figures still loading)") == 2 and "resets" not in text
