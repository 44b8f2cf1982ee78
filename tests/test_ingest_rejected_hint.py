"""`ingest` over more rejected lines than it prints says where the rest are listed."""

from __future__ import annotations

from typer.testing import CliRunner

from conftest import line_of, make_record
from console.cli import app
from console.store import Store

runner = CliRunner()


def test_the_rejected_lines_not_printed_are_a_key_away(tmp_path):
    # the sample logs' 13 rejected lines printed five and '… and 8 more', with no word on
    # where the eight are: the store keeps them, and x in the console lists each one
    log = tmp_path / "app.jsonl"
    log.write_text(line_of(make_record()) + "".join(f'{{"broken": {i}\n' for i in range(9)), encoding="utf-8")
    store = tmp_path / "store.db"
    result = runner.invoke(app, ["ingest", str(log), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "9 lines rejected" in result.stdout
    assert "… and 4 more (x in the console lists every one)" in " ".join(result.stdout.split())
    opened = Store(f"sqlite:///{store}")
    try:
        assert len(opened.rejected_lines()) == 9  # what x reads
    finally:
        opened.close()
