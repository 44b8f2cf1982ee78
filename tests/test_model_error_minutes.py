"""The failing-model rule minute by minute, from the store's one scan of its minute cells
(console/store/minute_series.py read_minute_series fills MinuteSeries.model_calls): the same
counts as the second GROUP BY `check --backtest` used to run beside it (kept here as the
reference), on SQLite and PostgreSQL; and `replay`'s timeline, whose alert marks are the
backtest's episodes over that series (console/live/replay.py alert_marks), marks a model
failing 60% of its calls in a real JSONL log."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from console.analytics.backtest import MINUTE, MinuteSeries
from console.analytics.rollup import RowArrays
from console.cli import app
from console.config import Budget, Settings
from console.store import Store, rollups
from console.store.minute_series import read_minute_series
from tests.test_model_error_alert import END, HOURS, _records
from tests.test_postgres import postgres_schema_url

runner = CliRunner()


def two_query_model_minutes(store, first: int, minutes: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The second scan `check --backtest` ran until read_minute_series did it (4a672ee's
    console/commands/check.py model_minutes), verbatim but for its name."""
    with store.engine.connect() as conn:
        cells = rollups.Db(conn).rows(
            "SELECT model, bucket, is_error, CAST(sum(requests) AS BIGINT) FROM rollups WHERE span = ? AND bucket >= ? AND bucket < ? "
            "GROUP BY model, bucket, is_error",
            (MINUTE, first, first + minutes * MINUTE),
        )
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if not cells:
        return found
    model, bucket, is_error, counted = zip(*cells)
    models = np.asarray(model, object)
    minute = (np.asarray(bucket, np.int64) - first) // MINUTE
    counted_arr = np.asarray(counted, np.int64)
    failed = np.asarray(is_error, np.int64) == 1
    for name in sorted(set(model)):
        mine = models == name
        requests = np.bincount(minute[mine], weights=counted_arr[mine], minlength=minutes).round().astype(np.int64)
        errors = np.bincount(minute[mine & failed], weights=counted_arr[mine & failed], minlength=minutes)
        found[str(name)] = (requests, errors.round().astype(np.int64))
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
def failing_store(tmp_path, request):
    """The 3-hour log of tests/test_model_error_alert.py (gpt-4o failing 3 calls in 5 from
    11:30:30, claude 1 in 100, o3-mini 1 of 2), ingested from a JSONL file."""
    yield from _stores_of(tmp_path, request, _records(fail_from=END - 1770))


def _stores_of(tmp_path, request, records):
    """A store (SQLite, or PostgreSQL by the fixture's param) filled by `ingest` of the records
    written to a JSONL file."""
    log = tmp_path / "app.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    def fill(url: str) -> str:
        result = runner.invoke(app, ["ingest", str(log), "--store", url])
        assert result.exit_code == 0, result.output
        return url

    if request.param == "postgresql":
        with postgres_schema_url() as url:
            yield fill(url)
        return
    yield fill(f"sqlite:///{tmp_path / 'store.db'}")


@pytest.mark.parametrize("span", [(0, HOURS * 60), (-30, 90), (-HOURS * 60 - 5, 20)])
def test_the_one_scan_gives_the_two_queries_model_minutes_and_the_rows(failing_store, span):
    """model_calls from read_minute_series's single pass == the old second GROUP BY == the rows';
    the rest of the series is unchanged by it (all traffic's counts are the models' sums)."""
    offset, minutes = span
    first = int(END - HOURS * 3600) + offset * MINUTE
    budgets = [Budget(name="daily", period="day", amount_usd=100.0), Budget(name="mini", period="day", amount_usd=5.0, model="gpt-4o-mini")]
    with Store(failing_store) as store:
        series = read_minute_series(store, budgets, first, minutes)
        reference = two_query_model_minutes(store, first, minutes)
        rows = RowArrays.of_columns(store.load_columns(first, before_ts=first + minutes * MINUTE))
    assert sorted(series.model_calls) == sorted(reference)
    for model, (requests, errors) in reference.items():
        np.testing.assert_array_equal(series.model_calls[model][0], requests)
        np.testing.assert_array_equal(series.model_calls[model][1], errors)
        assert series.model_calls[model][0].dtype == series.model_calls[model][1].dtype == np.int64
    from_rows = MinuteSeries.of_rows(rows, budgets, first, minutes)
    assert sorted(from_rows.model_calls) == sorted(series.model_calls)
    for model, (requests, errors) in from_rows.model_calls.items():
        np.testing.assert_array_equal(series.model_calls[model][0], requests)
        np.testing.assert_array_equal(series.model_calls[model][1], errors)
    np.testing.assert_array_equal(series.requests, sum((r for r, _ in series.model_calls.values()), np.zeros(minutes, np.int64)))
    np.testing.assert_array_equal(series.errors, sum((e for _, e in series.model_calls.values()), np.zeros(minutes, np.int64)))
    np.testing.assert_array_equal(series.requests, from_rows.requests)
    np.testing.assert_array_equal(series.errors, from_rows.errors)
    for name in ("daily", "mini"):
        np.testing.assert_array_equal(series.spend[name], from_rows.spend[name])
    if offset == 0:  # the whole log: gpt-4o's 177 failures of the last half hour, o3-mini's 2 calls
        assert sorted(series.model_calls) == ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini", "o3-mini"]
        assert int(series.model_calls["gpt-4o"][1].sum()) == 177 and int(series.model_calls["o3-mini"][0].sum()) == 2
    if offset < -HOURS * 60:  # before the log: no cell, no model
        assert series.model_calls == {} and int(series.requests.sum()) == 0


@pytest.fixture(params=["sqlite", "postgresql"])
def steady_store(tmp_path, request):
    """gpt-4o failing 60% of its calls for the whole 3 hours, from a JSONL file."""
    yield from _stores_of(tmp_path, request, _records())


def test_the_replays_timeline_marks_the_failing_model(steady_store):
    """Replaying the log's last half hour: the timeline pages for gpt-4o over the whole period
    (the backtest's episode for the model's rule, as `check --backtest` prints it), and the
    header's alerts carry the model's page at the moment shown."""
    from console.ui.replay_app import ReplayApp
    from console.ui.widgets.replay_timeline import PAGE_STYLE, bar_styles, timeline_text

    start, end = END - 1800, END

    async def until(pilot, condition, seconds: float = 60.0) -> None:
        for _ in range(int(seconds / 0.05)):
            if condition():
                return
            await pilot.pause(0.05)
        raise AssertionError("timed out")

    async def scenario():
        replay = ReplayApp(steady_store, start, end, speed=10, settings=Settings())
        replay.driver.toggle_pause()  # paused at --from: the clock stays there
        async with replay.run_test(size=(160, 48)) as pilot:
            await until(pilot, lambda: replay.driver.state().ready and replay.driver.state().marks is not None)
            await until(pilot, lambda: any(a.kind == "error_rate" and a.subject == "gpt-4o" for a in replay.status_header.alerts))
            header = [(a.kind, a.subject, a.severity) for a in replay.status_header.alerts]
            return replay.driver.state(), header

    state, header = asyncio.run(scenario())
    marks = [(m.kind, m.subject, m.severity, m.start, m.end) for m in state.marks]
    assert ("error_rate", "gpt-4o", "page", start, None) in marks, marks  # firing from the first minute to the end
    assert not any(m.subject in ("claude-sonnet-4-5", "gpt-4o-mini", "o3-mini") for m in state.marks), marks
    assert ("error_rate", "gpt-4o", "page") in header
    assert set(bar_styles(state, 60)) == {PAGE_STYLE}  # red all along the bar
    assert "1 page" in timeline_text(state, 160).plain

    result = runner.invoke(app, ["check", "--store", steady_store, "--since", "1h", "--backtest", "30m",
                                 "--now", "2026-11-20T12:00:00Z", "--json"])  # fmt: skip
    episodes = json.loads(result.stdout)["episodes"]
    assert [(e["kind"], e["subject"], e["severity"]) for e in episodes] == [(m[0], m[1], m[2]) for m in marks]
