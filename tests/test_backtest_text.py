"""`check --backtest`'s text as read beside `check` and the panes: seconds written one way, and
a period with no request says where the stored requests end."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from console.cli import app
from test_backtest import NOW_TEXT, demo  # noqa: F401 (a fixture: the demo's store)

runner = CliRunner()


def test_an_slo_peak_reads_in_seconds_as_its_rule_does(demo):  # noqa: F811
    # 'peak p95 latency 20.19 s' sat above its rule's 'SLO of 12.00s' (alerts, triage and the
    # panes write 12.00s since d90a08f)
    result = runner.invoke(app, ["check", "--store", demo.store_url, "--config", str(demo.config), "--backtest", "7d",
                                 "--now", NOW_TEXT])  # fmt: skip
    assert result.exit_code == 0, result.output
    peaks = re.findall(r"peak p\d+ latency (\S+ ?\S*) at", result.stdout)
    assert peaks, result.stdout
    assert all(re.fullmatch(r"[\d,]+\.\d\ds", peak) for peak in peaks), peaks


def test_a_period_with_no_request_says_where_the_stored_requests_end(demo):  # noqa: F811
    # over the clock's last 7 days a store of older logs (the sample logs) printed 'no rule fired
    # over the period' and nothing else: true, and what a dead log pipeline looks like too
    result = runner.invoke(app, ["check", "--store", demo.store_url, "--config", str(demo.config), "--backtest", "7d"])
    assert result.exit_code == 0, result.output
    assert "no rule fired over the period" in result.stdout
    text = " ".join(result.stdout.split())
    assert "no request stored in the period; the newest stored is 2026-11-28T11:59:" in text
    assert re.search(r"add --now 2026-11-28T(11:59:\d\d|12:00:00)Z", text)
    covered = runner.invoke(app, ["check", "--store", demo.store_url, "--config", str(demo.config), "--backtest", "7d",
                                  "--now", NOW_TEXT])  # fmt: skip
    assert "newest stored" not in covered.stdout
