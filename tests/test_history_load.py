"""Loading the analytics history fast: Store.load_columns' column-wise path, the report's
exact budget baselines, and the console's staged seed (newest first, the rest in the
background, bounded by count)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import msgspec
import numpy as np
import pytest

from conftest import make_record
from console.analytics.aggregates import cost_nano
from console.analytics.columns import Columns
from console.analytics.live import LiveWindow
from console.analytics.report import build_report
from console.config import Budget, Settings
from console.records import estimated_cost_usd, parse_line
from console.sources.base import SourceBatch
from console.store import Store

NOW = 1_795_000_000.0


def varied_records(n: int, now: float = NOW, span: float = 3 * 86400, seed: int = 3) -> list:
    """Records that exercise every column: missing values, ties in ts, categories that
    first appear late, negative feedback, unpriced rows, odd nano-dollar costs."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        ts = now - span + round(float(rng.uniform(0, span)), 1)  # 0.1 s steps: some ties
        model = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"][i % 3] if i < n // 2 else ["o3-mini", "gpt-4o"][i % 2]
        overrides = dict(
            ts=ts,
            model=model,
            prompt_version=f"v{7 + (i * 7) % 3}" if i > n // 3 else "v7",
            input_tokens=int(rng.integers(10, 5000)),
            output_tokens=int(rng.integers(0, 900)),
            latency_ms=float(rng.gamma(2.0, 400.0)),
            status="error" if i % 11 == 0 else "ok",
            user_id=f"u{i % 13}" if i % 5 else None,
        )
        if i % 4:
            overrides["ttft_ms"] = float(rng.uniform(50, 500))
        if i % 7:
            overrides["cost_usd"] = [0.0000000025, 0.0000000035, 0.0123456789, 1e-9 * (i % 9) + 0.5e-9][i % 4]
        if i % 6 == 0:
            overrides["feedback"] = -1 if i % 12 == 0 else 1
        if i % 3 == 0:
            overrides["cached_input_tokens"] = 128
        if i % 9 == 0:
            overrides["environment"] = "prod"
        if i % 10 == 0:
            overrides["prompt_hash"] = f"h{i % 4}"
        records.append(parse_line(json.dumps(make_record(**overrides))))
    return records


def stored(tmp_path, records, blocks: bool = True) -> Store:
    """A store holding the records; blocks=False: without column blocks, as a store the
    console loads in stages (PostgreSQL) is."""
    store = Store(str(tmp_path / "history.db"))
    store.write(SourceBatch(records=records))
    if not blocks:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM column_blocks")
    return store


def assert_same_columns(a: Columns, b: Columns) -> None:
    assert len(a) == len(b)
    for table in ("_floats", "_ints", "_cats", "_bools"):
        for name in getattr(a, table):
            x, y = getattr(a, name), getattr(b, name)
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
    assert {k: v.names for k, v in a.categories.items()} == {k: v.names for k, v in b.categories.items()}
    for kind in ("model", "prompt"):
        assert list(a.first_seen[kind].items()) == list(b.first_seen[kind].items()), kind


def report_bytes(cols, now, window, settings, **kwargs) -> bytes:
    return msgspec.json.encode(build_report(cols, now, window, settings, **kwargs))


# -- load_columns -----------------------------------------------------------------------------


@pytest.mark.parametrize("blocks", [True, False])
@pytest.mark.parametrize("chunk", [7, 50_000])
def test_load_columns_equals_appending_the_records(tmp_path, monkeypatch, chunk, blocks):
    """The column-wise load (from the column blocks, or from the rows: raw cursor, a column
    at a time, any chunking) stores exactly what appending the records one by one stores,
    in (ts, id) order."""
    import console.store.column_loads as column_loads

    monkeypatch.setattr(column_loads, "LOAD_CHUNK", chunk)
    records = varied_records(400)
    expected = Columns()
    expected.append(sorted(records, key=lambda r: r.ts))  # a stable sort: ties keep write (id) order
    with stored(tmp_path, records) as store:
        assert_same_columns(store.load_columns(blocks=blocks), expected)
        since = float(np.median([r.ts for r in records]))
        recent = Columns()
        recent.append([r for r in sorted(records, key=lambda r: r.ts) if r.ts >= since])
        assert_same_columns(store.load_columns(since, blocks=blocks), recent)


def test_append_rows_equals_append():
    records = varied_records(200)
    rows = [
        (r.ts, r.model, r.prompt_id, r.prompt_version, r.input_tokens, r.output_tokens, r.cached_input_tokens,
         r.latency_ms, r.ttft_ms, r.status, r.cost_usd, r.feedback, r.user_id, r.environment, r.prompt_hash,
         r.provider, r.request_id, estimated_cost_usd(r.metadata))
        for r in records
    ]  # fmt: skip
    by_rows, by_records = Columns(), Columns()
    by_rows.append_rows(rows[:90])
    by_rows.append_rows(rows[90:])
    by_records.append(records)
    assert_same_columns(by_rows, by_records)


def test_load_in_parts_and_extend_equal_one_load(tmp_path, monkeypatch):
    import console.store.column_loads as column_loads

    records = varied_records(600)
    with stored(tmp_path, records) as store:
        whole = store.load_columns()
        middle = float(sorted(r.ts for r in records)[250])
        older = store.load_columns(before_ts=middle)
        older.extend(store.load_columns(middle))
        assert_same_columns(older, whole)
        if threading.active_count() != 1:
            pytest.skip("forking needs a single-threaded process")
        monkeypatch.setattr(column_loads, "PARALLEL_MIN_ROWS", 0)
        assert_same_columns(store.load_columns(processes=3), whole)
        assert_same_columns(store.load_columns(processes=3, blocks=False), whole)  # forked readers


# -- report: exact budget baselines ---------------------------------------------------------------


def test_spend_nano_between_rounds_as_numpy_does(tmp_path):
    records = varied_records(500)
    with stored(tmp_path, records) as store:
        costs = np.array([np.nan if r.cost_usd is None else r.cost_usd for r in records])
        assert store.spend_nano_between(0, 2e9) == int(cost_nano(costs)[1].sum())
        scoped = np.array([np.nan if r.cost_usd is None or r.model != "gpt-4o" else r.cost_usd for r in records])
        assert store.spend_nano_between(0, 2e9, {"model": "gpt-4o"}) == int(cost_nano(scoped)[1].sum())


def test_report_with_monthly_budgets_equals_a_full_build(tmp_path):
    """The report loads the budgets' whole period (its codes, and so its orderings, follow
    first appearance there): the same bytes as build_report over every row."""
    from typer.testing import CliRunner

    from console.formatting import rfc3339
    from console.cli import app
    from console.config import load_settings

    config = tmp_path / "llmops.toml"
    config.write_text(
        '[[budgets]]\nname = "month"\nperiod = "month"\namount_usd = 10\n\n'
        '[[budgets]]\nname = "4o"\nperiod = "month"\namount_usd = 5\nmodel = "gpt-4o"\n',
        encoding="utf-8",
    )
    records = varied_records(500, span=10 * 86400)
    with stored(tmp_path, records) as store:
        everything = store.load_columns()
    settings = load_settings(config)
    url = f"sqlite:///{tmp_path / 'history.db'}"
    for window in ("1h", "24h", "7d"):
        result = CliRunner().invoke(
            app, ["report", "--store", url, "--since", window, "--now", rfc3339(NOW), "--config", str(config), "--json"]
        )
        assert result.exit_code == 0, result.output
        printed = result.stdout.strip().splitlines()[-1].encode()
        assert printed == report_bytes(everything, NOW, window, settings), window
        assert json.loads(printed)["budgets"][0]["spent_usd"] > 0


# -- the console's staged seed ------------------------------------------------------------------


class FakeFeed:
    """What _seed hands to the analytics feed, kept for the test."""

    def __init__(self, settings: Settings, window: str = "1h", max_rows: int = 10**9) -> None:
        from console.live.figures_clock import FiguresClock

        self.settings, self.window, self.max_rows = settings, window, max_rows
        self.clock = FiguresClock()
        self.exact_max_rows = 10**9
        self.store_report_posted = threading.Event()
        self.store = None
        self.seeded: list = []
        self.completed = threading.Event()
        self.older = None

    def attach_store(self, store) -> None:
        self.store = store

    def seed(self, columns, baseline_spend, baseline_nano=None, partial=False, held_since=None) -> None:
        self.seeded.append((columns, baseline_nano or {}, partial))

    def complete_history(self, older, baseline_nano, held_since=None) -> None:
        self.older = (older, baseline_nano)
        self.completed.set()


def budget_settings() -> Settings:
    return Settings(budgets=[Budget(name="daily", period="day", amount_usd=5.0),
                             Budget(name="monthly", period="month", amount_usd=100.0, model="gpt-4o")])  # fmt: skip


def test_staged_seed_reports_the_newest_first_then_exactly_the_whole_window(tmp_path, monkeypatch):
    from console.live import history
    from console.live.analytics_feed import join_history
    from console.live.events import HistoryProgress

    monkeypatch.setattr(history, "FIRST_STAGE_ROWS", 60)
    now = time.time()
    records = varied_records(900, now=now, span=9 * 86400)
    settings = budget_settings()
    feed = FakeFeed(settings)
    posted: list = []
    with stored(tmp_path, records, blocks=False) as store:
        filling = history.seed_history(feed, store, None, posted.append, lambda: False)
        assert filling is not None
        first, first_baseline, partial = feed.seeded[0]
        assert partial and len(first) <= 60 + 5  # the newest rows only (ties at the cut may add a few)
        assert isinstance(posted[0], HistoryProgress) and not posted[0].done
        assert feed.completed.wait(30)
        filling.join(10)
        older, baseline = feed.older
        whole = store.load_columns()  # all of it: memory's bound (max_rows) is not reached
        expected_baseline: dict = {}  # every row is loaded: no spend before them
    assert posted[-1].done and posted[-1].loaded == posted[-1].total == len(whole) - len(first)
    # the partial report already has the budgets right and calls nothing new that is not
    live = LiveWindow(settings, "1h", cols=first)
    live.baseline_nano = first_baseline
    partial_report = live.report(now)
    full = build_report(whole, now, "1h", settings, baseline_nano=expected_baseline)
    assert [b.spent_usd for b in partial_report.budgets] == [b.spent_usd for b in full.budgets]
    assert [(c.kind, c.name, c.first_seen) for c in partial_report.change_points] == [
        (c.kind, c.name, c.first_seen) for c in full.change_points
    ]
    # joined: exactly build_report over the whole window
    joined = join_history(live, older, baseline)
    assert baseline == expected_baseline
    assert_same_columns(joined.cols, whole)
    for window in ("1h", "24h", "7d"):
        joined.set_window(window)
        assert msgspec.json.encode(joined.report(now)) == report_bytes(
            whole, now, window, settings, baseline_nano=expected_baseline
        ), window


def test_with_column_blocks_the_seed_is_the_whole_window_at_once(tmp_path, monkeypatch):
    """Blocks load a million rows in about half a second: no partial stage, the first
    report is already build_report over the whole window, budgets exact."""
    from console.live import history

    monkeypatch.setattr(history, "FIRST_STAGE_ROWS", 60)
    now = time.time()
    records = varied_records(900, now=now, span=9 * 86400)
    settings = budget_settings()
    feed = FakeFeed(settings)
    posted: list = []
    with stored(tmp_path, records) as store:
        assert store.has_column_blocks()
        assert history.seed_history(feed, store, None, posted.append, lambda: False) is None
        whole = store.load_columns(blocks=False)  # "all" means all: 9 days, not 7
        everything = store.load_columns(blocks=False)
    assert posted == [] and len(feed.seeded) == 1
    cols, baseline, partial = feed.seeded[0]
    assert not partial
    assert_same_columns(cols, whole)
    live = LiveWindow(settings, feed.window, cols=cols)
    live.baseline_nano = baseline
    full = build_report(everything, now, feed.window, settings)
    assert [b.spent_usd for b in live.report(now).budgets] == [b.spent_usd for b in full.budgets]


def test_the_window_is_bounded_by_count_and_budgets_still_count_the_rest(tmp_path):
    from console.live import history

    now = time.time()
    records = varied_records(500, now=now, span=2 * 86400)
    settings = budget_settings()
    feed = FakeFeed(settings, window="7d", max_rows=150)
    with stored(tmp_path, records) as store:
        assert history.seed_history(feed, store, None, lambda message: None, lambda: False) is None
        everything = store.load_columns()
    cols, baseline, partial = feed.seeded[0]
    assert not partial and 150 <= len(cols) < 160
    assert (cols.ts >= np.sort(everything.ts)[-150]).all()
    live = LiveWindow(settings, "7d", cols=cols)
    live.baseline_nano = baseline
    bounded, full = live.report(now), build_report(everything, now, "7d", settings)
    assert bounded.requests == len(cols) < full.requests
    assert [b.spent_usd for b in bounded.budgets] == [b.spent_usd for b in full.budgets]


def test_evicting_by_count_keeps_the_budgets_spend(tmp_path):
    from console.live.analytics_feed import evict_over

    now = time.time()
    records = sorted(varied_records(3000, now=now, span=86400 / 2), key=lambda r: r.ts)
    settings = budget_settings()
    live = LiveWindow(settings, "24h")
    live.append(records)
    before = live.report(now)
    assert evict_over(live, 1500, now) >= 1500
    after = live.report(now)
    assert len(live.cols) <= 1500 + 5 and after.requests == len(live.cols)
    assert [b.spent_usd for b in after.budgets] == [b.spent_usd for b in before.budgets]
    assert sum(live.baseline_nano.values()) > 0
    assert evict_over(live, 1000, now) == 0  # within max(10%, 1,000 rows) over: nothing to do


async def test_the_console_shows_partial_figures_first_then_the_whole_window(tmp_path, monkeypatch):
    from conftest import wait_until
    from console.live import history
    from console.ui import app as ui_app
    from console.ui.app import ConsoleApp

    monkeypatch.setattr(history, "FIRST_STAGE_ROWS", 40)
    records = varied_records(700, now=time.time(), span=6 * 86400)
    with stored(tmp_path, records, blocks=False):
        pass
    seen: list[tuple[str, object]] = []

    class Recording(ConsoleApp):
        CSS_PATH = str(Path(ui_app.__file__).parent / ConsoleApp.CSS_PATH)

        def on_report_ready(self, message) -> None:
            seen.append(("report", (message.event.partial, message.event.rows)))
            super().on_report_ready(message)

        def on_history_progress(self, message) -> None:
            seen.append(("progress", (message.event.done, self.dashboard.is_mounted)))
            super().on_history_progress(message)

    gate = threading.Event()  # the older history waits until the partial figures are seen
    fill = history._fill_history
    monkeypatch.setattr(history, "_fill_history", lambda *args: (gate.wait(30), fill(*args)))
    app = Recording(sources=[], store_url=f"sqlite:///{tmp_path / 'history.db'}")
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_until(pilot, lambda: any(kind == "report" and value[1] for kind, value in seen))
        await pilot.pause()
        reports = [value for kind, value in seen if kind == "report" and value[1]]  # not the empty one before the seed
        assert reports[0][0] and reports[0][1] < 100  # partial, the newest rows only, shown first
        await wait_until(pilot, lambda: app.status_header.history is not None)
        assert "loading history 0%" in app.status_header.history
        gate.set()
        await wait_until(pilot, lambda: ("report", (False, 700)) in seen)
        await pilot.pause()
        reports = [value for kind, value in seen if kind == "report" and value[1]]
        assert reports[-1] == (False, 700)
        first_whole = seen.index(("report", (False, 700)))
        assert ("progress", (True, True)) in seen[:first_whole]
        assert app.status_header.history is None
        assert "loading history" not in str(app.status_header.render())


def test_the_same_on_postgresql(tmp_path):
    """load_columns (SQLAlchemy path), spend_nano_between (trunc, not PostgreSQL's rounding
    CAST) and first_seen_between give on PostgreSQL what they give on SQLite."""
    from test_postgres import postgres_schema_url

    records = varied_records(300)
    middle = float(sorted(r.ts for r in records)[120])
    with postgres_schema_url() as url, Store(url) as pg, stored(tmp_path, records) as lite:
        pg.write(SourceBatch(records=records))
        assert_same_columns(pg.load_columns(), lite.load_columns())
        for scope in (None, {"model": "gpt-4o"}):
            assert pg.spend_nano_between(0, 2e9, scope) == lite.spend_nano_between(0, 2e9, scope)
        assert pg.first_seen_between(None, middle) == lite.first_seen_between(None, middle)
        assert pg.first_seen_between(middle - 86400, middle, 50) == lite.first_seen_between(middle - 86400, middle, 50)
