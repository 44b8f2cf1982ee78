"""`since:` in the `/` filter, and the filters the console writes for a figure over a window
carrying it, so the requests shown are the ones counted.

Found in a user trial of the demo: Enter on the Latency pane's gpt-4o row (5,897 requests in
the dashboard's 1h window) showed the requests view filtered `model:gpt-4o` over the whole
history, "7,034 of 50,419 shown": the pane's figure and the requests behind it disagreed
unless the window was `all`.

since:1h (any window the console takes) or since:<RFC 3339 moment> keeps the requests with
ts >= that moment: in memory, in SQL over the history (the ts index's range, where the
newest-first scan stops) and over new rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest
from conftest import line_of, make_record, wait_until
from test_ui import screen_text

from console.analytics.columns import Columns
from console.analytics.filters import (
    FilterError,
    filter_word,
    parse_filter,
    window_filter,
)
from console.analytics.report import build_report
from console.config import Settings, Slo
from console.evaluation.provider_errors import ErrorGroup
from console.formatting import rfc3339
from console.ingest import ingest_files
from console.records import parse_line
from console.store import Store
from console.store.pages import RequestPages
from console.ui.app import ConsoleApp
from console.ui.screens.triage import group_filter
from console.ui.widgets.diff_table import DiffTable

NOW = 1_796_670_000.0  # 2026-12-07T19:00:00Z
HOUR = 3600.0


def _records(now: float) -> list[dict]:
    """Three hours of gpt-4o and gpt-4o-mini, one request a minute each, the errors and the
    slow ones among them; none within 2 minutes of an hour before now, so the 1h window's
    edge does not move over a row while a test runs."""
    rows = []
    for minute in range(180):
        ts = now - 3 * HOUR + 60 * minute + 30
        if abs(ts - (now - HOUR)) < 120:
            continue
        for model in ("gpt-4o", "gpt-4o-mini"):
            failing = minute % 4 == 0
            rows.append(make_record(
                ts=rfc3339(ts), model=model, latency_ms=3000.0 if minute % 2 else 300.0, cost_usd=0.001,
                status="error" if failing else "ok", error_type="RateLimitError" if failing else None,
                output=None if failing else f"answer about refunds {minute}",
            ))  # fmt: skip
    return rows


def _ids(records: list[dict], wanted) -> set[str]:
    return {r["request_id"] for r in records if wanted(r)}


def _ts(record: dict) -> float:
    return parse_line(line_of(record).strip()).ts


# -- the term ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bound"),
    [("since:1h", NOW - HOUR), ("since:90m", NOW - 5400.0), ("since:7d", NOW - 7 * 86400.0), ("SINCE:2H", NOW - 2 * HOUR),
     ("since:2026-12-07T18:30:00Z", NOW - 1800.0), ("since:2026-12-07T18:30Z", NOW - 1800.0),
     ("since:2026-12-07T20:30+02:00", NOW - 1800.0), ("since:2026-12-07", NOW - 19 * HOUR)],
)  # fmt: skip
def test_since_keeps_the_requests_from_that_moment_on(text, bound):
    record_filter = parse_filter(text, NOW)
    assert record_filter.since == bound
    assert record_filter.relative_since == (not text.lower().startswith("since:2026"))
    at = parse_line(line_of(make_record(ts=rfc3339(bound))).strip())
    before = parse_line(line_of(make_record(ts=rfc3339(bound - 1))).strip())
    assert record_filter(at) and not record_filter(before)
    assert parse_filter(f"-{text}", NOW)(before) and not parse_filter(f"-{text}", NOW)(at)


def test_a_relative_since_is_measured_from_the_now_given_once():
    record_filter = parse_filter("model:gpt-4o since:1h", NOW)
    assert record_filter.since == NOW - HOUR  # a value, not a function of the clock
    assert not parse_filter("since:all", NOW)  # every request: no term
    assert abs(parse_filter("since:1h").since - (time.time() - HOUR)) < 60  # no now given: the wall clock's


@pytest.mark.parametrize(
    ("text", "said"),
    [("since:", "since: needs a duration or a moment"),
     ("since:yesterday", "since:yesterday: not a duration (since:1h, since:90m, since:7d) nor a moment"),
     ("since:0h", "since:0h: not a duration"),
     ("since:2026-12-07T10:00", "since:2026-12-07T10:00: a moment is RFC 3339 with its offset"),
     ("since:2026-13-40", "a moment is RFC 3339 with its offset")],
)  # fmt: skip
def test_a_since_that_cannot_mean_anything_says_why(text, said):
    with pytest.raises(FilterError) as raised:
        parse_filter(text, NOW)
    assert said in str(raised.value)


def test_since_is_a_known_key():
    with pytest.raises(FilterError) as raised:
        parse_filter("foo:bar")
    assert "since" in str(raised.value)


# -- in SQL, on SQLite and PostgreSQL --------------------------------------------------------


@pytest.fixture
def stored(sqlite_and_postgres_url, tmp_path):
    now = time.time()
    records = _records(now)
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in records), encoding="utf-8")
    with Store(sqlite_and_postgres_url) as store:
        ingest_files(store, [str(log)])
        yield store, records, now


CASES = {
    "since:1h": lambda r, start: _ts(r) >= start,
    "model:gpt-4o since:1h": lambda r, start: r["model"] == "gpt-4o" and _ts(r) >= start,
    "-since:1h status:error": lambda r, start: _ts(r) < start and r["status"] == "error",
    "refunds since:1h": lambda r, start: r.get("output") is not None and _ts(r) >= start,  # a word: the blocks' scan
    "model:gpt-4o latency>2s since:1h": lambda r, start: r["model"] == "gpt-4o" and r["latency_ms"] > 2000 and _ts(r) >= start,
}  # fmt: skip


@pytest.mark.parametrize("text", list(CASES))
def test_since_selects_the_same_rows_in_memory_and_in_sql(stored, text):
    store, records, now = stored
    record_filter = parse_filter(text, now)
    start = record_filter.since if record_filter.since is not None else now - HOUR
    expected = _ids(records, lambda r: CASES[text](r, start))
    assert expected and len(expected) < len(records)
    in_memory = _ids(records, lambda r: record_filter(parse_line(line_of(r).strip())))
    assert in_memory == expected
    pages = RequestPages(store.engine)
    for indexed in (True, False):  # the history (rollup names), new rows
        ids = pages.keys(pages.compile(record_filter, indexed=indexed), 0)[0]
        assert {r.request_id for r in pages.records(ids.tolist()).values()} == expected, indexed
    # the history read newest first, a few rows a step, ends at the moment: the last step says so
    where, top = pages.compile(record_filter, indexed=True), pages.max_id()
    found, before, steps = set(), None, 0
    while True:
        ids, _, before = pages.history_keys(where, top, before, 7)
        steps += 1
        found |= {r.request_id for r in pages.records(ids.tolist()).values()}
        if before is None:
            break
        if record_filter.since is not None:
            assert before[0] >= start  # never a position past the bound
    assert found == expected and steps <= len(expected) // 7 + 2


def test_the_history_read_is_a_range_of_the_ts_index_on_sqlite(tmp_path):
    """since: makes the newest-first read a range of ix_requests_ts: it stops at the moment."""
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in _records(NOW)), encoding="utf-8")
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        ingest_files(store, [str(log)])
        pages = RequestPages(store.engine)
        where = pages.compile(parse_filter("model:gpt-4o since:1h", NOW), indexed=True)
        query = (f"EXPLAIN QUERY PLAN SELECT r.id, r.ts FROM requests r WHERE r.id <= 1000000 AND ({where.where}) "
                 "ORDER BY r.ts DESC, r.id DESC LIMIT 10")  # fmt: skip
        with store.engine.connect() as conn:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(query, where.params))
    assert "ix_requests_ts (ts>?)" in plan, plan


# -- the filters the console writes ----------------------------------------------------------


def test_window_filter_adds_the_window_but_for_all():
    assert window_filter("model:gpt-4o", "1h") == "model:gpt-4o since:1h"
    assert window_filter("prompt:support-answer@v8", "90m") == "prompt:support-answer@v8 since:90m"
    assert window_filter("model:gpt-4o", "all") == "model:gpt-4o"


@pytest.mark.parametrize("window", ["1h", "6h", "all"])
def test_the_alerts_looks_carry_the_window(window):
    records = _records(NOW)
    cols = Columns()
    cols.append([parse_line(line_of(r).strip()) for r in records])
    report = build_report(cols, NOW, window, Settings(slos=[Slo(model="gpt-4o", percentile=95, max_ms=1000)]))
    looks = {f"{a.kind} {a.subject}": a.target.removeprefix("filter:") for a in report.alerts}
    since = "" if window == "all" else f" since:{window}"
    assert looks["slo gpt-4o"] == f"model:gpt-4o latency>1s{since}"
    assert looks["error_rate gpt-4o"] == f"model:gpt-4o status:error{since}"
    # the look selects the requests the figure counts: the model's errors over the window
    alert = next(a for a in report.alerts if a.kind == "error_rate" and a.subject == "gpt-4o")
    selected = [r for r in cols_records(records) if parse_filter(looks["error_rate gpt-4o"], NOW)(r)]
    assert f"{len(selected):,} of" in alert.message


def cols_records(records: list[dict]):
    return [parse_line(line_of(r).strip()) for r in records if _ts(r) <= NOW]


def test_triage_s_error_line_filter_is_exact_and_quotes_a_word_with_a_colon():
    group = ErrorGroup("gpt-4o", "APIError http:503 -upstream", "overloaded", 3, 0.0)
    text = group_filter(group)
    assert text == 'model:gpt-4o status:error error:APIError "http:503" "-upstream"'
    record = parse_line(line_of(make_record(model="gpt-4o", status="error", error_type="APIError http:503 -upstream",
                                            output=None)).strip())  # fmt: skip
    assert parse_filter(text)(record)  # no 'unknown key http', no -upstream negated
    assert filter_word("timeout") == "timeout" and filter_word("latency>2s") == '"latency>2s"'


# -- the pane's count and the requests behind it ----------------------------------------------


STORED = len(_records(NOW))  # 176 minutes of the 180, two models
IN_THE_HOUR = sum(1 for r in _records(NOW) if r["model"] == "gpt-4o" and _ts(r) >= NOW - HOUR)  # 58


@pytest.fixture
def console_app(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in _records(time.time())), encoding="utf-8")
    return ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}", settings=Settings())


def _loaded(app) -> bool:
    """The pane's figures over the 1h window, and the whole store in the requests view."""
    report = app.dashboard.report
    return (report is not None and report.window.name == "1h" and report.requests == 2 * IN_THE_HOUR
            and app.requests_view.row_count == STORED)  # fmt: skip


async def _enter_on(pilot, pane_key: str, table_id: str, key: str) -> None:
    await pilot.press(pane_key)
    table = pilot.app.dashboard.query_one(table_id, DiffTable)
    for _ in range(table.row_count):
        if table.current_key == key:
            break
        await pilot.press("down")
    assert table.current_key == key
    await pilot.press("enter")


@pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_enter_on_a_latency_row_shows_as_many_requests_as_the_pane_counts(console_app, size):
    app = console_app
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: _loaded(app))
        pane_count = app.dashboard.report.latency.by_model["gpt-4o"].requests
        assert pane_count == IN_THE_HOUR  # an hour of one a minute, not the three stored
        await _enter_on(pilot, "3", "#latency-table", "model:gpt-4o")
        view = app.requests_view
        await wait_until(pilot, lambda: view.filtered and view.history_left == 0 and view.row_count > 0)
        await pilot.pause(0.2)
        assert view.row_count == pane_count
        assert app.dashboard.query_one("#filter").value == "model:gpt-4o since:1h"
        assert f"{pane_count} of {STORED} shown" in screen_text(app).replace(",", "")


async def test_enter_on_a_versions_row_shows_as_many_requests_as_the_pane_counts(console_app):
    app = console_app
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: _loaded(app))
        row = next(v for v in app.dashboard.report.versions if v.prompt_id == "support-answer")
        assert row.requests == 2 * IN_THE_HOUR
        await _enter_on(pilot, "4", "#versions-table", "support-answer@v7")
        view = app.requests_view
        await wait_until(pilot, lambda: view.filtered and view.history_left == 0 and view.row_count > 0)
        await pilot.pause(0.2)
        assert view.row_count == row.requests
        assert app.dashboard.query_one("#filter").value == "prompt:support-answer@v7 since:1h"
        assert "(from " in screen_text(app)  # the moment since:1h was measured to, in the title


def test_the_history_scan_s_progress_is_a_share_of_the_time_from_the_moment():
    """The scan stops at since:'s moment: its progress runs from there, not from the oldest row."""
    from console.live.requests_pager import _scanned_span

    span = (NOW - 10 * HOUR, NOW)
    assert _scanned_span(span, parse_filter("model:gpt-4o since:1h", NOW)) == (NOW - HOUR, NOW)
    assert _scanned_span(span, parse_filter("since:30d", NOW)) == span  # older than the oldest row
    assert _scanned_span(span, parse_filter("-since:1h", NOW)) == span and _scanned_span(span, None) == span
