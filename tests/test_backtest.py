"""`check --backtest`: the alert rules judged at every minute of a period in one pass
(console/analytics/backtest.py), on the demo's store: its episodes, and at sampled minutes the
same alerts and figures as `check --now <that minute>` (build_report over the store)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import msgspec
import numpy as np
import pytest
from typer.testing import CliRunner

from console.analytics.backtest import MINUTE, MinuteSeries, alerts_at, evaluate, lookback_seconds
from console.analytics.rollup import RowArrays
from console.analytics.sketch import Entries
from console.cli import app
from console.commands.report import make_report
from console.config import Budget, load_settings
from console.demo.incidents import SPIKE_USER_ID
from console.demo.run import plan_demo
from console.formatting import parse_rfc3339
from console.store import Store
from console.store.minute_series import read_minute_series

runner = CliRunner()
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
NOW_TEXT = "2026-11-28T12:00:00Z"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's store as `llmops-console demo` seeds it (history and the last half hour)."""
    plan = plan_demo(tmp_path_factory.mktemp("demo"), now=NOW)
    result = runner.invoke(app, ["ingest", "--store", plan.store_url, "--config", str(plan.config), *map(str, plan.history)])
    assert result.exit_code == 0, result.output
    return plan


def _backtest_json(demo, *extra: str) -> dict:
    result = runner.invoke(app, ["check", "--store", demo.store_url, "--config", str(demo.config), "--backtest", "7d",
                                 "--now", NOW_TEXT, "--json", *extra])  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_backtest_lists_the_cost_spike_pages_with_start_and_end(demo):
    found = _backtest_json(demo)
    pages = [e for e in found["episodes"] if e["kind"] == "budget" and e["rule"] == "page"]
    assert pages, found["episodes"]
    first = pages[0]
    assert first["subject"] == "support-chat" and first["severity"] == "page"
    # the live story's cost spikes begin in the last half hour: each page starts and clears there
    assert parse_rfc3339("2026-11-28T11:30:00Z") <= parse_rfc3339(first["start"]) < parse_rfc3339(first["end"])
    assert first["seconds"] == parse_rfc3339(first["end"]) - parse_rfc3339(first["start"])
    assert first["peak"] > 14.4 and first["unit"] == "x" and "15m and 1m" in first["figure"]
    assert found["minutes_judged"] == 7 * 24 * 60 + 1
    text = runner.invoke(app, ["check", "--store", demo.store_url, "--config", str(demo.config), "--backtest", "7d",
                               "--now", NOW_TEXT])  # fmt: skip
    assert text.exit_code == 0
    assert "PAGE  budget     support-chat (page) 2026-11-28 11:" in text.stdout
    assert "peak burn over 15m and 1m (the lower)" in text.stdout


def _series(demo, settings, since: float, until: float, window: str = "1h") -> MinuteSeries:
    first = int(since // MINUTE * MINUTE - lookback_seconds(settings, window))
    store = Store(demo.store_url)
    try:
        return read_minute_series(store, list(settings.budgets), first, int((until // MINUTE * MINUTE - first) // MINUTE))
    finally:
        store.close()


@pytest.mark.parametrize("minute", ["11:35", "11:40", "11:41", "11:43", "11:45", "11:52", "11:59"])
def test_each_minute_agrees_with_check_now(demo, minute):
    settings = load_settings(demo.config)
    until = parse_rfc3339(NOW_TEXT)
    timelines = evaluate(_series(demo, settings, until - 3600, until), settings, "1h", until - 3600, until)
    moment = f"2026-11-28T{minute}:00Z"
    position = int((parse_rfc3339(moment) - timelines[0].ends[0]) // MINUTE)
    assert timelines[0].ends[position] == parse_rfc3339(moment)
    backtested = alerts_at(timelines, position)
    report = make_report([], store=demo.store_url, since="1h", settings=settings, now=moment)
    assert {(a.kind, a.subject): a.severity for a in report.alerts} == {key: sev for key, (sev, _) in backtested.items()}
    # the burn figures: the same sums but for a request logged on a minute's first second (31 of
    # the demo's 46k), which check counts at both ends of [now - w, now] and a minute cell once
    for budget in report.budgets:
        for name in ("page", "warn"):
            rule = next(t for t in timelines if t.rule.kind == "budget" and t.rule.subject == budget.name and t.rule.name == name)
            windows = rule.rule.figure.split("over ")[1].split(" (")[0].split(" and ")
            expected = min(budget.burn_rates[window] for window in windows)
            assert rule.values[position] == pytest.approx(expected, rel=0.01, abs=1e-9)
    for model, figures in report.latency.by_model.items():  # percentiles: within the sketch's 1%
        rule = next((t for t in timelines if t.rule.kind == "slo" and t.rule.subject == model), None)
        if rule is not None and figures.p95 is not None:
            assert rule.values[position] == pytest.approx(figures.p95, rel=0.0101)


def test_the_store_series_is_the_rows_series(demo):
    """The rollup cells summed by SQL give what the rows give, a user-scoped budget included."""
    settings = load_settings(demo.config)
    settings.budgets.append(Budget(name="spiker", period="day", amount_usd=10, user_id=SPIKE_USER_ID))
    until = parse_rfc3339(NOW_TEXT)
    first = int((until - 2 * 3600) // MINUTE * MINUTE)
    minutes = int((until - first) // MINUTE)
    store = Store(demo.store_url)
    try:
        from_store = read_minute_series(store, list(settings.budgets), first, minutes)
        rows = RowArrays.of_columns(store.load_columns(first, before_ts=until))
    finally:
        store.close()
    from_rows = MinuteSeries.of_rows(rows, settings.budgets, first, minutes)
    assert from_store.requests.sum() > 1000
    np.testing.assert_array_equal(from_store.requests, from_rows.requests)
    np.testing.assert_array_equal(from_store.errors, from_rows.errors)
    assert from_store.spend.keys() == from_rows.spend.keys()
    assert from_store.spend["spiker"].sum() > 0
    for name in from_store.spend:
        np.testing.assert_array_equal(from_store.spend[name], from_rows.spend[name])
    assert from_store.latency.keys() == from_rows.latency.keys()
    for model, cells in from_store.latency.items():  # a minute's cells may repeat a bucket: summed
        entries = Entries.summed(cells.groups, cells.keys, cells.counts)
        other = from_rows.latency[model]
        for field in ("groups", "keys", "counts"):
            np.testing.assert_array_equal(getattr(entries, field), getattr(other, field))


def test_a_quiet_period_and_bad_periods(demo):
    quiet = _backtest_json(demo, "--since", "24h")  # a 24h window: the half hour's spikes still burn
    assert isinstance(quiet["episodes"], list)
    for bad in ("7", "week", "10s"):
        result = runner.invoke(app, ["check", "--store", demo.store_url, "--backtest", bad])
        assert result.exit_code == 2
        assert "--backtest" in result.output
    assert msgspec.json.decode(json.dumps(quiet).encode())["window"] == "24h"
