"""`llmops-console --help` lists every command with a whole sentence at 80 columns: click cuts
a docstring's first sentence to fit and ends it with '...' (ingest, receive, report, check
... read like 'safe to...' before they had a short help of their own)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from console.cli import app


@pytest.mark.parametrize("args", [["--help"], ["labels", "--help"], ["prompts", "--help"], ["regress", "--help"]])
def test_every_command_summary_is_whole_at_80_columns(args, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(app, args, terminal_width=80)
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:", 1)[1]
    assert "..." not in listed, listed
