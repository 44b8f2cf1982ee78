"""The demo's history comes from the bundled sample logs; an install without them says so."""

from __future__ import annotations

import json

import pytest
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


def test_the_hostile_samples_epoch_lines_move_with_the_rest(tmp_path):
    """Lines 15 and 17 of malformed.jsonl (ts as epoch milliseconds and as epoch seconds) are
    valid records, but the demo copied them unshifted (its own ts parser called .replace on a
    number): they landed 17 days before the rest, ticket-classifier@v3 'first seen' on
    2026-11-20 and the `all` window 17 days long. Now moved as the rest, in their own form,
    read as the ingest reads them; the lines the ingest rejects are copied byte for byte."""
    from console.records import RecordError, parse_line, ts_datetime

    source = next(path for path in demo_run.sample_logs() if path.name == "malformed.jsonl")
    plan = demo_run.plan_demo(tmp_path / "demo")
    copy = next(path for path in plan.history if path.name == "malformed.jsonl")
    before, after = source.read_bytes().splitlines(), copy.read_bytes().splitlines()
    assert len(before) == len(after) == 30

    def verdicts(lines):
        found = []
        for line in lines:
            try:
                found.append(parse_line(line).request_id)
            except (RecordError, ValueError):
                found.append(None)
        return found

    assert verdicts(after) == verdicts(before)  # the same 16 accepted, the same rejected
    assert sum(v is not None for v in verdicts(after)) == 16
    stamps = {n: parse_line(after[n - 1]).ts for n in (13, 15, 17, 19)}
    shift = parse_line(after[12]).ts - parse_line(before[12]).ts
    assert shift > 86_400  # moved to the present
    for n in (15, 17):
        assert abs(stamps[n] - (parse_line(before[n - 1]).ts + shift)) < 0.002, n
        assert stamps[13] < stamps[n] < stamps[19]  # still in the order of the story
    moved_ms = json.loads(after[14])["ts"]
    assert isinstance(moved_ms, int) and abs(moved_ms - json.loads(before[14])["ts"] - shift * 1000) < 2  # epoch ms
    assert isinstance(json.loads(after[16])["ts"], float)  # epoch seconds stay seconds
    # lines whose ts the ingest cannot read (not JSON, no object, a bad timestamp) stay as they are
    assert [n for n in range(1, 31) if after[n - 1] == before[n - 1]] == [3, 12, 14, 16, 18, 22, 25]
    # the reading is the ingest's: what it rejects (no offset, a bool, an hour 25) raises
    assert ts_datetime(1795175929898) == ts_datetime(1795175929.898) == ts_datetime("2026-11-20T11:58:49.898Z")
    for wrong in ("2026-11-20T11:58:49", True, "yesterday at noon", -1, "2026-11-20T25:00:00Z"):
        with pytest.raises(RecordError):
            ts_datetime(wrong)
