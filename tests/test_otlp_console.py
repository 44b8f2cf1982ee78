"""OTLP through the public entry points: `ingest` (auto and --format) and the live console."""

from __future__ import annotations

import time

from typer.testing import CliRunner

from conftest import make_record
from console.cli import app
from console.store import Store
from console.ui.app import ConsoleApp

from test_otlp import SAMPLE

runner = CliRunner()


def test_ingest_reads_the_otel_sample_by_its_content(tmp_path):
    store = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = runner.invoke(app, ["ingest", str(SAMPLE), "--store", store])
    assert result.exit_code == 0, result.output
    assert "6 rows added" in result.output
    assert "6 OpenTelemetry spans skipped (not GenAI model calls)" in result.output
    with Store(store) as opened:
        errors = [r for r in opened.recent(10) if r.status == "error"]
        assert [r.error_type for r in errors] == ["openai.InternalServerError"] * 2
    again = runner.invoke(app, ["ingest", str(SAMPLE), "--store", store])
    assert "0 rows added" in again.output


def test_ingest_with_a_forced_format(tmp_path, write_log):
    store = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = runner.invoke(app, ["ingest", str(SAMPLE), "--store", store, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert "0 rows added" in result.output and "6 lines rejected" in result.output
    log = write_log("app.jsonl", [make_record()])
    result = runner.invoke(app, ["ingest", str(log), "--store", store, "--format", "otlp"])
    assert "1 line rejected" in result.output and "no resourceSpans" in result.output
    bad = runner.invoke(app, ["ingest", str(log), "--store", store, "--format", "xml"])
    assert bad.exit_code == 2


async def test_the_console_shows_otel_requests_beside_jsonl_ones(tmp_path, write_log):
    log = write_log("app.jsonl", [make_record(request_id="from-jsonl-1"), make_record(request_id="from-jsonl-2")])
    console = ConsoleApp(sources=[str(SAMPLE), str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}")
    async with console.run_test(size=(160, 40)) as pilot:
        deadline = time.monotonic() + 10
        while len(console.requests_view.rows) < 8:
            assert time.monotonic() < deadline, "rows did not arrive"
            await pilot.pause(0.02)
        refs = {r.prompt_ref for r in console.requests_view.rows}
        assert {"support-answer@v8", "faq@v3", "support-answer@v7"} <= refs
        assert console.rejected_total == 0


def test_the_console_takes_format_before_or_after_the_files(tmp_path, monkeypatch):
    import console.cli as cli

    opened = []
    monkeypatch.setattr(cli, "_run_console", lambda sources, url, config, fmt="auto", otlp=None: opened.append((sources, fmt)))
    store = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first, last = ["--format", "otlp", str(SAMPLE), "--store", store], [str(SAMPLE), "--store", store, "--format", "otlp"]
    for args in (first, last):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert opened == [([str(SAMPLE)], "otlp")] * 2
