"""What a refused regression run says, in the `R` dialog's words and in the command line's, and
`regress --help` listing its sub-command's summary whole."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from console.cli import app
from console.config import Settings
from console.regression.plan import PlanError, make_plan, parse_baseline


@pytest.mark.parametrize(("make", "cli", "dialog"), [
    (lambda: parse_baseline("abc"), "--baseline takes a run id or 'none', not 'abc'",
     "baseline: a run id (its # in the runs history), none, or empty; not 'abc'"),
    (lambda: parse_baseline("0"), "--baseline takes a run id (1 or more), not '0'", "baseline: a run id is 1 or more, not '0'"),
    (lambda: make_plan(Settings(), target="nosuch"), "no target 'nosuch'", "target: 'nosuch' is not in [regression.targets]"),
    (lambda: make_plan(Settings()), "which target? pass --target NAME", "target: which one? a name from [regression.targets]"),
])  # fmt: skip
def test_the_dialog_says_it_without_the_command_lines_flags(make, cli, dialog):
    with pytest.raises(PlanError) as refused:
        make()
    assert str(refused.value).startswith(cli)  # the CLI's message is kept
    said = refused.value.dialog_text()
    assert said.startswith(dialog) and "--" not in said


def test_the_dialog_names_the_field_once():
    error = PlanError("prompt version 'v99' is not a registered version of p", "prompt_version",
                      in_dialog="'v99' is not a registered version of p")  # fmt: skip
    assert error.dialog_text() == "prompt version: 'v99' is not a registered version of p"
    assert PlanError("--concurrency must be between 1 and 256").dialog_text() == "--concurrency must be between 1 and 256"


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_regress_help_lists_export_with_its_summary_whole(columns):
    # it read 'export  Write the regression cases as a promptfooconfig.yaml (each case...'
    result = CliRunner().invoke(app, ["regress", "--help"], env={"COLUMNS": str(columns)}, terminal_width=columns)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.strip().startswith("export"))
    assert line.split(None, 1)[1] == "Write the suite as a promptfooconfig.yaml."
