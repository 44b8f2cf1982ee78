"""`llmops-console ingest`: counts, exit codes, and resuming after kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from conftest import REPO, make_record
from console.cli import app

runner = CliRunner()


def ingest(*args: str):
    return runner.invoke(app, ["ingest", *args])


def stored_ids(db) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT request_id FROM requests")]
    finally:
        conn.close()


def test_ingest_reports_rows_and_is_idempotent(tmp_path, write_log):
    log = write_log("app.jsonl", [make_record() for _ in range(25)])
    store = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = ingest(str(log), "--store", store)
    assert first.exit_code == 0, first.output
    assert "25 rows added" in first.output
    again = ingest(str(log), "--store", store)
    assert again.exit_code == 0
    assert "0 rows added" in again.output
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(log.read_bytes())
    duplicate = ingest(str(copy), "--store", store)
    assert "0 rows added, 25 duplicates skipped" in duplicate.output
    assert len(stored_ids(tmp_path / "db.sqlite")) == 25


def test_ingest_reports_rejected_lines_with_file_and_line(tmp_path, write_log):
    log = write_log("app.jsonl", [make_record(), "{oops\n", make_record(status="maybe"), make_record()])
    result = ingest(str(log), "--store", str(tmp_path / "db.sqlite"))
    assert result.exit_code == 0, result.output
    assert "2 rows added" in result.output
    assert "2 lines rejected" in result.output
    assert "app.jsonl:2: invalid JSON" in result.output
    assert "app.jsonl:3:" in result.output and "status" in result.output


def test_ingest_accepts_globs(tmp_path, write_log):
    write_log("a.jsonl", [make_record()])
    write_log("b.jsonl", [make_record(), make_record()])
    result = ingest(str(tmp_path / "*.jsonl"), "--store", str(tmp_path / "db.sqlite"))
    assert result.exit_code == 0
    assert "3 rows added" in result.output


def test_missing_file_exits_2_with_a_clear_message(tmp_path):
    result = ingest(str(tmp_path / "nope.jsonl"), "--store", str(tmp_path / "db.sqlite"))
    assert result.exit_code == 2
    assert "does not exist" in " ".join(result.output.split())  # wrapped at 80 columns after a long path


def test_glob_matching_nothing_exits_2(tmp_path):
    result = ingest(str(tmp_path / "*.jsonl"), "--store", str(tmp_path / "db.sqlite"))
    assert result.exit_code == 2
    assert "no file matches" in " ".join(result.output.split())


def test_bad_store_url_exits_2_with_a_clear_message(tmp_path, write_log):
    log = write_log("app.jsonl", [make_record()])
    result = ingest(str(log), "--store", "nosuchdb://somewhere")
    assert result.exit_code == 2
    assert "nosuchdb" in result.output


def test_kill_9_mid_ingest_then_resume_stores_every_line_exactly_once(tmp_path):
    count = 150_000
    log = tmp_path / "big.jsonl"
    with log.open("w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps(make_record(request_id=f"kill-{i:07d}", input="q", output="a")) + "\n")
    db = tmp_path / "db.sqlite"
    command = [sys.executable, "-m", "console.cli", "ingest", str(log), "--store", str(db)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    rows_at_kill = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            rows_at_kill = len(stored_ids(db))
        except sqlite3.OperationalError:
            rows_at_kill = 0  # tables not created yet
        if rows_at_kill > 0:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    if rows_at_kill >= count:
        pytest.skip("ingest finished before it could be killed")
    assert process.returncode == -signal.SIGKILL

    resumed = subprocess.run(command, capture_output=True, text=True, env=env)
    assert resumed.returncode == 0, resumed.stderr
    ids = stored_ids(db)
    assert len(ids) == count
    assert set(ids) == {f"kill-{i:07d}" for i in range(count)}
    assert "0 duplicates skipped" in resumed.stdout, "the resume re-read rows it had already stored"
