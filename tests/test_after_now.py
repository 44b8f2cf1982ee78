"""Requests stamped after the figures' "now" (user trial: an app host's clock 2 h fast): in the
store, in no figure, and said so by `report --json` (after_now), `report`, `check` and the live
console's header; the rows path and the rollups path count them the same; an anchored clock has
none by definition, and after an explicit --now / --at they are told neutrally (or, on the
console, not at all)."""

from __future__ import annotations

import json
import re
import time

import msgspec
import pytest
from typer.testing import CliRunner

from conftest import make_record, wait_until
from console.analytics.after_now import SKEW_NOTED_S, note
from console.analytics.report_types import AfterNow, Report
from console.cli import app as cli
from console.formatting import parse_rfc3339, rfc3339
from test_postgres import postgres_schema_url
from test_figures_window import DAY, SETTINGS, cli_report, fill_store, old_lines, write_log

runner = CliRunner()
AHEAD = 2 * 3600.0
SKEW_LINE = re.compile(r"^(\d+) requests stamped up to (\d)h (\d\d)m after now are not counted \(clock skew\?\)$", re.M)


def skewed_lines(now: float, n: int = 40, every: int | None = 7) -> tuple[list[dict], int]:
    """n requests over the last 30 minutes before `now`, every `every`-th stamped AHEAD later
    (a host whose clock runs 2 h fast; None: none); returns the lines and how many are ahead."""
    lines, ahead = [], 0
    for i in range(n):
        ts = now - 1800 + i * 30
        if every and i % every == 0:
            ts += AHEAD
            ahead += 1
        lines.append(make_record(ts=rfc3339(ts, timespec="milliseconds"), request_id=f"req_{i:04d}", cost_usd=0.01,
                                 latency_ms=500.0 + i))  # fmt: skip
    return lines, ahead


def test_report_json_printed_report_and_check_say_how_many_are_ahead(tmp_path):
    now = time.time()
    lines, ahead = skewed_lines(now)
    log, store = tmp_path / "app.jsonl", str(tmp_path / "store.db")
    write_log(log, lines)
    result = runner.invoke(cli, ["report", "--json", "--since", "all", "--store", store, str(log)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    # the figures keep their window: the rows ahead are in no count and no spend
    assert data["requests"] == len(lines) - ahead and data["spend"]["total_usd"] == pytest.approx(0.01 * (len(lines) - ahead))
    after = data["after_now"]
    assert after["requests"] == ahead
    newest_ahead = max(parse_rfc3339(line["ts"]) for line in lines)
    assert after["newest"] == rfc3339(newest_ahead)
    assert after["seconds_ahead"] == pytest.approx(newest_ahead - parse_rfc3339(data["window"]["end"]))
    assert AHEAD - 1800 < after["seconds_ahead"] < AHEAD

    printed = runner.invoke(cli, ["report", "--since", "1h", "--store", store], env={"COLUMNS": "200"})
    assert printed.exit_code == 0, printed.output
    found = SKEW_LINE.search(printed.stdout)
    assert found and int(found[1]) == ahead and found[2] == "1", printed.stdout

    checked = runner.invoke(cli, ["check", "--store", store], env={"COLUMNS": "200"})
    assert checked.exit_code == 0, checked.output  # no alert: a note, not a page
    found = SKEW_LINE.search(checked.stdout)
    assert found and int(found[1]) == ahead, checked.stdout


def test_after_an_explicit_now_the_later_requests_are_told_neutrally(tmp_path):
    """--now in the past is deliberate: the rows after it are the store's later rows, no 'skew'."""
    now = time.time()
    lines, _ = skewed_lines(now, every=None)  # no host ahead: only --now earlier than the log's end
    log, store = tmp_path / "app.jsonl", str(tmp_path / "store.db")
    write_log(log, lines)
    at = now - 900
    later = sum(1 for line in lines if parse_rfc3339(line["ts"]) > at)
    printed = runner.invoke(cli, ["report", "--since", "1h", "--store", store, "--now", rfc3339(at), str(log)],
                            env={"COLUMNS": "200"})  # fmt: skip
    checked = runner.invoke(cli, ["check", "--store", store, "--now", rfc3339(at)], env={"COLUMNS": "200"})
    for result in (printed, checked):
        assert result.exit_code == 0, result.output
        assert f"{later} requests stored after --now (the newest 4m 3" in result.stdout, result.stdout  # 270 s
        assert "are outside the window" in result.stdout and "clock skew" not in result.stdout


def test_no_request_ahead_prints_nothing_and_older_outputs_read_as_zero(tmp_path):
    now = time.time()
    lines, _ = skewed_lines(now, every=None)
    log, store = tmp_path / "app.jsonl", str(tmp_path / "store.db")
    write_log(log, lines)
    result = runner.invoke(cli, ["report", "--json", "--store", store, str(log)])
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["after_now"] == {"requests": 0, "newest": None, "seconds_ahead": 0.0}
    assert "after now" not in runner.invoke(cli, ["check", "--store", store]).stdout
    del data["after_now"]  # an output from before the field
    assert msgspec.json.decode(json.dumps(data), type=Report).after_now == AfterNow()


def test_note_waits_a_minute_on_the_wall_clock_and_counts_in_words():
    assert note(AfterNow(), wall_clock=True) is None
    assert note(AfterNow(requests=3, seconds_ahead=SKEW_NOTED_S - 1), wall_clock=True) is None  # a second fast
    assert note(AfterNow(requests=1, seconds_ahead=7385), wall_clock=True) == (
        "1 request stamped up to 2h 03m after now is not counted (clock skew?)")
    assert note(AfterNow(requests=1234, seconds_ahead=3 * DAY + 3600), wall_clock=True).startswith(
        "1,234 requests stamped up to 3d 01h after now are")
    assert note(AfterNow(requests=12, seconds_ahead=7385), wall_clock=True, short=True) == (
        "12 requests 2h 03m ahead: not counted (clock skew?)")  # a header under 140 columns
    assert note(AfterNow(requests=2, seconds_ahead=5), wall_clock=False) == (
        "2 requests stored after --now (the newest 5s later) are outside the window")


@pytest.mark.parametrize("tail_max_rows", [None, 10])
def test_rows_and_rollups_count_the_same_requests_ahead(tmp_path, tail_max_rows):
    """Above EXACT_MAX_ROWS (lowered to 100) the report is a merge of rows and rollup cells (and
    with tail_max_rows=10, tail cells too): after_now is the store's count either way."""
    from console.commands.store_access import open_reader
    from console.store.window_report import report_from_store

    now = round(time.time() - 10 * DAY, 3)
    lines = old_lines(2000, now - 60, span=3 * DAY)
    ahead = [make_record(ts=rfc3339(now + 60 + 97 * i, timespec="milliseconds"), request_id=f"ahead_{i}",
                         cost_usd=0.5) for i in range(37)]  # fmt: skip
    url = f"sqlite:///{tmp_path / 'store.db'}"
    fill_store(url, lines + ahead)
    for window in ("all", "24h"):
        exact = cli_report(url, window, now, exact_max_rows=10**9)
        store = open_reader(url, missing_hint="")
        try:
            merged = report_from_store(store, now, window, SETTINGS, exact_max_rows=100, tail_max_rows=tail_max_rows)
        finally:
            store.close()
        assert (exact.figures.source, merged.figures.source) == ("rows", "rollups")
        assert exact.after_now == merged.after_now
        assert exact.after_now.requests == 37
        assert exact.after_now.seconds_ahead == pytest.approx(60 + 97 * 36, abs=1e-3)
        assert (merged.requests, merged.spend.total_usd) == (exact.requests, exact.spend.total_usd)
        assert exact.requests == sum(1 for line in lines if window == "all" or parse_rfc3339(line["ts"]) > now - DAY)


async def test_the_live_header_says_how_many_requests_are_ahead(tmp_path):
    """On the wall clock: the header's note, the figures without them, the same count as
    `report --now <the figures' now>` reads from the store."""
    from console.ui.app import ConsoleApp
    from console.live.figures_clock import WALL

    now = time.time()
    lines, ahead = skewed_lines(now)
    log, url = tmp_path / "app.jsonl", f"sqlite:///{tmp_path / 'store.db'}"
    write_log(log, lines)
    app = ConsoleApp(sources=[str(log)], store_url=url, settings=SETTINGS)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: (r := app.dashboard.report) is not None and r.requests == len(lines) - ahead
                         and r.after_now.requests == ahead and not app.status_header.history)  # fmt: skip
        assert app.feed.clock.mode == WALL
        report = app.dashboard.report
        printed = cli_report(url, "1h", parse_rfc3339(report.window.end))  # window.end: to the millisecond
        assert (report.requests, report.spend.total_usd) == (printed.requests, printed.spend.total_usd)
        assert (report.after_now.requests, report.after_now.newest) == (printed.after_now.requests, printed.after_now.newest)
        assert report.after_now.seconds_ahead == pytest.approx(printed.after_now.seconds_ahead, abs=1e-3)
        await wait_until(pilot, lambda: "clock skew?" in str(app.status_header.render()))
        header = str(app.status_header.render())
        assert re.search(rf"{ahead} requests stamped up to 1h \d\dm after now are not counted \(clock skew\?\)", header), header


async def test_anchored_and_at_clocks_show_no_skew_note(tmp_path):
    """Logs older than the window: the clock anchors at the newest record (the one a skewed host
    stamped latest), so none is after now. --at: the store's later rows are after now by choice,
    in after_now, not on the header."""
    from console.live.figures_clock import ANCHORED, FIXED
    from console.ui.app import ConsoleApp

    newest = round(time.time() - 30 * DAY, 3)
    lines = old_lines(300, newest - AHEAD) + [make_record(ts=rfc3339(newest, timespec="milliseconds"), request_id="late")]
    log, url = tmp_path / "old.jsonl", f"sqlite:///{tmp_path / 'store.db'}"
    write_log(log, lines)
    app = ConsoleApp(sources=[str(log)], store_url=url, settings=SETTINGS)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: (r := app.dashboard.report) is not None and r.window.end == rfc3339(newest)
                         and not app.status_header.history)  # fmt: skip
        assert app.feed.clock.mode == ANCHORED and app.dashboard.report.after_now == AfterNow()
        assert "clock skew" not in str(app.status_header.render())

    at = newest - AHEAD - 6 * 3600
    app = ConsoleApp(sources=[], store_url=url, settings=SETTINGS, at=at)
    async with app.run_test(size=(160, 48)) as pilot:
        expected = cli_report(url, "1h", at)
        assert expected.after_now.requests > 0
        await wait_until(pilot, lambda: (r := app.dashboard.report) is not None and r.window.end == rfc3339(at)
                         and r.after_now == expected.after_now and not app.status_header.history)  # fmt: skip
        assert app.feed.clock.mode == FIXED
        header = str(app.status_header.render())
        assert "(--at)" in header and "clock skew" not in header and "after --now" not in header


@pytest.mark.parametrize("exact_max_rows", [10**9, 100])
def test_postgres_counts_the_requests_ahead_as_sqlite_does(tmp_path, exact_max_rows):
    """The same store on PostgreSQL: rows path and rollups path, the same after_now as SQLite's."""
    with postgres_schema_url() as pg_url:  # skipped without LLMOPS_TEST_POSTGRES_URL
        check_postgres_against_sqlite(pg_url, tmp_path, exact_max_rows)


def check_postgres_against_sqlite(pg_url: str, tmp_path, exact_max_rows: int) -> None:
    from console.store import Store
    from console.store.window_report import report_from_store

    now = round(time.time() - 10 * DAY, 3)
    lines = old_lines(400, now - 60, span=DAY)
    ahead = [make_record(ts=rfc3339(now + 60 + 97 * i, timespec="milliseconds"), request_id=f"ahead_{i}") for i in range(9)]
    sqlite_url = f"sqlite:///{tmp_path / 'store.db'}"
    fill_store(sqlite_url, lines + ahead)
    fill_store(pg_url, lines + ahead)
    with Store(pg_url) as store:
        on_postgres = report_from_store(store, now, "all", SETTINGS, exact_max_rows=exact_max_rows)
    with Store(sqlite_url) as store:
        on_sqlite = report_from_store(store, now, "all", SETTINGS, exact_max_rows=exact_max_rows)
    assert on_postgres.after_now == on_sqlite.after_now and on_postgres.after_now.requests == 9
    assert on_postgres.requests == on_sqlite.requests == len(lines)
