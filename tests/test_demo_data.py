"""The demo's history comes from the bundled sample logs; an install without them says so."""

from __future__ import annotations

from typer.testing import CliRunner

import console.demo.run as demo_run
from console.cli import app


def test_the_demo_reads_the_three_sample_logs_of_the_story():
    assert [path.name for path in demo_run.sample_logs()] == [
        "malformed.jsonl", "support-chat.1.jsonl", "support-chat.jsonl",
    ]


def test_an_install_without_the_sample_logs_is_a_clear_error_not_another_history(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_run, "SAMPLE_LOG_DIRS", (tmp_path / "site-packages", tmp_path / "checkout"))
    result = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path / "demo")])
    assert result.exit_code == 2
    assert "sample logs are missing from this installation" in " ".join(result.output.split())
    assert not (tmp_path / "demo" / "console.db").exists()
