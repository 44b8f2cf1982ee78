"""`compare --help` at 80 columns: every example whole on its line, so it copies and pastes.

Found in a user trial: the --b help was wrapped at a hyphen, 'e.g. prompt=support-' on one line
and 'answer@v8,model=gpt-4o.' on the next; pasted, the spec was cut in two."""

from __future__ import annotations

from rich.cells import cell_len
from typer.testing import CliRunner

from console.cli import app

EXAMPLES = (
    "llmops-console compare --a version=v7 --b version=v8 --since 1h",
    "llmops-console compare --a model=gpt-4o --b model=gpt-4o-mini --json",
    "--b prompt=support-answer@v8,model=gpt-4o",
)


def test_the_examples_are_whole_on_their_lines_at_80_columns():
    for columns in ("80", "60"):
        result = CliRunner().invoke(app, ["compare", "--help"], env={"COLUMNS": columns})
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        for example in EXAMPLES:
            assert any(example in line for line in lines), (columns, example, result.output)
        # no spec is cut at a hyphen: a line never ends inside a hyphenated word
        assert not [line for line in lines if line.rstrip().endswith("-") and not line.rstrip().endswith(" -")]
        if columns == "80":
            assert max(cell_len(line) for line in lines) <= 80
