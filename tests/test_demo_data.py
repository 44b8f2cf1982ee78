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
    assert not (tmp_path / "demo" / ".llmops" / "console.db").exists()


def test_commands_run_in_the_demo_directory_use_its_store_and_history_reads_oldest_first(tmp_path, monkeypatch):
    """After the demo, `cd` into its directory: report (as regress and labels export) finds the
    demo's store and llmops.toml without --store; its history files go oldest first."""
    import json

    from console.ingest import ingest_files
    from console.store import Store

    plan = demo_run.plan_demo(tmp_path / "demo")
    assert [path.name for path in plan.history] == [
        "support-chat.1.jsonl", "support-chat.jsonl", "malformed.jsonl", "recent.jsonl",
    ]
    with Store(plan.store_url) as store:
        added = ingest_files(store, [str(path) for path in plan.history]).added
    monkeypatch.chdir(plan.workdir)
    result = CliRunner().invoke(app, ["report", "--json", "--since", "all"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["requests"] + json.loads(result.stdout).get("after_now", {}).get("requests", 0) == added
    assert [b["name"] for b in json.loads(result.stdout)["budgets"]] == ["support-chat", "claude-sonnet daily"]
