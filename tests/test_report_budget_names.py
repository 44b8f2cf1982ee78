"""`report`'s Budgets and Burn rates tables keep a budget's name and scope whole when the
terminal has room. Found in a user trial of the demo: at 160 columns both tables read
`claude-sonnet daily (model=cl…` (the name column was capped at 30 characters at any width)."""

from __future__ import annotations

from test_report_cli import NOW, records, write_config
from typer.testing import CliRunner

from console.cli import app

runner = CliRunner()

SCOPED_BUDGETS = """
[[budgets]]
name = "support-chat"
period = "month"
amount_usd = 36000

[[budgets]]
name = "claude-sonnet daily"
period = "day"
amount_usd = 9000
model = "claude-sonnet-4-5"
"""
WHOLE = "claude-sonnet daily (model=claude-sonnet-4-5)"


def budget_sections(tmp_path, write_log, columns: int) -> tuple[list[str], list[str]]:
    log = write_log("app.jsonl", records())
    config = write_config(tmp_path, SCOPED_BUDGETS)
    result = runner.invoke(
        app, ["report", str(log), "--store", str(tmp_path / "db.sqlite"), "--now", NOW, "--config", str(config)],
        env={"COLUMNS": str(columns)},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    budgets = result.stdout.split("\nBudgets")[1].split("Burn rates")[0].splitlines()
    burn = result.stdout.split("Burn rates")[1].split("Alerts")[0].splitlines()
    return budgets, burn


def test_a_scoped_budget_s_name_is_whole_on_a_wide_terminal(tmp_path, write_log):
    budgets, burn = budget_sections(tmp_path, write_log, 160)
    for table in (budgets, burn):
        row = next(line for line in table if line.startswith("claude-sonnet daily"))
        assert row.startswith(WHOLE) and "…" not in row


def test_at_80_columns_a_name_gives_way_only_where_the_table_lacks_room(tmp_path, write_log):
    budgets, burn = budget_sections(tmp_path, write_log, 80)
    assert all(len(line) <= 80 for line in budgets + burn)
    # Budgets: the run-out's words already wrap in 12 columns; the name is cut, with …, no
    # shorter than the 30 characters it had
    name = next(line for line in budgets if line.startswith("claude-sonnet daily")).split("  ")[0]
    assert name.endswith("…") and WHOLE.startswith(name[:-1]) and len(name) >= 30
    # Burn rates: five windows leave room for the whole name (it was cut at 30 all the same)
    row = next(line for line in burn if line.startswith("claude-sonnet daily"))
    assert row.startswith(WHOLE + " ") and "…" not in row
