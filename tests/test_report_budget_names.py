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
SCOPE = "model=claude-sonnet-4-5"


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


def scoped_row(table: list[str]) -> tuple[str, str]:
    """The scoped budget's line and the line under it (its scope)."""
    at = next(i for i, line in enumerate(table) if line.startswith("claude-sonnet daily"))
    return table[at], table[at + 1]


def test_a_scoped_budget_s_name_is_whole_on_a_wide_terminal(tmp_path, write_log):
    budgets, burn = budget_sections(tmp_path, write_log, 200)
    for table in (budgets, burn):
        row, under = scoped_row(table)
        assert "…" not in row + under and under.startswith(SCOPE + " ")  # the scope on a line of its own
    runs_out = budgets[1].index("runs out at this rate")  # the words on the budget's own line
    assert "not this day (resets" in scoped_row(budgets)[0][runs_out:]


def test_at_80_columns_names_and_scopes_stay_whole_and_the_run_out_short(tmp_path, write_log):
    # a user trial of the demo at 80 columns: 'claude-sonnet daily (model=cl…', and the run-out
    # 'not this day (it resets 12-08 00:00 UTC first)' wrapped over 4 lines
    budgets, burn = budget_sections(tmp_path, write_log, 80)
    assert all(len(line) <= 80 for line in budgets + burn)
    assert "…" not in "".join(budgets + burn)
    for table in (budgets, burn):
        row, under = scoped_row(table)
        assert row.startswith("claude-sonnet daily ") and under.startswith(SCOPE + " ")
    header = next(line for line in budgets if line.startswith("budget"))
    column = header.index("runs out")
    at = budgets.index(scoped_row(budgets)[0])
    words = []
    for line in budgets[at:]:
        if line[:column].strip() and line is not budgets[at] and not line.startswith(SCOPE):
            break  # the next budget's row
        words.append(line[column:].strip())
    words = [word for word in words if word]
    assert " ".join(words).startswith("not this day (resets") and len(words) <= 3, words
