"""Every firing alert explained the same way by `check` and the alerts screen (`a`): the rule,
the numbers against their thresholds, since when, where to look; Enter goes there."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from conftest import line_of, make_record
from console.analytics.alerts import explain_alert
from console.analytics.report import build_report
from console.analytics.columns import Columns
from console.cli import app as cli
from console.config import Budget, Settings, Slo
from console.formatting import parse_rfc3339
from console.records import parse_line
from console.ui.app import ConsoleApp
from console.ui.screens.alerts import AlertsScreen
from test_ui import screen_text, wait_until

NOW = "2026-11-20T12:00:00Z"
END = parse_rfc3339(NOW)


def incident(now: float) -> list[dict]:
    """An hour of gpt-4o traffic, slow (5 s) from 20 minutes before `now`, errors from 4 minutes before."""
    rows = []
    for i in range(360):
        ts = now - 3600 + i * 10
        slow = ts >= now - 1200
        failing = ts >= now - 240 and i % 2 == 0
        rows.append(make_record(ts=ts, model="gpt-4o", latency_ms=5000.0 if slow else 400.0, cost_usd=0.01,
                                status="error" if failing else "ok"))
    return rows


SETTINGS = Settings(slos=[Slo(model="gpt-4o", percentile=95, max_ms=1000)])


def test_each_alert_says_its_rule_numbers_onset_and_where_to_look():
    cols = Columns()
    cols.append([parse_line(line_of(r).strip()) for r in incident(END)])
    report = build_report(cols, END, "1h", SETTINGS)
    alerts = {alert.kind: alert for alert in report.alerts}
    slo = alerts["slo"]
    assert slo.severity == "page"  # 5 s is over twice the 1 s SLO
    assert slo.figures == ["p95 5.00s vs SLO 1.00s (5.0x)"]
    # the minutes whose last 15 minutes' p95 is over 1 s start a minute or so after the slowdown
    assert END - 1200 <= parse_rfc3339(slo.since) <= END - 1200 + 120
    assert slo.target == "filter:model:gpt-4o latency>1s since:1h"  # the window's requests, whose p95 it is
    spike = alerts["error_rate"]
    assert "vs baseline" in spike.figures[0] and spike.target == "filter:status:error since:5m"
    assert END - 240 <= parse_rfc3339(spike.since) <= END
    lines = explain_alert(slo, END)
    assert lines[0].startswith("PAGE  slo")
    assert lines[1].startswith("  rule:   warn when p95 over the window is above the SLO of 1.00s")
    assert lines[3].startswith("  since:  2026-11-20 11:4") and "min ago" in lines[3]
    assert lines[4] == "  look:   the requests filtered by 'model:gpt-4o latency>1s since:1h'"


def test_a_budget_alert_gives_both_burn_windows_against_the_threshold():
    cols = Columns()
    cols.append([parse_line(line_of(r).strip()) for r in incident(END)])
    settings = Settings(budgets=[Budget(name="tiny", period="day", amount_usd=1.0)])
    budget = next(a for a in build_report(cols, END, "1h", settings).alerts if a.kind == "budget")
    assert budget.severity == "page" and budget.target == "budget"
    assert budget.rule == "page when the burn rate is over 12x over both 1h and 5m"
    assert budget.figures[0].startswith("burn 1h ") and budget.figures[0].endswith("> 12x")
    assert budget.figures[1].startswith("burn 5m ")
    # $0.06 a minute against $1 a day: the 1h burn passed 12x once 9 minutes of traffic were in it
    assert (budget.since, budget.since_capped) == ("2026-11-20T11:09:00Z", False)
    assert "  since:  2026-11-20 11:09:00 UTC (51 min ago)" in explain_alert(budget, END)


def test_check_prints_the_same_explanation(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in incident(END)))
    config = tmp_path / "llmops.toml"
    config.write_text('[[slos]]\nmodel = "gpt-4o"\npercentile = 95\nmax_ms = 1000\n')
    result = CliRunner().invoke(cli, ["check", str(log), "--store", str(tmp_path / "s.db"), "--now", NOW,
                                      "--config", str(config)], terminal_width=200)
    assert result.exit_code == 1, result.output
    cols = Columns()
    cols.append([parse_line(line_of(r).strip()) for r in incident(END)])
    for alert in build_report(cols, END, "1h", SETTINGS).alerts:
        for line in explain_alert(alert, END):
            assert line.rstrip() in result.output


@pytest.fixture
def console_app(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in incident(time.time())))
    return ConsoleApp(sources=[str(log)], store_url=str(tmp_path / "s.db"), settings=SETTINGS)


async def test_a_lists_the_alerts_and_enter_goes_to_the_requests_behind_one(console_app):
    app = console_app
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and len(app.dashboard.report.alerts) == 2)
        assert "2 alerts: 1 PAGE, 1 WARN" in screen_text(app).replace("\xa0", " ")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        text = screen_text(app)
        assert "2 alert(s) firing" in text and "1 PAGE, 1 WARN" in text
        assert "p95 5.00s vs SLO 1.00s (5.0x)" in text and "vs baseline" in text
        assert "since:" in text and "look:   the requests filtered by 'model:gpt-4o latency>1s since:1h'" in text
        await pilot.press("g", "enter")  # the first: the page (the SLO breach)
        await wait_until(pilot, lambda: not isinstance(app.screen, AlertsScreen))
        await wait_until(pilot, lambda: app.requests_view.rows and all(r.latency_ms > 1000 for r in app.requests_view.rows))
        assert app.requests_view.has_focus
        assert "filter: model:gpt-4o latency>1s since:1h" in screen_text(app)
        await pilot.press("a", "G", "enter")  # the last: the error spike
        await wait_until(pilot, lambda: "filter: status:error since:5m" in screen_text(app))


async def test_a_click_on_the_header_alert_count_opens_the_alerts(console_app):
    app = console_app
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.alerts)
        await pilot.pause(0.6)  # the header redraws on its tick
        header = app.dashboard.status_header
        line = str(header.render()).replace("\xa0", " ")
        offset = line.index("2 alerts")
        row, column = divmod(offset, header.content_region.width)
        await pilot.click(header, offset=(column + 2 + header.styles.padding.left, row))
        await wait_until(pilot, lambda: isinstance(app.screen, AlertsScreen))


async def test_partial_figures_give_no_budget_verdict_and_say_partial(tmp_path):
    """While the history loads (or the tail catches up) the Budget pane says PARTIAL, not OK
    or PAGE, and the header holds back budget alerts: the demo showed OK, then PAGE 20 s later."""
    from console.live.events import ReportReady

    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in incident(time.time())))
    settings = Settings(budgets=[Budget(name="tiny", period="day", amount_usd=1.0)])
    app = ConsoleApp(sources=[str(log)], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.alerts)
        report = app.dashboard.report
        app.feed._post = lambda event: None  # only the reports sent here are drawn
        app.dashboard.show_report(ReportReady(report, "1h", 360, partial=True))
        await pilot.pause(0.6)
        text = screen_text(app).replace("\xa0", " ")
        assert "PARTIAL: no verdict yet" in text and " PAGE " not in text and "1 alert: 1 WARN" in text  # the spike only
        app.dashboard.show_report(ReportReady(report, "1h", 360, partial=False))
        await pilot.pause(0.6)
        text = screen_text(app).replace("\xa0", " ")
        assert "PARTIAL" not in text and " PAGE " in text and "alerts: 1 PAGE, 1 WARN" in text
