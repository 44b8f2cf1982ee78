"""A model failing steadily alerts (found in a user trial: gpt-4o failed 60% of its calls for the
whole window, the Latency pane marked it, and `check` stayed green because the error spike
compares all traffic with its own window). The rule (console.analytics.alerts.model_error_alerts):
a model failing 5% or more of its calls over the window with at least 10 errors warns, from 25%
pages; its figures are the Latency pane's Percentiles.errors / .requests. Here over a real log:
`check` (exit code, explanation), `report --json`, the exact path against the rollup merge and the
bounded tail, and `check --backtest`'s episodes against `check --now` minute by minute."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import msgspec
import pytest
from typer.testing import CliRunner

from console.analytics.alerts import MODEL_ERROR_MIN_ERRORS, MODEL_ERROR_WARN
from console.ui.formatting import HIGH_ERROR_RATE
from console.cli import app
from console.commands.report import make_report
from console.config import Settings
from console.formatting import rfc3339
from console.store.window_report import report_from_store
from console.commands.store_access import open_reader
from tests.conftest import make_record

runner = CliRunner()
END = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc).timestamp()
NOW = "2026-11-20T12:00:00Z"
HOURS = 3


def _records(fail_from: float | None = None, end: float = END) -> list[dict]:
    """Three models at one call every 6 s each for 3 hours (never on a minute's first second);
    gpt-4o fails 3 calls in 5 (from fail_from on; always when None), claude 1 in 100, mini none;
    o3-mini is called twice and fails once."""
    records = []
    start = end - HOURS * 3600
    for i in range(HOURS * 600):
        ts = start + 6 * i + 3
        failing = fail_from is None or ts >= fail_from
        records.append(make_record(ts=ts, model="gpt-4o", latency_ms=900.0 + i % 7,
                                   status="error" if failing and i % 5 < 3 else "ok"))  # fmt: skip
        records.append(make_record(ts=ts + 1, model="claude-sonnet-4-5", latency_ms=1100.0,
                                   status="error" if i % 100 == 0 else "ok"))  # fmt: skip
        records.append(make_record(ts=ts + 2, model="gpt-4o-mini", latency_ms=500.0))
    records.append(make_record(ts=end - 600.5, model="o3-mini", latency_ms=4000.0, status="error"))
    records.append(make_record(ts=end - 300.5, model="o3-mini", latency_ms=4000.0))
    return records


@pytest.fixture(scope="module")
def steady(tmp_path_factory):
    root = tmp_path_factory.mktemp("steady")
    log = root / "app.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in _records()), encoding="utf-8")
    store = f"sqlite:///{root / 'store.db'}"
    result = runner.invoke(app, ["ingest", str(log), "--store", store])
    assert result.exit_code == 0, result.output
    return store


@pytest.fixture(scope="module")
def onset(tmp_path_factory):
    """gpt-4o starts failing at 11:30:30 (its calls at :03, :09, ... past each minute): the
    spike fires too then, a jump from the window's rate, and clears; the model's alert stays."""
    root = tmp_path_factory.mktemp("onset")
    log = root / "app.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in _records(fail_from=END - 1770)), encoding="utf-8")
    store = f"sqlite:///{root / 'store.db'}"
    assert runner.invoke(app, ["ingest", str(log), "--store", store]).exit_code == 0
    return store


def test_check_pages_on_the_model_failing_steadily_and_names_it(steady):
    result = runner.invoke(app, ["check", "--store", steady, "--since", "1h", "--now", NOW])
    assert result.exit_code == 1, result.output
    text = result.stdout
    assert "PAGE  error_rate gpt-4o fails 60.0% of its calls: 360 of 600 failed over the last 1h" in text
    assert "rule:   warn when a model fails 5% or more of its calls over the window, with at least 10 errors; page from 25%" in text
    assert "now:    gpt-4o error rate 60.0% (360 of 600) over 1h vs 5% (warn) / 25% (page)" in text
    assert "since:  before 2026-11-20 11:15:00 UTC" in text  # failing for the whole window
    assert "look:   the requests filtered by 'model:gpt-4o status:error since:1h'" in text
    # 1 failure of 2 calls (o3-mini) and 1% (claude) do not alert; nor does the spike: a steady rate
    assert "o3-mini" not in text and "claude" not in text and "all traffic" not in text


def test_report_json_alerts_carry_the_latency_panes_figures(steady):
    result = runner.invoke(app, ["report", "--store", steady, "--since", "1h", "--now", NOW, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    alerts = [a for a in report["alerts"] if a["kind"] == "error_rate"]
    assert [(a["subject"], a["severity"]) for a in alerts] == [("gpt-4o", "page")]
    pane = report["latency"]["by_model"]
    assert (pane["gpt-4o"]["errors"], pane["gpt-4o"]["requests"]) == (360, 600)
    assert f"({pane['gpt-4o']['errors']} of {pane['gpt-4o']['requests']})" in alerts[0]["figures"][0]
    assert (pane["o3-mini"]["errors"], pane["o3-mini"]["requests"]) == (1, 2)
    assert pane["o3-mini"]["errors"] < MODEL_ERROR_MIN_ERRORS
    assert pane["claude-sonnet-4-5"]["errors"] / pane["claude-sonnet-4-5"]["requests"] < MODEL_ERROR_WARN


def test_a_model_under_the_minimum_of_errors_does_not_alert_whatever_its_rate(tmp_path, write_log):
    log = write_log("few.jsonl", [make_record(ts=END - 60 * k - 7.5, model="o3-mini", status="error" if k < 9 else "ok")
                                  for k in range(12)])  # fmt: skip
    store = f"sqlite:///{tmp_path / 'store.db'}"
    result = runner.invoke(app, ["check", str(log), "--store", store, "--since", "1h", "--now", NOW, "--json"])
    assert result.exit_code == 0, result.output  # 9 of 12 failed: 75%, but 9 errors
    assert json.loads(result.stdout)["alerts"] == []
    more = write_log("more.jsonl", [make_record(ts=END - 5.5, model="o3-mini", status="error")])
    result = runner.invoke(app, ["check", str(more), "--store", store, "--since", "1h", "--now", NOW, "--json"])
    assert result.exit_code == 1  # the 10th error: 10 of 13
    assert [(a["kind"], a["subject"], a["severity"]) for a in json.loads(result.stdout)["alerts"]] == [
        ("error_rate", "o3-mini", "page")
    ]


@pytest.mark.parametrize("window", ["15m", "1h", "6h", "all"])
def test_exact_merged_and_bounded_tail_agree(onset, window):
    now = END
    reader = open_reader(onset, missing_hint="")
    try:
        exact = report_from_store(reader, now, window, Settings(), exact_max_rows=10**9)
        merged = report_from_store(reader, now, window, Settings(), exact_max_rows=0, tail_max_rows=10**9)
        bounded = report_from_store(reader, now, window, Settings(), exact_max_rows=0, tail_max_rows=300)
    finally:
        reader.close()
    assert exact.figures.source == "rows" and merged.figures.source == bounded.figures.source == "rollups"

    def model_alerts(report):
        return [msgspec.to_builtins(a) for a in report.alerts if a.kind == "error_rate" and a.subject != "all traffic"]

    found = model_alerts(exact)
    assert [a["subject"] for a in found] == ["gpt-4o"]
    # every figure is a count: the same text, the same onset (the bounded tail's on the minute grid)
    assert model_alerts(merged) == found
    assert model_alerts(bounded) == found
    if window == "15m":  # its 15 minutes are the window: failing for all of it
        assert (found[0]["since"], found[0]["since_capped"]) == ("2026-11-20T12:00:00Z", True)
    else:
        assert (found[0]["since"], found[0]["since_capped"]) == ("2026-11-20T11:32:00Z", False)
    pane = exact.latency.by_model["gpt-4o"]
    assert f"({pane.errors:,} of {pane.requests:,})" in found[0]["figures"][0]
    assert merged.latency.by_model["gpt-4o"].errors == pane.errors


def test_the_onset_is_the_first_minute_whose_last_15_minutes_failed(onset):
    result = runner.invoke(app, ["check", "--store", onset, "--since", "1h", "--now", NOW])
    assert result.exit_code == 1
    # at 11:31 the 15 minutes held 6 errors of 150 calls (4%); at 11:32, 9 of 150 (6%)
    assert "since:  2026-11-20 11:32:00 UTC (28 min ago)" in result.stdout


def test_the_backtest_fires_when_check_starts_to_and_peaks_at_the_panes_rate(onset):
    result = runner.invoke(app, ["check", "--store", onset, "--since", "1h", "--backtest", "1h", "--now", NOW, "--json"])
    assert result.exit_code == 0, result.output
    episodes = [e for e in json.loads(result.stdout)["episodes"] if e["kind"] == "error_rate" and e["rule"] == "model"]
    assert [(e["subject"], e["rule"], e["unit"], e["end"]) for e in episodes] == [("gpt-4o", "model", "%", None)]
    episode = episodes[0]
    pane = make_report([], store=onset, since="1h", settings=Settings(), now=NOW).latency.by_model["gpt-4o"]
    assert (pane.errors, pane.requests) == (177, 600)  # the peak is now's: the Latency pane's 29.5%
    assert episode["severity"] == "page" and episode["peak"] == pane.errors / pane.requests
    start = datetime.fromisoformat(episode["start"].replace("Z", "+00:00")).timestamp()

    def fires(moment: float) -> str | None:
        report = make_report([], store=onset, since="1h", settings=Settings(), now=rfc3339(moment))
        return next((a.severity for a in report.alerts if a.subject == "gpt-4o"), None)

    # check --now agrees at the minute the backtest starts and at the one before it
    assert fires(start) == "warn" and fires(start - 60) is None
    text = runner.invoke(app, ["check", "--store", onset, "--since", "1h", "--backtest", "1h", "--now", NOW]).stdout
    assert "error_rate gpt-4o (model)" in text and "still firing; peak error rate over the window 29.5%" in text


def test_the_warn_threshold_is_the_panes_mark():
    """A '!' in the Latency pane's err column (with 10 errors or more) always has an alert behind it."""
    assert MODEL_ERROR_WARN == HIGH_ERROR_RATE


async def test_the_alerts_screen_explains_it_and_enter_shows_the_models_errors(tmp_path):
    import time

    from console.ui.app import ConsoleApp
    from console.ui.screens.alerts import AlertsScreen
    from tests.test_ui import screen_text, wait_until

    log = tmp_path / "app.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in _records(end=time.time())), encoding="utf-8")
    app = ConsoleApp(sources=[str(log)], store_url=str(tmp_path / "s.db"), settings=Settings())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None
                         and any(a.subject == "gpt-4o" for a in app.dashboard.report.alerts))
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        text = screen_text(app).replace("\xa0", " ")
        assert "1 alert(s) firing" in text and "1 PAGE, 0 WARN" in text
        # the 1h window slides with the clock: a call leaves it every 6 s, so 60.0% (600 calls)
        # reads 59.9% once the report comes more than 3 s after the log was written (CI, loaded)
        assert re.search(r"gpt-4o fails (60\.0|59\.9)% of its calls", text), text
        assert "look:   the requests filtered by 'model:gpt-4o status:error since:1h'" in text
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, AlertsScreen))
        await wait_until(pilot, lambda: app.requests_view.rows and all(
            r.model == "gpt-4o" and r.status == "error" for r in app.requests_view.rows))


def test_the_stores_model_minutes_are_the_rows(onset):
    """check --backtest's per-model minutes, read with the rest of the minute series in one scan
    of the minute cells (read_minute_series), are the rows'."""
    import numpy as np

    from console.analytics.backtest import MinuteSeries
    from console.analytics.rollup import RowArrays
    from console.store import Store
    from console.store.minute_series import read_minute_series

    first, minutes = int(END - HOURS * 3600), HOURS * 60
    with Store(onset) as store:
        from_store = read_minute_series(store, [], first, minutes).model_calls
        rows = RowArrays.of_columns(store.load_columns(first, before_ts=END))
    from_rows = MinuteSeries.of_rows(rows, [], first, minutes).model_calls
    assert sorted(from_store) == sorted(from_rows) == ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini", "o3-mini"]
    for model, (requests, errors) in from_rows.items():
        np.testing.assert_array_equal(from_store[model][0], requests)
        np.testing.assert_array_equal(from_store[model][1], errors)
    assert int(from_rows["gpt-4o"][1].sum()) == 177 and int(from_rows["o3-mini"][0].sum()) == 2


def test_on_postgres_check_and_the_backtest_say_the_same(tmp_path):
    from tests.test_postgres import postgres_schema_url

    log = tmp_path / "app.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in _records(fail_from=END - 1770)), encoding="utf-8")
    with postgres_schema_url() as url:
        assert runner.invoke(app, ["ingest", str(log), "--store", url]).exit_code == 0
        result = runner.invoke(app, ["check", "--store", url, "--since", "1h", "--now", NOW])
        assert result.exit_code == 1 and "gpt-4o fails 29.5% of its calls: 177 of 600" in result.stdout
        result = runner.invoke(app, ["check", "--store", url, "--since", "1h", "--backtest", "1h", "--now", NOW, "--json"])
        episodes = [e for e in json.loads(result.stdout)["episodes"] if e["rule"] == "model"]
        assert [(e["subject"], e["severity"], e["peak"]) for e in episodes] == [("gpt-4o", "page", 177 / 600)]
