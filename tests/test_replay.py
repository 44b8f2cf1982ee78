"""`llmops-console replay`: the store's requests played in time order as if live
(console/live/replay.py, console/ui/replay_app.py), on the demo's store and on a small store on
SQLite and PostgreSQL: the budget PAGE appears when the demo's cost spike begins, the table
shows only rows the replay has reached, a step back takes the figures and the table back, the
timeline marks the backtest's alerts, and the store is never written."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from conftest import make_record
from console.cli import app
from console.config import Settings, load_settings
from console.demo.incidents import LIVE_CYCLE_S, LIVE_PHASES
from console.demo.run import BACKFILL
from console.formatting import parse_rfc3339
from console.records import parse_line
from console.sources.base import SourceBatch
from console.store import Store
from console.ui.replay_app import REPLAY_BINDINGS, ReplayApp
from test_backtest import NOW, demo  # noqa: F401 (the demo's store, seeded once per module)
from test_postgres import postgres_schema_url

runner = CliRunner()
SIZE = (160, 48)


def stored_counts(url: str) -> tuple[int, int, int]:
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            return tuple(int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # type: ignore[return-value]
                         for table in ("requests", "rollups", "rejected_lines"))
    finally:
        store.close()


async def until(pilot, condition, seconds: float = 60.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


def figures_at(replay: ReplayApp) -> float | None:
    report = replay.dashboard.report
    return None if report is None else parse_rfc3339(report.window.end)


def showing(replay: ReplayApp, moment: float) -> bool:
    """The panes' figures end at `moment` (the report's end is written to the millisecond)."""
    at = figures_at(replay)
    # a report posted before the seed reached the feed is partial (empty), not the figures at `moment`
    return at is not None and abs(at - moment) < 0.002 and not replay.dashboard.report_partial


def paused(replay: ReplayApp) -> ReplayApp:
    """Paused before it starts: the clock stays at --from until a key moves it."""
    replay.driver.toggle_pause()
    return replay


async def at_start(replay: ReplayApp, pilot) -> None:
    await until(pilot, lambda: replay.driver.state().ready and showing(replay, replay.driver.start))
    assert replay.driver.state().paused


async def triage_scored(replay: ReplayApp, pilot, scored: int, queued: int):
    """From the replay's start, `t`: the triage screen once `scored` rows are scored and
    `queued` are in its queue."""
    from console.ui.screens.triage import TriageScreen

    await at_start(replay, pilot)
    await pilot.press("t")
    await until(pilot, lambda: isinstance(replay.screen, TriageScreen))
    screen = replay.screen
    await until(pilot, lambda: replay.scoring_progress is not None
                and replay.scoring_progress[0] == replay.scoring_progress[1] == scored and len(screen.items) == queued)
    return screen


async def step_to(replay: ReplayApp, pilot, seconds: float) -> float:
    """Move the replay by `seconds` and wait for the panes' figures at the new moment."""
    target = min(max(replay.driver.state().moment + seconds, replay.driver.start), replay.driver.end)
    replay.dashboard.action_replay_step(seconds)
    await until(pilot, lambda: abs(replay.driver.state().moment - target) < 1e-6 and showing(replay, target))
    return target


def spike_starts() -> list[float]:
    """When the live story's cost spikes begin in the demo's last half hour (its backfill
    starts the 3-minute loop at NOW - BACKFILL: console/demo/run.py)."""
    first = (NOW - BACKFILL).timestamp()
    begins = LIVE_PHASES["cost_spike"][0]
    return [first + cycle * LIVE_CYCLE_S + begins for cycle in range(int(BACKFILL.total_seconds() // LIVE_CYCLE_S))]


def test_replaying_the_demo_pages_on_the_budget_when_the_cost_spike_begins(demo):
    """Done means (issue 21): replaying the last 30 minutes of the demo's store shows the
    budget PAGE appear at the moment the cost spike began, and not before."""
    before = stored_counts(demo.store_url)
    settings = load_settings(demo.config)
    start, end = (NOW - BACKFILL).timestamp(), NOW.timestamp()

    async def scenario():
        replay = paused(ReplayApp(demo.store_url, start, end, speed=10, settings=settings))
        async with replay.run_test(size=SIZE) as pilot:
            await at_start(replay, pilot)
            timeline = replay.dashboard.timeline
            await until(pilot, lambda: replay.driver.state().marks is not None)
            states: list[tuple[float, str, list]] = []
            while replay.driver.state().moment < end:
                moment = await step_to(replay, pilot, 10)
                budget = next(b for b in replay.dashboard.report.budgets if b.name == "support-chat")
                header = [(a.kind, a.severity) for a in replay.status_header.alerts]
                states.append((moment, budget.state, header))
                if budget.state == "page":
                    break
            return states, replay.driver.state(), timeline.shown

    states, state, shown = asyncio.run(scenario())
    paged = next(moment for moment, budget_state, _ in states if budget_state == "page")
    began = max(s for s in spike_starts() if s <= paged)
    assert 0 <= paged - began <= 60, (paged - began, states[-8:])
    # the header says PAGE at the same moment, and nothing paged on the budget before
    assert ("budget", "page") in states[-1][2]
    assert all(budget_state != "page" and ("budget", "page") not in header for _, budget_state, header in states[:-1])
    # the timeline marks the backtest's episodes: the first budget page is the one the replay showed
    pages = [m for m in state.marks if m.kind == "budget" and m.severity == "page"]
    assert pages and pages[0].start - 60 <= paged <= pages[0].start
    assert shown is not None and shown.paused
    assert stored_counts(demo.store_url) == before  # nothing written: no request, no rollup cell, no rejected line


BASE = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc).timestamp()
ROWS = 60  # one request every 10 s for 10 minutes


def filled_store(kind: str, sqlite_path, fill):
    """A fixture's store, on PostgreSQL (a schema of its own, dropped after) or SQLite."""
    if kind == "postgresql":
        with postgres_schema_url() as url:
            yield fill(url)
        return
    yield fill(f"sqlite:///{sqlite_path}")


@pytest.fixture(params=["sqlite", "postgresql"])
def small_store(tmp_path, request):
    """ROWS requests, one every 10 s from BASE, on SQLite and on PostgreSQL."""

    def fill(url: str) -> str:
        with Store(url) as store:
            store.write(SourceBatch(records=[
                parse_line(json.dumps(make_record(request_id=f"replay-{i:03d}", ts=BASE + 10 * i,
                                                  cost_usd=0.01, status="error" if i % 7 == 0 else "ok")))
                for i in range(ROWS)
            ]))  # fmt: skip
        return url

    yield from filled_store(request.param, tmp_path / "replay.db", fill)


def shown_ids(replay: ReplayApp) -> list[str]:
    return [record.request_id for record in replay.requests_view.rows]


def test_the_table_shows_the_rows_the_replay_reached_and_a_step_back_takes_them_away(small_store):
    before = stored_counts(small_store)
    start, end = BASE + 100, BASE + 500

    async def scenario():
        replay = paused(ReplayApp(small_store, start, end, speed=10))
        async with replay.run_test(size=SIZE) as pilot:
            await at_start(replay, pilot)
            await until(pilot, lambda: replay.requests_view.row_count == 11)  # ts <= start
            seen = {"start": shown_ids(replay), "stored": replay.status_header.stored}
            await pilot.press("right_square_bracket")  # a minute forward
            await until(pilot, lambda: showing(replay, start + 60) and replay.requests_view.row_count == 17)
            seen["forward"] = shown_ids(replay)
            seen["figures"] = replay.dashboard.report.requests
            await pilot.press("left_square_bracket", "left_square_bracket")  # two back: clamped at the start
            await until(pilot, lambda: showing(replay, start) and replay.requests_view.row_count == 11)
            seen["back"] = shown_ids(replay)
            seen["stored_back"] = replay.status_header.stored
            await pilot.press("plus")
            seen["faster"] = replay.driver.state().speed
            await pilot.press("minus", "minus")
            seen["slower"] = replay.driver.state().speed
            await pilot.press("space")  # resume at 5x: rows arrive as the moment moves, as live ones do
            await until(pilot, lambda: replay.requests_view.row_count >= 13)
            moment = replay.driver.state().moment
            reached = [BASE + 10 * int(rid.split("-")[1]) for rid in shown_ids(replay)]
            seen["resumed"] = (moment, reached)
            return seen

    seen = asyncio.run(scenario())
    assert seen["start"] == [f"replay-{i:03d}" for i in range(11)]
    assert seen["stored"] == 10  # the header counts the rows before --from, then those the replay reaches
    assert seen["forward"] == [f"replay-{i:03d}" for i in range(17)]  # ts <= start + 60, in time order
    assert seen["figures"] == 17  # the 1h window at start + 60
    assert seen["back"] == [f"replay-{i:03d}" for i in range(11)]
    assert seen["stored_back"] == 11
    assert (seen["faster"], seen["slower"]) == (30, 5)
    moment, reached = seen["resumed"]
    assert max(reached) <= moment + 1e-6
    assert stored_counts(small_store) == before  # nothing written


def test_every_replay_key_has_a_binding_id_and_the_help_lists_them():
    assert [b.id for b in REPLAY_BINDINGS] == ["replay.pause", "replay.back", "replay.forward", "replay.faster",
                                               "replay.slower"]
    assert {b.id for b in REPLAY_BINDINGS} <= ReplayApp.binding_ids()
    assert ReplayApp.binding_scopes()[0][0] == "replay"


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "yesterday"], "--from 'yesterday': use an RFC 3339 time"),
    (["--from", "2026-11-20T12:05:00Z", "--to", "2026-11-20T12:00:00Z"], "is not before --to"),
    (["--from", "2026-11-21T12:00:00Z", "--to", "2026-11-21T13:00:00Z"], "no requests between"),
    (["--from", "5m", "--speed", "0"], "--speed 0"),
])  # fmt: skip
def test_replay_refuses_bad_periods_before_opening_the_screen(tmp_path, args, message):
    url = f"sqlite:///{tmp_path / 'replay.db'}"
    with Store(url) as store:
        store.write(SourceBatch(records=[parse_line(json.dumps(make_record(ts=BASE + i))) for i in range(3)]))
    result = runner.invoke(app, ["replay", "--store", url, *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_from_as_a_duration_counts_back_from_the_newest_request(tmp_path):
    from console.commands.replay import plan_replay

    url = f"sqlite:///{tmp_path / 'replay.db'}"
    with Store(url) as store:
        store.write(SourceBatch(records=[parse_line(json.dumps(make_record(ts=BASE + 60 * i))) for i in range(10)]))
    plan = plan_replay("5m", None, 10, url)
    assert (plan.start, plan.end, plan.requests) == (BASE + 240, BASE + 540, 6)


def test_the_live_consoles_palette_offers_the_replay_of_the_last_hour(tmp_path):
    from console.ui.app import REPLAY_LAST_HOUR, ConsoleApp

    url = f"sqlite:///{tmp_path / 'live.db'}"

    async def scenario():
        live = ConsoleApp(sources=[], store_url=url)
        async with live.run_test(size=SIZE) as pilot:
            await pilot.pause()
            titles = [command.title for command in live.get_system_commands(live.screen)]
            replay_titles = [command.title for command in ReplayApp(url, BASE, BASE + 60).get_system_commands(live.screen)]
            live.action_replay_last_hour()
        return titles, replay_titles, live.return_value

    titles, replay_titles, result = asyncio.run(scenario())
    assert "Replay the last hour" in titles and result == REPLAY_LAST_HOUR  # launch.py then runs `replay --from 1h`
    assert "Replay the last hour" not in replay_titles and "Replay: a minute back" in replay_titles


def fill_store(url: str, records: list[dict]) -> str:
    with Store(url) as store:
        store.write(SourceBatch(records=[parse_line(json.dumps(record)) for record in records]))
    return url


def budget_spent(replay: ReplayApp, name: str) -> float:
    return next(b for b in replay.dashboard.report.budgets if b.name == name).spent_usd


@pytest.mark.parametrize(("period", "turn"), [
    ("day", datetime(2026, 11, 21, tzinfo=timezone.utc)),
    ("month", datetime(2026, 12, 1, tzinfo=timezone.utc)),
])  # fmt: skip
def test_a_replay_crossing_a_budgets_period_shows_the_new_periods_spend_from_zero(tmp_path, period, turn):
    """The budget's baseline (its period's spend before the rows the feed holds) follows the
    replay's clock across UTC midnight or the 1st: the new period starts at $0, and a step back
    over the boundary brings the old period's whole spend back."""
    from console.config import Budget

    turn_ts = turn.timestamp()
    # in the old period, long before the turn (for a month: before the day the feed holds)
    before = 20 * 3600 if period == "day" else 5 * 86400
    early = [make_record(ts=turn_ts - before + 60 * i, cost_usd=0.5) for i in range(4)]
    late = [make_record(ts=turn_ts - 2 * 3600 + 15 + 30 * i, cost_usd=0.01) for i in range(250)]  # every 30 s across the turn
    url = fill_store(f"sqlite:///{tmp_path / 'budget.db'}", early + late)
    settings = Settings(budgets=[Budget(name="all", period=period, amount_usd=1000.0)])
    start, end = turn_ts - 590, turn_ts + 300  # 23:50:10 to 00:05
    old_period = [r for r in early + late if r["ts"] >= turn_ts - (86400 if period == "day" else 30 * 86400)]

    def old_spend(moment: float) -> float:
        return sum(r["cost_usd"] for r in old_period if r["ts"] < turn_ts and r["ts"] <= moment)

    async def scenario():
        replay = paused(ReplayApp(url, start, end, speed=10, settings=settings))
        # memory holds fewer rows than the budget's period: the seed takes the newest day and
        # carries the older spend of the period as a baseline (as on a store of millions)
        replay.feed.max_rows = 100
        spent = {}
        async with replay.run_test(size=SIZE) as pilot:
            await at_start(replay, pilot)
            spent["start"] = budget_spent(replay, "all")
            for _ in range(10):  # to 00:00:10: no request yet in the new period
                await step_to(replay, pilot, 60)
            spent["turned"] = budget_spent(replay, "all")
            await step_to(replay, pilot, 60)  # 00:01:10: the new period's first two requests
            spent["a_minute_in"] = budget_spent(replay, "all")
            await step_to(replay, pilot, -60)
            await step_to(replay, pilot, -60)  # 23:59:10, back in the old period
            spent["back"] = budget_spent(replay, "all")
        return spent

    spent = asyncio.run(scenario())
    assert spent["start"] == pytest.approx(old_spend(start))
    assert spent["turned"] == pytest.approx(0.0)
    assert spent["a_minute_in"] == pytest.approx(0.02)
    assert spent["back"] == pytest.approx(old_spend(turn_ts - 50))


@pytest.fixture(params=["sqlite", "postgresql"])
def triage_store(tmp_path, request):
    """ROWS requests one every 10 s from BASE, every fifth one truncated (a low score); and a
    score an earlier console left on a truncated request far after the replay's moment."""
    from console.store.evaluation import EvaluationStore

    records = [make_record(request_id=f"triage-{i:03d}", ts=BASE + 10 * i, **({"finish_reason": "length"} if i % 5 == 0 else {}))
               for i in range(ROWS)]  # fmt: skip

    def fill(url: str) -> str:
        fill_store(url, records)
        with Store(url) as store:
            EvaluationStore(store).write_scores([("triage-055", "truncated", 0.0, "scored live, long after")])
        return url

    yield from filled_store(request.param, tmp_path / "triage.db", fill)


def test_triage_in_a_replay_scores_and_queues_only_requests_up_to_the_moment(tmp_path, triage_store):
    from console.config import EvaluationSettings, RegressionSettings
    from console.store.evaluation import EvaluationStore

    settings = Settings(evaluation=EvaluationSettings(sample_rate=1.0),
                        regression=RegressionSettings(suite=str(tmp_path / "regression" / "cases.jsonl")))
    start, end = BASE + 200, BASE + 500  # triage-000 .. triage-020 reached at the start

    async def scenario():
        replay = paused(ReplayApp(triage_store, start, end, speed=10, settings=settings))
        async with replay.run_test(size=SIZE) as pilot:
            screen = await triage_scored(replay, pilot, scored=21, queued=5)
            await pilot.pause(0.5)  # a later queue would say otherwise
            return [item.record.request_id for item in screen.items]

    queued = asyncio.run(scenario())
    assert sorted(queued) == [f"triage-{i:03d}" for i in (0, 5, 10, 15, 20)]  # not triage-055, scored before
    with Store(triage_store) as store:
        with store.engine.connect() as conn:
            scored = {rid for (rid,) in conn.execute(text("SELECT DISTINCT request_id FROM scores"))}
        assert EvaluationStore(store).scoring_backlog() == []
    assert scored == {"triage-055"}  # the replay's scores were kept in memory


def evaluation_rows(url: str) -> dict[str, tuple[int, str]]:
    """Each evaluation table's row count and a hash of its rows, in a fixed order."""
    import hashlib

    queries = {
        "scores": "SELECT request_id, scorer, score, reason, created_at FROM scores ORDER BY request_id, scorer",
        "scoring_backlog": "SELECT low, high FROM scoring_backlog ORDER BY high",
        "labels": "SELECT request_id, verdict, active FROM labels ORDER BY id",
    }
    with Store(url) as store, store.engine.connect() as conn:
        found = {}
        for table, query in queries.items():
            rows = [tuple(row) for row in conn.execute(text(query))]
            found[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        return found


def test_triage_in_a_replay_writes_no_score_nor_backlog_but_its_labels_are_real(tmp_path):
    """Issue 21, point 1: a replay never writes to the store, scoring included (its scores and
    backlog stay in memory); a label made in its triage is a real label, saved to the store."""
    from console.config import EvaluationSettings, RegressionSettings
    from console.store.evaluation import EvaluationStore
    from console.ui.screens.labelling import ReasonModal

    url = fill_store(f"sqlite:///{tmp_path / 'triage.db'}", [
        make_record(request_id=f"triage-{i:03d}", ts=BASE + 10 * i, **({"finish_reason": "length"} if i % 5 == 0 else {}))
        for i in range(ROWS)
    ])  # fmt: skip
    with Store(url) as store:  # what an earlier console left: a score, and a backlog over rows 40..50
        evaluation = EvaluationStore(store)
        evaluation.write_scores([("triage-030", "truncated", 0.0, "scored live")], now=BASE + 1000)
        ids = dict(store.engine.connect().execute(text("SELECT request_id, id FROM requests")).all())
        evaluation.save_scoring_backlog([(ids["triage-040"] - 1, ids["triage-050"])])
    before = evaluation_rows(url)
    settings = Settings(evaluation=EvaluationSettings(sample_rate=1.0),
                        regression=RegressionSettings(suite=str(tmp_path / "regression" / "cases.jsonl")))

    async def scenario():
        replay = paused(ReplayApp(url, BASE + 200, BASE + 500, speed=10, settings=settings))
        async with replay.run_test(size=SIZE) as pilot:
            screen = await triage_scored(replay, pilot, scored=21, queued=5)
            queued = [item.record.request_id for item in screen.items]
            during = evaluation_rows(url)
            await pilot.press("b")
            await until(pilot, lambda: isinstance(replay.screen, ReasonModal))
            await pilot.press("1")
            await until(pilot, lambda: evaluation_rows(url)["labels"][0] == 1)
            return queued, during, queued[0]

    queued, during, labelled = asyncio.run(scenario())
    assert sorted(queued) == [f"triage-{i:03d}" for i in (0, 5, 10, 15, 20)]  # scored, in memory
    after = evaluation_rows(url)
    assert during == before
    assert (after["scores"], after["scoring_backlog"]) == (before["scores"], before["scoring_backlog"])
    with Store(url) as store:
        label = EvaluationStore(store).current_label(labelled)
    assert label is not None and label.verdict == "bad" and label.reason == "wrong answer"


def test_the_header_labels_present_day_delivery_failures_as_todays_during_a_replay(small_store):
    from console.live.events import NotifyPending as Pending
    from console.ui.app import ConsoleApp
    from console.ui.messages import NotifyPending

    failure = NotifyPending(Pending(2, "hooks.example.com: HTTP 500"))

    async def header_after(app) -> str:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.dashboard.ready and app.dashboard.report is not None)
            app.on_notify_pending(failure)
            return app.status_header._markup()

    replayed = asyncio.run(header_after(paused(ReplayApp(small_store, BASE + 100, BASE + 500))))
    live = asyncio.run(header_after(ConsoleApp(sources=[], store_url=small_store)))
    assert "today" in replayed and "2 alert messages not delivered" in replayed
    assert "today" not in live and "2 alert messages not delivered" in live


def test_the_replays_scores_in_memory_replace_stored_ones_in_the_queue(tmp_path):
    """A request the replay scores again is queued by its replay score, not its stored one."""
    from console.live.replay_scoring import MomentBoundEvaluation
    from console.store.evaluation import EvaluationStore

    url = fill_store(f"sqlite:///{tmp_path / 'overlay.db'}",
                     [make_record(request_id=f"overlay-{i}", ts=BASE + 10 * i) for i in range(4)])
    with Store(url) as store:
        stored = EvaluationStore(store)
        stored.write_scores([("overlay-0", "s", 0.1, "stored"), ("overlay-1", "s", 0.2, "stored")])
        bound = MomentBoundEvaluation(stored, lambda: BASE + 20)
        bound.requests_down_from(bound.newest_id(), 0)
        bound.write_scores([("overlay-0", "s", 0.9, "replayed"), ("overlay-2", "s", 0.05, "replayed")], backlog=[(0, 1)])
        assert bound.low_scored(0.5, 10) == [("overlay-2", 0.05), ("overlay-1", 0.2)]
        assert bound.count_low_unlabelled(0.5) == 2
        assert bound.scores_of(["overlay-0", "overlay-1"]) == {"overlay-0": [("s", 0.9, "replayed")],
                                                              "overlay-1": [("s", 0.2, "stored")]}
        assert bound.scoring_backlog() == [(0, 1)] and stored.scoring_backlog() == []
        assert MomentBoundEvaluation(stored, lambda: BASE + 10).low_scored(0.5, 10) == [("overlay-0", 0.1), ("overlay-1", 0.2)]
        stored.add_label("overlay-2", "bad", author="ana")
        assert bound.low_scored(0.5, 10) == [("overlay-1", 0.2)] and bound.count_low_unlabelled(0.5) == 1
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM scores")).scalar_one() == 2


def test_a_replays_triage_counts_only_the_provider_errors_the_moment_reached(small_store):
    """The queue's provider-error lines (rate limits, 5xx) count the failures up to the replay's
    moment, as the live console at that moment counted them; the live queue counts them all."""
    from console.evaluation.triage import build_queue
    from console.live.replay_scoring import MomentBoundEvaluation
    from console.store.evaluation import EvaluationStore

    records = [make_record(request_id=f"limited-{i}", ts=BASE + 10 * i + 5, status="error",
                           error_type="openai.RateLimitError", error_message="429") for i in range(6)]
    fill_store(small_store, records)
    with Store(small_store) as store:
        stored = EvaluationStore(store)
        live = build_queue(stored, 0.5)
        assert [(g.model, g.error_type, g.count) for g in live.provider_errors if "RateLimit" in g.error_type] == [
            ("gpt-4o-mini", "openai.RateLimitError", 6)]
        replayed = build_queue(MomentBoundEvaluation(stored, lambda: BASE + 25), 0.5)  # limited-0, -1 and -2 reached
        assert [(g.model, g.error_type, g.count) for g in replayed.provider_errors if "RateLimit" in g.error_type] == [
            ("gpt-4o-mini", "openai.RateLimitError", 3)]
        assert build_queue(MomentBoundEvaluation(stored, lambda: BASE - 1), 0.5).provider_errors == ()
