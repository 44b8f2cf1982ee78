"""`report`'s burn-rate table: every budget's windows, a dash where a budget is not judged."""

from __future__ import annotations

from typer.testing import CliRunner

from console.cli import app
from test_report_cli import NOW, records, write_config

runner = CliRunner()


BUDGETS_OF_TWO_KINDS = """
[[budgets]]
name = "daily"
period = "day"
amount_usd = 50

[[budgets]]
name = "monthly"
period = "month"
amount_usd = 1000

[burn]
page = {threshold = 14.4, long = "15m", short = "1m"}
warn = {threshold = 6.0, long = "30m", short = "5m"}
"""


def test_burn_table_has_every_budgets_windows_and_a_dash_where_a_budget_is_not_judged(tmp_path, write_log):
    # a daily budget is judged over 5m, 30m, 1h, 6h, 24h and the monthly one here over [burn]'s
    # 1m and 15m too: the table took the first budget's windows, so the monthly's 1m and 15m were
    # left out, and in the other order the daily's row read 0.00 for windows it is never judged on
    log = write_log("app.jsonl", records())
    config = write_config(tmp_path, BUDGETS_OF_TWO_KINDS)
    result = runner.invoke(
        app, ["report", str(log), "--store", str(tmp_path / "db.sqlite"), "--now", NOW, "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    table = result.stdout.split("Burn rates")[1].splitlines()
    header = next(line for line in table if line.startswith("budget")).split()
    assert header[1:] == ["1m", "5m", "15m", "30m", "1h", "6h", "24h"]
    rows = {line.split()[0]: line.split()[1:] for line in table if line.startswith(("daily", "monthly"))}
    cells = {name: dict(zip(header[1:], values)) for name, values in rows.items()}
    assert cells["daily"]["1m"] == "—" and cells["daily"]["15m"] == "—"
    assert cells["daily"]["5m"] != "—" and float(cells["daily"]["5m"]) > 0
    assert "—" not in cells["monthly"].values() and float(cells["monthly"]["15m"]) > 0
