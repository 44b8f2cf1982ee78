"""`ingest`'s summary agrees in number, and a gzipped log is refused with the way to feed it.

Found in a user trial: '1 lines rejected', and a rotated app log (app.jsonl.1.gz) was told to set
`format: json` in the Collector's file exporter, advice for another file altogether."""

from __future__ import annotations

import gzip
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from conftest import line_of, make_record
from console.cli import app

runner = CliRunner()


def flat(text: str) -> str:
    return " ".join(text.split())


def test_one_of_each_is_said_in_the_singular(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text(line_of(make_record(request_id="a")) + '{"broken": 1\n')
    store = str(tmp_path / "store.db")
    first = flat(runner.invoke(app, ["ingest", str(log), "--store", store]).stdout)
    assert "1 row added, 0 duplicates skipped, 1 line rejected" in first
    log.write_text(log.read_text() + line_of(make_record(request_id="a", ts=make_record()["ts"])))
    again = runner.invoke(app, ["ingest", str(log), "--store", store])
    assert "0 rows added, 1 duplicate skipped, 0 lines rejected" in flat(again.stdout)

    # `report` over log files says the same on stderr
    report = runner.invoke(app, ["report", str(log), "--store", str(tmp_path / "other.db")])
    assert report.exit_code == 0, report.output
    assert "1 row added, 1 duplicate, 1 line rejected" in flat(report.stderr)


def test_a_rotated_gzip_log_is_refused_with_the_command_that_makes_it_readable(tmp_path):
    folder = tmp_path / "my logs"
    folder.mkdir()
    rotated = folder / "app.jsonl.1.gz"
    lines = "".join(line_of(make_record(request_id=f"r{i}")) for i in range(40))
    compressed = gzip.compress(lines.encode(), mtime=0)
    assert b"\n" in compressed  # a first "line" the tail reads (without one it waits for the line's end)
    rotated.write_bytes(compressed)
    store = str(tmp_path / "store.db")
    result = runner.invoke(app, ["ingest", str(rotated), "--store", store])
    assert result.exit_code == 1, result.output
    said = flat(result.stderr)
    assert "gzip-compressed" in said and "Collector" not in said and "format: json" not in said
    command = f"zcat '{rotated}' > '{folder / 'app.jsonl.1'}'"
    assert f"`{command}`" in said
    if shutil.which("zcat") is None:
        pytest.skip("no zcat to follow the advice with")
    subprocess.run(command, shell=True, check=True)
    copy = runner.invoke(app, ["ingest", str(folder / "app.jsonl.1"), "--store", store])
    assert copy.exit_code == 0 and "40 rows added" in flat(copy.stdout)
