"""The live console's figures follow the data (issue 17 point 2, issue 20 point 2): `all` means
the whole store, a log older than the window anchors the windows at its newest record, `--at`
fixes the clock, and above the exact path's limit the panes read the same merge as `report`:
the panes and `report --since W --now T` give the same numbers."""

from __future__ import annotations

import json
import threading
import time

import msgspec
import numpy as np
from typer.testing import CliRunner

from conftest import make_record, wait_until
from console.config import Budget, Settings, Slo
from console.formatting import parse_rfc3339, rfc3339
from console.live.figures_clock import ANCHORED, FIXED, WALL, FiguresClock

DAY = 86400.0
SETTINGS = Settings(
    budgets=[Budget(name="daily", period="day", amount_usd=5.0),
             Budget(name="monthly", period="month", amount_usd=100.0, model="gpt-4o")],
    slos=[Slo(model="gpt-4o", max_ms=900.0)],
)  # fmt: skip


def old_lines(n: int, newest: float, span: float = 2 * DAY, seed: int = 5) -> list[dict]:
    """n requests spread over `span` seconds ending exactly at `newest`: several models and
    versions, errors, priced and unpriced rows; the last one at `newest` itself."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        ts = newest if i == n - 1 else newest - round(float(rng.uniform(0, span)), 3)
        line = make_record(
            ts=rfc3339(ts, timespec="milliseconds"), request_id=f"req_{i:05d}", model=["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"][i % 3],
            prompt_version=f"v{6 + i % 3}", latency_ms=float(rng.gamma(2.0, 400.0)),
            ttft_ms=float(rng.uniform(50, 400)), status="error" if i % 13 == 0 else "ok",
            input_tokens=int(rng.integers(10, 4000)), output_tokens=int(rng.integers(1, 800)),
            user_id=f"u{i % 7}",
        )  # fmt: skip
        line["cost_usd"] = None if i % 17 == 0 else round(float(rng.uniform(0.0001, 0.05)), 6)
        lines.append(line)
    lines.sort(key=lambda line: line["ts"])  # RFC 3339 in UTC with milliseconds: sorts as time
    return lines


def write_log(path, lines) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def fill_store(url: str, lines) -> None:
    from console.records import parse_line
    from console.sources.base import SourceBatch
    from console.store import Store

    with Store(url) as store:
        store.write(SourceBatch(records=[parse_line(json.dumps(line)) for line in lines]))


def cli_report(url: str, window: str, now: float, exact_max_rows: int | None = None):
    from console.commands.report import make_report

    return make_report([], store=url, since=window, settings=SETTINGS, now=rfc3339(now), exact_max_rows=exact_max_rows)


def figures(report) -> dict:
    """Every figure of a report, lists that follow first appearance keyed by name (memory and
    `report` may meet the names in another order)."""
    data = msgspec.to_builtins(report)
    data["versions"] = {f"{v['prompt_id']}@{v['prompt_version']}": v for v in data["versions"]}
    data["alerts"] = sorted(json.dumps(alert, sort_keys=True) for alert in data["alerts"])
    data["change_points"] = sorted(json.dumps(point, sort_keys=True) for point in data["change_points"])
    return data


def assert_same_figures(shown, printed) -> None:
    a, b = figures(shown), figures(printed)
    for key in b:
        assert a[key] == b[key], key


async def shown_report(pilot, app, window: str, requests: int):
    """The report the panes draw once the window is `window` with `requests` requests in it."""
    if app.feed.window != window:
        app.set_window(window)
    await wait_until(pilot, lambda: (report := app.dashboard.report) is not None and report.window.name == window
                     and report.requests == requests and not app.status_header.history, timeout=30)  # fmt: skip
    return app.dashboard.report


async def test_a_log_from_30_days_ago_fills_the_panes_anchored_at_its_newest_record(tmp_path):
    """Tailed into a new store: the first records anchor the clock (the store was empty at
    open), `all` and the default 1h window show everything `report --now <newest>` shows."""
    from console.ui.app import ConsoleApp
    from console.ui.widgets.budget_pane import BudgetPane

    newest = round(time.time() - 30 * DAY, 3)
    lines = old_lines(600, newest)
    log, url = tmp_path / "old.jsonl", f"sqlite:///{tmp_path / 'store.db'}"
    write_log(log, lines)
    app = ConsoleApp(sources=[str(log)], store_url=url, settings=SETTINGS)
    async with app.run_test(size=(160, 48)) as pilot:
        hour = sum(1 for line in lines if parse_rfc3339(line["ts"]) >= newest - 3600)
        report = await shown_report(pilot, app, "1h", hour)
        assert app.feed.clock.mode == ANCHORED and report.window.end == rfc3339(newest)
        assert_same_figures(report, cli_report(url, "1h", newest))
        header = str(app.status_header.render())
        assert f"logs end {rfc3339(newest, timespec='seconds')[:16].replace('T', ' ')} UTC" in header
        assert "windows anchored there (--at)" in header
        everything = await shown_report(pilot, app, "all", len(lines))
        assert everything.spend.total_usd > 0 and everything.latency.overall.requests == len(lines)
        assert all(budget.spent_usd > 0 for budget in everything.budgets)
        assert "$0 over 0" not in str(app.dashboard.query_one(BudgetPane).render())
        assert_same_figures(everything, cli_report(url, "all", newest))


async def test_at_fixes_the_figures_clock(tmp_path):
    """--at: the windows end at that moment, rows after it left out, as report --now does."""
    from console.ui.app import ConsoleApp

    newest = round(time.time() - 3 * DAY, 3)
    lines = old_lines(400, newest)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    fill_store(url, lines)
    at = newest - 6 * 3600
    app = ConsoleApp(sources=[], store_url=url, settings=SETTINGS, at=at)
    async with app.run_test(size=(160, 48)) as pilot:
        expected = cli_report(url, "24h", at)
        report = await shown_report(pilot, app, "24h", expected.requests)
        assert app.feed.clock.mode == FIXED and report.window.end == rfc3339(at)
        assert_same_figures(report, expected)
        assert "(--at)" in str(app.status_header.render())


def test_open_at_reaches_the_console_and_a_bad_time_is_a_usage_error(monkeypatch):
    import console.ui.launch as launch
    from console.cli import app

    called = {}
    monkeypatch.setattr(launch, "run_console", lambda *args, **kwargs: called.update(kwargs))
    result = CliRunner().invoke(app, ["open", "--store", "x.db", "--at", "2026-11-06T14:02:00Z"])
    assert result.exit_code == 0, result.output
    assert called["at"] == 1793973720.0
    result = CliRunner().invoke(app, ["--at", "yesterday", "--store", "x.db"])
    assert result.exit_code == 2 and "--at 'yesterday'" in result.output


async def test_above_the_exact_limit_the_panes_read_the_rollups_as_report_does(tmp_path):
    """The exact path's limit lowered to 100 rows: every window holding more is the merge of
    rows and rollups, in the feed's thread; counts, spend and sketch percentiles equal
    report's with the same limit, and the latency pane says its percentiles are sketches."""
    from console.ui.app import ConsoleApp
    from console.ui.widgets.latency_pane import LatencyPane

    newest = round(time.time() - 40 * DAY, 3)
    lines = old_lines(3000, newest, span=20 * DAY)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    fill_store(url, lines)
    app = ConsoleApp(sources=[], store_url=url, settings=SETTINGS)
    app.feed.exact_max_rows = 100
    async with app.run_test(size=(160, 48)) as pilot:
        for window in ("all", "7d", "24h"):
            printed = cli_report(url, window, newest, exact_max_rows=100)
            assert printed.figures.source == "rollups"
            shown = await shown_report(pilot, app, window, printed.requests)
            assert_same_figures(shown, printed)
            if window == "all":
                everything = shown
                assert printed.figures.percentiles == "sketch"
                assert printed.requests == len(lines)
                await pilot.pause(0.1)
                assert "±1% (sketches)" in str(app.dashboard.query_one(LatencyPane).border_subtitle)
        exact = cli_report(url, "all", newest, exact_max_rows=10**9)
        assert (exact.requests, exact.errors, exact.spend.total_usd) == (everything.requests, everything.errors,
                                                                          everything.spend.total_usd)  # fmt: skip


async def test_the_feed_never_computes_figures_on_the_ui_thread(tmp_path, monkeypatch):
    import console.live.analytics_feed as analytics_feed
    from console.analytics.live import LiveWindow
    from console.ui.app import ConsoleApp

    newest = round(time.time() - 10 * DAY, 3)
    lines = old_lines(500, newest, span=5 * DAY)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    fill_store(url, lines)
    threads: list[threading.Thread] = []
    from_store, from_memory = analytics_feed.report_from_store, LiveWindow.report

    def watched_store(*args, **kwargs):
        threads.append(threading.current_thread())
        return from_store(*args, **kwargs)

    def watched_memory(self, *args, **kwargs):
        threads.append(threading.current_thread())
        return from_memory(self, *args, **kwargs)

    monkeypatch.setattr(analytics_feed, "report_from_store", watched_store)
    monkeypatch.setattr(LiveWindow, "report", watched_memory)
    app = ConsoleApp(sources=[], store_url=url, settings=SETTINGS)
    app.feed.exact_max_rows = 100  # the 7d and all windows read the store, 1h memory
    async with app.run_test(size=(160, 48)) as pilot:
        for window in ("1h", "7d", "all"):
            await shown_report(pilot, app, window, cli_report(url, window, newest, exact_max_rows=100).requests)
    assert threads and threading.main_thread() not in threads  # the app's loop runs on the main thread


def test_the_clock_anchors_follows_newer_records_and_goes_back_to_the_wall():
    wall = [1_800_000_000.0]
    clock = FiguresClock(wall=lambda: wall[0])
    assert not clock.anchor_if_stale(wall[0] - 60, 3600.0) and clock.mode == WALL and clock.note() is None
    clock = FiguresClock(wall=lambda: wall[0])
    assert clock.anchor_if_stale(wall[0] - 9 * DAY, 3600.0) and clock.now() == wall[0] - 9 * DAY
    clock.records_arrived(wall[0] - 8 * DAY)  # a newer old record: the anchor follows
    assert clock.mode == ANCHORED and clock.now() == wall[0] - 8 * DAY
    clock.records_arrived(wall[0] - 10)  # live again
    assert clock.mode == WALL and clock.now() == wall[0]
    empty = FiguresClock(wall=lambda: wall[0])
    empty.anchor_if_stale(None, None)  # an empty store: the first records decide
    empty.records_arrived(wall[0] - 30 * DAY)
    assert empty.mode == ANCHORED and "logs end" in (empty.note() or "")
    fixed = FiguresClock(at=wall[0] - DAY, wall=lambda: wall[0])
    assert not fixed.anchor_if_stale(wall[0] - 9 * DAY, 3600.0) and fixed.now() == wall[0] - DAY
    fixed.set(wall[0] - 5)  # a replay moves it
    assert fixed.now() == wall[0] - 5 and fixed.note().startswith("replaying")
