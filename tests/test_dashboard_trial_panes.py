"""The dashboard user trial (demo, NO_COLOR, 80x24 to 200x60): the Budget pane split a burn
window from its rate and a spend from its percent, no pane said which model spends most, the
Versions pane counted one drifted version twice and showed its flag only far right, and the
charts' captions named a bucket they did not use. Each test fails on the code the trial ran."""

from __future__ import annotations

import re

import msgspec
from rich.cells import cell_len
import pytest
from textual.app import App

from conftest import make_record
from console.formatting import usd
from console.prompts.checks import DRIFT
from console.ui.widgets.budget_pane import BudgetPane
from console.ui.widgets.latency_pane import LatencyPane
from console.ui.widgets.versions_pane import VersionsPane
from test_incident_summary import ORDER
from test_panes import app, fixture_log, ready  # noqa: F401  (fixtures)
from test_summary_verdicts import report_of, screen_lines, spender_rows
from test_ui import wait_until

TRIAL_BURNS = {"1m": 17.5, "5m": 18.4, "15m": 22.3, "30m": 22.5, "1h": 12.9, "6h": 2.2, "24h": 0.5}


class PaneHost(App):
    def __init__(self, pane) -> None:
        super().__init__()
        self.pane = pane

    def compose(self):
        yield self.pane


async def test_a_burn_window_and_its_rate_and_the_spend_and_its_percent_stay_on_one_line():
    report = report_of(spender_rows())
    budget = msgspec.structs.replace(report.budgets[0], burn_rates=TRIAL_BURNS, spent_usd=721.56, budget_usd=36000.0)
    report = msgspec.structs.replace(report, budgets=[budget])
    host = PaneHost(BudgetPane(id="budget"))
    async with host.run_test(size=(80, 30)) as pilot:
        host.pane.show(report)
        for width in range(30, 81):
            await pilot.resize_terminal(width, 30)
            await pilot.pause()
            text = "\n".join(screen_lines(host))
            for window, value in TRIAL_BURNS.items():
                assert f"{window} {value:.1f}x" in text, (width, window, text)
            assert "$721.56 of $36,000.00 (2%)" in text, (width, text)


async def test_the_maximized_budget_pane_lists_the_top_models_by_spend(app):  # noqa: F811
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("2", "m")
        await pilot.pause(0.1)
        text = "\n".join(screen_lines(app))
        by_model = app.dashboard.report.spend.by_model
        assert by_model and "top models" in text, text
        for model, spent in by_model.items():  # two models: both listed, with the report's figure
            assert re.search(rf"{re.escape(model)} +{re.escape(usd(spent))}", text), (model, text)


async def test_at_80_columns_the_summary_names_the_top_model_and_the_top_user(tmp_path, monkeypatch):
    from console.live.events import ReportReady
    from test_summary_verdicts import console_app, started, summary_of

    console = console_app(tmp_path, monkeypatch)
    report = report_of(spender_rows())
    model, model_usd = max(report.spend.by_model.items(), key=lambda item: item[1])
    async with console.run_test(size=(80, 24)) as pilot:
        await started(pilot, console)
        console.dashboard.show_report(ReportReady(report, "1h", report.requests, registry_order=ORDER))
        await pilot.pause()
        spend = summary_of(console)[0]
        assert f"{model} $" in spend and "…" not in spend, spend  # the model whole, first
        if "u_9f3e07c1" in spend:
            assert spend.index(model) < spend.index("u_9f3e07c1"), spend
        else:  # only when the user would not fit beside it in the shortest wording
            assert cell_len(spend.rstrip() + " · u_9f3e07c1 $4") > 78, spend
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        spend = summary_of(console)[0]
        assert f"top {model} {usd(model_usd)}" in spend and "top user u_9f3e07c1 $" in spend, spend


def drifted_report():
    """support-answer@v7 logged with two prompt texts (drifted), the registry's being neither."""
    rows = spender_rows()
    for i, row in enumerate(rows):
        if row["prompt_version"] == "v7":
            row["prompt_hash"] = "sha256:aaaa" if i % 2 else "sha256:bbbb"
    rows.append(make_record(ts=rows[-1]["ts"], prompt_id="summarize-thread", prompt_version="v2"))
    return report_of(rows)


async def test_a_drifted_version_is_marked_in_view_and_counted_once():
    report = drifted_report()
    assert [f"{v.prompt_id}@{v.prompt_version}" for v in report.versions if v.drifted] == ["support-answer@v7"]
    for size in ((80, 24), (200, 60)):
        host = PaneHost(VersionsPane(id="versions"))
        async with host.run_test(size=size) as pilot:
            host.pane.show(report, {"support-answer@v7": DRIFT}, ORDER)
            await pilot.pause()
            await pilot.pause()
            lines = screen_lines(host)
            row = next(line for line in lines if "support-answer@v7" in line)
            assert "support-answer@v7 ≠" in row, (size, row)  # no → presses needed
            assert "summarize-thread@v2 ≠" not in "\n".join(lines)
            subtitle = str(host.pane.border_subtitle)
            assert re.search(r"1 drifted,? ≠ reg", subtitle) and "1 ≠ reg" not in subtitle, (size, subtitle)


async def test_the_charts_say_the_bucket_they_use_for_each_window(app):  # noqa: F811
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        report = app.dashboard.report
        assert report.window.name == "1h" and report.spend.bucket_seconds == 60
        budget_caption = app.dashboard.query_one(BudgetPane).query_one(".caption")
        latency_caption = app.dashboard.query_one(LatencyPane).query_one(".caption")
        assert str(budget_caption.render()) == "spend per minute"
        assert str(latency_caption.render()) == "p95 per minute"
        # the spend chart's points are the minutes of the window, summing to its spend
        points = report.spend.per_bucket
        assert 60 <= len(points) <= 62
        assert sum(p.value for p in points) == pytest.approx(report.spend.total_usd)
        for window, bucket in (("6h", "3 minutes"), ("24h", "15 minutes"), ("7d", "2 hours")):
            await pilot.press("w")
            await wait_until(pilot, lambda window=window: app.dashboard.report.window.name == window)
            await pilot.pause(0.1)
            assert str(latency_caption.render()) == f"p95 per {bucket}", window
            assert str(budget_caption.render()) == f"spend per {bucket}", window
