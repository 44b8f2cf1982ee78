"""The triage queue's provider-error lines count the figures' window, ending at their now (the
panes' error rates count the same failures), and say so; Enter lists the requests counted.
They used to count every failure the store held: last week's outage and, under `open --at`,
the failures after the moment too."""

from __future__ import annotations

import random

from conftest import line_of, make_record, wait_until
from console.config import EvaluationSettings, RegressionSettings, Settings
from console.evaluation.triage import ErrorsWindow, build_queue
from console.ingest import ingest_files
from console.sources.base import SourceBatch
from console.store import Store
from console.store.error_groups import ErrorCounts, error_counts
from console.store.evaluation import EvaluationStore
from console.records import parse_line
from console.ui.app import ConsoleApp
from console.ui.screens.triage import TriageScreen
from test_ui import screen_text

AT = 1_795_000_000.0
DAY = 86400.0


def _limited(ts: float, model: str = "gpt-4o", error_type: str = "RateLimitError") -> dict:
    return make_record(ts=ts, model=model, status="error", error_type=error_type, output=None, error_message="429")


def _records() -> list[dict]:
    """Yesterday's outage (40 rate limits), 3 in the hour before AT, 2 after AT, answers between."""
    return [
        *[_limited(AT - DAY + i) for i in range(40)],
        *[_limited(AT - 3000 + 1000 * i) for i in range(3)],
        _limited(AT - 1800, model="claude-sonnet-4", error_type="overloaded_error"),
        *[make_record(ts=AT - 3500 + 60 * i) for i in range(50)],
        *[_limited(AT + 60 * (i + 1)) for i in range(2)],
    ]


def _store(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in _records()), encoding="utf-8")
    with Store(url) as store:
        ingest_files(store, [str(log)])
    return url


def test_the_error_lines_count_the_window_up_to_its_now(tmp_path):
    with Store(_store(tmp_path)) as store:
        evaluation = EvaluationStore(store)
        queue = build_queue(evaluation, 0.5, errors_window=ErrorsWindow("1h", AT))
        assert [(g.model, g.count, g.last_ts) for g in queue.provider_errors] == [
            ("gpt-4o", 3, AT - 1000), ("claude-sonnet-4", 1, AT - 1800)]  # fmt: skip
        assert queue.errors_window == "1h"
        whole_day = build_queue(evaluation, 0.5, errors_window=ErrorsWindow("24h", AT)).provider_errors
        assert [(g.model, g.count) for g in whole_day] == [("gpt-4o", 43), ("claude-sonnet-4", 1)]
        everything = build_queue(evaluation, 0.5, errors_window=ErrorsWindow("all", AT)).provider_errors
        assert [(g.model, g.count) for g in everything] == [("gpt-4o", 43), ("claude-sonnet-4", 1)]  # none after AT
        assert [(g.model, g.count) for g in build_queue(evaluation, 0.5).provider_errors] == [
            ("gpt-4o", 45), ("claude-sonnet-4", 1)]  # no window: the whole store, as before  # fmt: skip


def test_kept_counts_answer_any_window_as_the_query_does(tmp_path):
    """ErrorCounts reads on from the last row counted, rows arriving out of time order included,
    and counts a window (its edges included) as error_counts' SQL does."""
    rng = random.Random(3)
    kinds = ("RateLimitError", "APITimeoutError")
    counts = ErrorCounts()
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        for batch in range(4):
            records = [parse_line(line_of(_limited(float(rng.randrange(0, 5000)), model=rng.choice(("a", "b")),
                                                   error_type=rng.choice(kinds)))) for _ in range(60)]  # fmt: skip
            store.write(SourceBatch(records=records))
            for since, until in ((None, None), (1000.0, 3000.0), (float(rng.randrange(0, 5000)), None), (None, 2500.0)):
                assert sorted(counts(store.engine, since, until)) == sorted(error_counts(store.engine, since, until))


async def test_the_triage_title_says_the_window_and_enter_lists_the_requests_counted(tmp_path):
    url = _store(tmp_path)
    settings = Settings(evaluation=EvaluationSettings(sample_rate=1.0),
                        regression=RegressionSettings(suite=str(tmp_path / "cases.jsonl")))  # fmt: skip
    app = ConsoleApp(sources=[], store_url=url, settings=settings, at=AT)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and not app.status_header.history)
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.queue is not None and screen.queue.provider_errors)
        # the old title: "46 provider errors below in 2 lines" (yesterday's 40, the 2 after --at)
        assert "4 provider errors in the last 1h below in 2 lines" in screen_text(app)
        assert [(g.model, g.count) for g in screen.queue.provider_errors] == [("gpt-4o", 3), ("claude-sonnet-4", 1)]
        await pilot.press("enter")  # the cursor is on the first line: no answer is queued
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        assert app.dashboard.query_one("#filter").value.endswith(" since:1h")
        view = app.requests_view
        await wait_until(pilot, lambda: view.history_left == 0 and view.row_count == 3)
        assert [r.ts for r in view.rows] == [AT - 3000, AT - 2000, AT - 1000]
