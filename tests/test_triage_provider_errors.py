"""Issue 17, point 5: the triage queue lists answers to judge; provider errors (rate limits, 5xx,
timeouts) are one line per (model, error type) with a count; scores start at once."""

from __future__ import annotations

import dataclasses
import time

import pytest

from conftest import line_of, make_record
from console.config import EvaluationSettings, RegressionSettings, Settings, Slo
from console.evaluation.provider_errors import ErrorGroup, provider_error_kind
from console.evaluation.triage import ScoringLoop, build_queue
from console.ingest import ingest_files
from console.store import Store
from console.store.evaluation import EvaluationStore
from console.ui import app as app_module
from console.ui.app import ConsoleApp
from console.ui.screens.triage import TriageScreen
from test_ui import screen_text, wait_until

SETTINGS = Settings(slos=[Slo(max_ms=5000)], evaluation=EvaluationSettings(sample_rate=1.0))


def rate_limited(model: str = "gpt-4o-mini", **extra) -> dict:
    return make_record(model=model, status="error", error_type="RateLimitError", output=None,
                       error_message="Error code: 429 - rate limit reached", **extra)  # fmt: skip


@pytest.mark.parametrize(
    ("error_type", "kind"),
    [("RateLimitError", "rate limit"), ("rate_limit_exceeded", "rate limit"), ("APITimeoutError", "timeout"),
     ("InternalServerError", "server error"), ("overloaded_error", "overloaded"), ("HTTP 503", "overloaded"),
     ("APIConnectionError", "connection"), ("BadRequestError", None), ("ContentFilter", None), (None, None)],
)  # fmt: skip
def test_which_errors_are_the_providers(error_type, kind):
    assert provider_error_kind(error_type) == kind


def test_provider_errors_are_counted_per_model_and_type_not_queued(tmp_path, write_log):
    records = [
        *[rate_limited() for _ in range(40)],
        *[rate_limited("claude-sonnet-4") for _ in range(3)],
        *[make_record(status="error", error_type="APITimeoutError", output=None, latency_ms=30000) for _ in range(5)],
        make_record(status="error", error_type="BadRequestError", output=None),  # the app's own: judged
        make_record(output="I'm sorry, but I can't help with that."),
        make_record(),
    ]
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        ingest_files(store, [str(write_log("a.jsonl", records))])
        evaluation = EvaluationStore(store)
        ScoringLoop(evaluation, SETTINGS).run_backlog()
        queue = build_queue(evaluation, 0.5)
        assert [item.request_id for item in queue.items] == [records[48]["request_id"], records[49]["request_id"]]
        assert queue.left == 2  # a timeout over the SLO is not a slow answer to judge either
        lines = [(g.model, g.error_type, g.kind, g.count) for g in queue.provider_errors]
        assert lines == [
            ("gpt-4o-mini", "RateLimitError", "rate limit", 40),
            ("gpt-4o-mini", "APITimeoutError", "timeout", 5),
            ("claude-sonnet-4", "RateLimitError", "rate limit", 3),
        ]
        assert queue.provider_error_count == 48
    finally:
        store.close()


@pytest.fixture
def old_log(tmp_path):
    """A log from 9 days ago (older than the analytics window's history): 2 answers to judge
    among 30 rate-limit errors."""
    start = time.time() - 9 * 86400
    records = [rate_limited(ts=start + i) for i in range(30)]
    records += [make_record(ts=start + 40, output="I'm sorry, but I can't help with that."),
                make_record(ts=start + 41, finish_reason="length")]  # fmt: skip
    path = tmp_path / "app.jsonl"
    path.write_text("".join(line_of(r) for r in records))
    return path, records


async def test_the_queue_shows_answers_then_one_line_per_provider_error_without_waiting(tmp_path, old_log, monkeypatch):
    # The queue used to wait for the 15 s fallback on a log older than the window ("waiting for
    # scores…" ~17 s on a 2,000-request log): with the fallback out of reach it still fills.
    monkeypatch.setattr(app_module, "EVALUATION_AT_THE_LATEST", 3600.0)
    path, records = old_log
    settings = Settings(evaluation=EvaluationSettings(sample_rate=1.0),
                        regression=RegressionSettings(suite=str(tmp_path / "cases.jsonl")))  # fmt: skip
    app = ConsoleApp(sources=[str(path)], store_url=f"sqlite:///{tmp_path / 's.db'}", settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.queue is not None and len(screen.items) == 2 and screen.queue.provider_errors)
        text = screen_text(app)
        # "30 provider errors in 1 line below" (the demo: "1,330 ... in 20 lines below") read as 20
        # of the errors; a line is a model's errors of one type
        # counted in the figures' window, which the title names (anchored at the old log's end)
        assert "2 left" in text and "30 provider errors in the last 1h below, all of one model and error type" in text
        timeouts = ErrorGroup("gpt-4o", "APITimeoutError", "timeout", 1_300, time.time())
        screen.show_queue(dataclasses.replace(screen.queue, provider_errors=(timeouts, *screen.queue.provider_errors)))
        title = str(screen.query_one("#triage-title").render())
        assert "1,330 provider errors in the last 1h below in 2 lines, one per model and error type" in title
        assert "30 errors" in text and "RateLimitError" in text and "provider rate limit, not judged here" in text
        await pilot.press("G")  # the error line is below the two answers
        await pilot.press("b")
        assert isinstance(app.screen, TriageScreen)  # nothing to mark: it says why
        on_line = screen.current_row
        assert isinstance(on_line, ErrorGroup)
        # a new queue with a line above it: the cursor stays on its line (it stayed at its
        # position, on the line above, where `b` would mark a request never looked at)
        screen.show_queue(dataclasses.replace(screen.queue, provider_errors=(timeouts, *screen.queue.provider_errors)[::-1]))
        await pilot.pause()
        assert screen.current_row is not None and screen.current_row.key == on_line.key
        await pilot.press("enter")  # the requests behind the line
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        assert "RateLimitError" in app.dashboard.query_one("#filter").value


def test_enter_on_an_error_line_filters_that_model_only():
    """model: matches a part of the name: gpt-4o's line must not bring gpt-4o-mini's errors."""
    from console.analytics.filters import parse_filter
    from console.evaluation.provider_errors import ErrorGroup
    from console.records import parse_line
    from console.ui.screens.triage import group_filter

    groups = (ErrorGroup("gpt-4o-mini", "RateLimitError", "rate limit", 9, 0.0),
              ErrorGroup("gpt-4o", "RateLimitError", "rate limit", 3, 0.0),
              ErrorGroup("gpt-4o", "HTTP 503", "overloaded", 2, 0.0))  # fmt: skip
    text = group_filter(groups[1])
    assert text == "model:gpt-4o status:error error:RateLimitError"  # model: is exact: no -model: terms
    wanted = parse_filter(text)
    rows = {name: parse_line(line_of(rate_limited(model=name)).strip()) for name in ("gpt-4o", "gpt-4o-mini")}
    assert wanted(rows["gpt-4o"]) and not wanted(rows["gpt-4o-mini"])
    assert group_filter(groups[2]).endswith("error:HTTP 503")
