"""`C` (before/after a version or model appeared): the after arm is its own requests, the
before arm what it replaced.

Found in a user trial: `C` on support-answer@v8 compared "support-answer before v8's first
request" with "support-answer from then on", so with v7 still serving (a canary) the after arm
was mostly v7, and a lingering client's v6 was in both arms."""

from __future__ import annotations

import json
import time

from conftest import line_of, make_record
from console.analytics.arm_spec import arm_mask
from console.analytics.columns import Columns
from console.analytics.compare import change_point_arms, compare
from console.records import parse_line
from console.ui.app import ConsoleApp
from console.ui.screens.compare import CompareScreen
from test_panes import select_version
from test_ui import wait_until

START = 1_795_000_000.0


def columns_of(records: list[dict]) -> Columns:
    cols = Columns()
    cols.append([parse_line(json.dumps(record)) for record in records])
    return cols


def canary() -> tuple[list[dict], float]:
    """support-answer: v7 one a minute for 4 hours, v6 (one client) every 7th minute
    throughout, v8 from the third hour on (every other minute, v7 going on beside it), and a
    second prompt on another model."""
    rows, change = [], START + 2 * 3600
    for minute in range(240):
        ts = START + 60 * minute
        rows.append(make_record(ts=ts, prompt_version="v7"))
        if minute % 7 == 3:
            rows.append(make_record(ts=ts + 5, prompt_version="v6"))
        if ts >= change and minute % 2 == 0:
            rows.append(make_record(ts=ts + 20, prompt_version="v8"))
        rows.append(make_record(ts=ts + 30, prompt_id="summarize-thread", prompt_version="v2", model="claude-haiku-4-5"))
    return rows, change + 20


def test_a_versions_after_arm_is_its_own_requests_and_before_is_the_version_it_replaced():
    rows, change = canary()
    cols = columns_of(rows)
    before, after = change_point_arms(cols, "prompt", "support-answer@v8")
    assert (before.prompt_id, before.prompt_version, before.before, before.after) == ("support-answer", "v7", change, None)
    assert (after.prompt_id, after.prompt_version, after.after, after.before) == ("support-answer", "v8", change, None)
    result = compare(cols, before, after)
    v8 = [r for r in rows if r["prompt_version"] == "v8"]
    v7_before = [r for r in rows if r["prompt_version"] == "v7" and r["ts"] < change]
    assert (result.a.requests, result.b.requests) == (len(v7_before), len(v8)) == (121, 60)
    assert (result.a.label, result.b.label) == (
        "support-answer@v7 · before 2026-11-18T13:07:00Z", "support-answer@v8 · after 2026-11-18T13:07:00Z")
    assert result.overlap.split_in_time and result.overlap.warning is None  # apart on purpose


def test_a_models_arms_are_its_requests_and_the_model_it_took_over_from_on_its_prompt():
    rows, change = canary()
    for row in rows:  # v8 is served by a new model; gpt-4o-mini goes on serving v6 and v7
        if row["prompt_version"] == "v8":
            row["model"] = "gpt-5"
    cols = columns_of(rows)
    before, after = change_point_arms(cols, "model", "gpt-5")
    assert (before.model, before.prompt_id, before.before) == ("gpt-4o-mini", "support-answer", change)
    assert (after.model, after.prompt_id, after.after) == ("gpt-5", "support-answer", change)
    assert int(arm_mask(cols, after).sum()) == 60, "gpt-5's own requests, not every request since"
    support_before = [r for r in rows if r["prompt_id"] == "support-answer" and r["ts"] < change]
    assert int(arm_mask(cols, before).sum()) == len(support_before)  # not claude's summaries


async def test_shift_c_compares_the_version_with_the_one_it_replaced_in_the_console(tmp_path):
    now = int(time.time())
    lines = [make_record(ts=now - 7200 + 60 * i + 30, prompt_version="v7") for i in range(120)]  # 2h, on to now
    lines += [make_record(ts=now - 1800 + 60 * i, prompt_version="v8") for i in range(30)]  # the last 30 minutes
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in lines))
    app = ConsoleApp(sources=[str(log)], store_url=str(tmp_path / "s.db"))
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: app._history_loaded and app.dashboard.report is not None
                         and {v.prompt_version for v in app.dashboard.report.versions} == {"v7", "v8"})  # fmt: skip
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("C")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        comparison = app.screen.comparison
        # B was v8's 30 and v7's 30 of the last half hour; A, v7's 90 before it
        assert (comparison.a.requests, comparison.b.requests) == (90, 30)
        assert comparison.b.label.startswith("support-answer@v8 · after")
        assert comparison.a.label.startswith("support-answer@v7 · before")
        scope = str(app.screen.query_one("#compare-scope").render())
        assert "A: 90 requests · B: 30 requests" in scope, scope
