"""A PAGE line quotes the page rule's windows (found in a user trial of the demo: the dashboard
said 'PAGE support-chat burn 24.9x/5m', the highest burn of any window, 5m being the warn rule's
short window, while the page rule is 14.4x over 15m and 1m). The summary now quotes the burn of
the windows of the rule that fires at its level, worded as the alert's figures word them
(console.analytics.budget.burn_figure: `check` and the alerts screen print those figures)."""

from __future__ import annotations

from datetime import datetime, timezone

from conftest import line_of, make_record
from console.analytics.columns import Columns
from console.analytics.report import build_report
from console.config import Budget, BurnAlert, BurnSettings, Settings
from console.records import parse_line
from console.ui.widgets.incident_summary import summary_lines

END = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc).timestamp()
SETTINGS = Settings(
    budgets=[Budget(name="support-chat", period="month", amount_usd=36000)],
    burn=BurnSettings(page=BurnAlert(threshold=14.4, long="15m", short="1m"),
                      warn=BurnAlert(threshold=6.0, long="30m", short="5m")),  # the demo's
)  # fmt: skip
PER_MINUTE = 36000 / (30 * 86400) * 60  # the budget's even spend a minute (November: 30 days)


def _rows() -> list[dict]:
    """Ten calls a minute for 40 minutes burning 20x, and 32.5x from 5 to 1 minutes before
    END: the 5m window burns hardest (30x), the page rule's 15m (23.3x) and 1m (20x) page."""
    rows = []
    for call in range(400):
        ts = END - 2400 + 6 * call + 3.5
        burn = 32.5 if END - 300 <= ts < END - 60 else 20.0
        rows.append(make_record(ts=ts, cost_usd=burn * PER_MINUTE / 10, latency_ms=500.0))
    return rows


def test_a_page_line_quotes_the_page_rules_windows_as_the_alert_does():
    cols = Columns()
    cols.append([parse_line(line_of(r).strip()) for r in _rows()])
    report = build_report(cols, END, "1h", SETTINGS)
    (budget,) = report.budgets
    assert budget.state == "page" and budget.firing_windows == ["15m", "1m"]
    assert max(budget.burn_rates, key=budget.burn_rates.get) == "5m"  # the trial's misleading figure
    (alert,) = [a for a in report.alerts if a.kind == "budget"]
    spend = summary_lines(report)[0].plain
    assert spend.startswith("PAGE") and "support-chat burn 15m 23.3x, 1m 20.0x" in spend, spend
    assert "/5m" not in spend and "burn 5m" not in spend, spend
    for quoted in ("burn 15m 23.3x", "burn 1m 20.0x"):  # the alert's own figures, as check prints them
        assert any(figure.startswith(quoted + " > 14.4x") for figure in alert.figures), alert.figures
