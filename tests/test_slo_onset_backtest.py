"""An SLO alert's "since" is where the backtest's episode of it starts (found in a user trial of
the demo: o3-mini, a low-traffic model, showed `since: 21:24` while `check --backtest` said it
fired from 20:36, and at 21:15 "no earlier minute fired"). The onset judged each past minute's
p95 over its last 15 minutes, the alert and the backtest over the window (1h): on a few
requests a minute, 15 minutes without a slow burst read under the SLO and cut the run. Both now
judge the alert's own window at every minute (console.analytics.alerts._slo_onset,
console.analytics.backtest): the rows path, the rollup merge and the bounded tail alike."""

from __future__ import annotations

import json
from pathlib import Path
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from console.cli import app
from console.commands.store_access import open_reader
from console.config import load_settings
from console.formatting import parse_rfc3339, rfc3339
from console.store.window_report import report_from_store
from tests.conftest import make_record

runner = CliRunner()
END = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc).timestamp()
NOW = "2026-11-20T12:00:00Z"
BREACH_FROM = END - 100 * 60  # 10:20: o3-mini's slow bursts begin
CONFIG = """
[[slos]]
model = "o3-mini"
percentile = 95
max_ms = 12000
"""


def _records() -> list[dict]:
    """Five hours; o3-mini called once a minute (at :17.5), 3 s, except from BREACH_FROM on in
    the first 5 minutes of every half hour, 20 s: every hour holds 10 slow calls of 60 (p95 20 s,
    over its 12 s SLO from the 4th burst minute on), but 15 minutes ending before the next burst
    hold none (p95 3 s). gpt-4o-mini, fast and busy, is traffic without an SLO."""
    records = []
    start = END - 5 * 3600
    for minute in range(5 * 60):
        ts = start + 60 * minute + 17.5
        slow = ts >= BREACH_FROM and ((ts - BREACH_FROM) // 60) % 30 < 5
        records.append(make_record(ts=ts, model="o3-mini", latency_ms=20000.0 if slow else 3000.0))
        for second in range(0, 60, 6):
            records.append(make_record(ts=start + 60 * minute + second + 1.25, model="gpt-4o-mini", latency_ms=600.0))
    return records


@pytest.fixture(scope="module")
def breach(tmp_path_factory):
    root = tmp_path_factory.mktemp("slo_onset")
    log = root / "app.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in _records()), encoding="utf-8")
    config = root / "llmops.toml"
    config.write_text(CONFIG, encoding="utf-8")
    store = f"sqlite:///{root / 'store.db'}"
    result = runner.invoke(app, ["ingest", str(log), "--store", store, "--config", str(config)])
    assert result.exit_code == 0, result.output
    return store, str(config)


def _backtest_start(store: str, config: str, now: str) -> float:
    result = runner.invoke(app, ["check", "--store", store, "--config", config, "--backtest", "3h", "--now", now,
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    found = [e for e in json.loads(result.stdout)["episodes"] if e["kind"] == "slo" and e["subject"] == "o3-mini"]
    assert found and found[-1]["end"] is None, found  # still firing at now
    assert not found[-1]["started_before"]
    return parse_rfc3339(found[-1]["start"])


def _check_since(store: str, config: str, now: str) -> dict:
    result = runner.invoke(app, ["check", "--store", store, "--config", config, "--now", now, "--json"])
    assert result.exit_code == 1, result.output
    (alert,) = [a for a in json.loads(result.stdout)["alerts"] if a["kind"] == "slo" and a["subject"] == "o3-mini"]
    return alert


@pytest.mark.parametrize("minutes_before_end", [0, 17, 45])
def test_a_low_traffic_models_slo_since_is_the_backtests_start(breach, minutes_before_end):
    store, config = breach
    now = rfc3339(END - 60 * minutes_before_end)
    start = _backtest_start(store, config, now)
    assert BREACH_FROM < start < BREACH_FROM + 600  # the 1h p95 went over in the first burst, and stayed
    alert = _check_since(store, config, now)
    assert not alert["since_capped"]
    assert parse_rfc3339(alert["since"]) == start
    text = runner.invoke(app, ["check", "--store", store, "--config", config, "--now", now]).stdout
    assert f"since:  {rfc3339(start, timespec='seconds').replace('T', ' ').replace('Z', ' UTC')}" in text


@pytest.mark.parametrize("bounds", [{"exact_max_rows": 500}, {"exact_max_rows": 500, "tail_max_rows": 200}])
def test_the_rollup_merge_and_the_bounded_tail_date_it_alike(breach, bounds):
    store, config = breach
    start = _backtest_start(store, config, NOW)
    reader = open_reader(store, missing_hint="")
    try:
        report = report_from_store(reader, END, "1h", load_settings(Path(config)), **bounds)
    finally:
        reader.close()
    assert report.figures.source == "rollups"
    (alert,) = [a for a in report.alerts if a.kind == "slo" and a.subject == "o3-mini"]
    assert parse_rfc3339(alert.since) == start and not alert.since_capped
