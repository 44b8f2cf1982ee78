"""The `/` filter names a model, prompt or version exactly, as `compare --a model=gpt-4o` does,
so the filters the console writes itself (a Latency row's Enter, an alert's look, a Versions
row's Enter, triage's error line) select that model's requests and no other's: in memory, in
the store's SQL over the history (names read from its rollups) and over new rows, on SQLite
and PostgreSQL. And a term that cannot mean anything says why instead of showing 0 rows.

Found in a user trial of the demo: Enter on the Latency pane's gpt-4o row showed 20,158
requests, mostly gpt-4o-mini's, where compare --a model=gpt-4o counted 1,510; `/status:err`,
`/latency>abc` and `/foo:bar` each showed "0 of N shown" with no word of why."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from conftest import line_of, make_record, wait_until
from console.analytics.columns import Columns
from console.analytics.filters import FilterError, near_names, parse_filter
from console.analytics.report import build_report
from console.config import Settings, Slo
from console.evaluation.provider_errors import ErrorGroup
from console.ingest import ingest_files
from console.records import parse_line
from console.store import Store
from console.store.pages import RequestPages
from console.ui.app import ConsoleApp
from console.ui.screens.triage import group_filter
from console.ui.widgets.diff_table import DiffTable
from test_ui import screen_text

MODELS = ["gpt-4o", "GPT-4o", "gpt-4o-mini", "gpt-4o-2024-08-06", "my_gpt-4o"]
PROMPTS = [("support-answer", "v1"), ("support-answer", "v10"), ("support-answer", "V1"),
           ("support-answer-v2", "v1"), ("old-support-answer", "v1")]  # fmt: skip


def _records(now: float, models: list[str] = MODELS) -> list[dict]:
    """Every model at every prompt version, some slow, some failing, in the last 20 minutes."""
    rows = []
    for n in range(600):
        prompt_id, version = PROMPTS[n // len(models) % len(PROMPTS)]
        failing = n % 3 == 0
        rows.append(make_record(
            ts=now - 1200 + n * 2, model=models[n % len(models)], prompt_id=prompt_id, prompt_version=version,
            latency_ms=3000.0 if n % 2 else 300.0, cost_usd=0.001, status="error" if failing else "ok",
            error_type="RateLimitError" if failing else None, output=None if failing else "fine",
        ))  # fmt: skip
    return rows


def _alert_filters(records: list[dict], now: float) -> dict[str, str]:
    """The looks of the alerts build_report raises over `records`: gpt-4o's SLO breach and its
    error rate (and gpt-4o-mini's, which must not be in gpt-4o's)."""
    cols = Columns()
    cols.append([parse_line(line_of(r).strip()) for r in records])
    settings = Settings(slos=[Slo(model="gpt-4o", percentile=95, max_ms=1000)])
    report = build_report(cols, now, "1h", settings)
    looks = {f"{a.kind} {a.subject}": a.target.removeprefix("filter:") for a in report.alerts if a.target.startswith("filter:")}
    assert looks["slo gpt-4o"] == "model:gpt-4o latency>1s since:1h"
    assert looks["error_rate gpt-4o"] == "model:gpt-4o status:error since:1h"
    return looks


def _generated(records: list[dict], now: float) -> list[tuple[str, Callable[[dict], bool]]]:
    """(the filter the console writes, which records it must select)."""
    looks = _alert_filters(records, now)
    group = ErrorGroup("gpt-4o", "RateLimitError", "rate limit", 1, 0.0)

    def gpt_4o(r: dict) -> bool:
        return r["model"].lower() == "gpt-4o"

    return [
        ("model:gpt-4o", gpt_4o),  # the Latency pane's Enter on its gpt-4o row
        (looks["slo gpt-4o"], lambda r: gpt_4o(r) and r["latency_ms"] > 1000),
        (looks["error_rate gpt-4o"], lambda r: gpt_4o(r) and r["status"] == "error"),
        (group_filter(group), lambda r: gpt_4o(r) and r["status"] == "error"),  # triage
        ("prompt:support-answer@v1",  # the Versions pane's Enter (and the Latency pane's on a version)
         lambda r: r["prompt_id"] == "support-answer" and r["prompt_version"].lower() == "v1"),
        ("version:v1", lambda r: r["prompt_version"].lower() == "v1"),
    ]


@pytest.fixture
def stored(sqlite_and_postgres_url, tmp_path):
    now = time.time()
    records = _records(now)
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in records), encoding="utf-8")
    with Store(sqlite_and_postgres_url) as store:
        ingest_files(store, [str(log)])
        yield store, records, now


def test_the_filters_the_console_writes_select_that_model_only_in_memory_and_in_sql(stored):
    store, records, now = stored
    by_id = {r["request_id"]: r for r in records}
    pages = RequestPages(store.engine)
    for text, wanted in _generated(records, now):
        expected = {rid for rid, r in by_id.items() if wanted(r)}
        assert expected and len(expected) < len(records), text
        record_filter = parse_filter(text)
        in_memory = {rid for rid, r in by_id.items() if record_filter(parse_line(line_of(r).strip()))}
        assert in_memory == expected, text
        for indexed in (True, False):  # the history (names from the rollups), new rows (SQL on the names)
            ids = pages.keys(pages.compile(record_filter, indexed=indexed), 0)[0]
            found = {r.request_id for r in pages.records(ids.tolist()).values()}
            assert found == expected, (text, indexed)


def test_a_star_matches_a_family_and_a_version_is_not_a_prefix(stored):
    store, records, _ = stored
    pages = RequestPages(store.engine)
    cases = {
        "model:gpt-4o*": lambda r: r["model"].lower().startswith("gpt-4o"),
        "model:*gpt-4o*": lambda r: "gpt-4o" in r["model"].lower(),
        "model:gpt_4o": lambda r: False,  # LIKE's _ is not a wildcard here
        "prompt:support-answer": lambda r: r["prompt_id"] == "support-answer",
        "prompt:*support-answer*@v1": lambda r: r["prompt_version"].lower() == "v1",
        "prompt:support-answer@v1*": lambda r: r["prompt_id"] == "support-answer",
    }
    for text, wanted in cases.items():
        expected = {r["request_id"] for r in records if wanted(r)}
        for indexed in (True, False):
            ids = pages.keys(pages.compile(parse_filter(text), indexed=indexed), 0)[0]
            assert {r.request_id for r in pages.records(ids.tolist()).values()} == expected, (text, indexed)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("status:err", "status is ok or error"),
        ("latency>abc", "latency>abc: not a duration (e.g. latency>2s, latency>500ms)"),
        ("latency>2000", "latency>2000: give the unit: latency>2000s for seconds or latency>2000ms"),
        ("ttft<300", "ttft<300: give the unit"),
        ("foo:bar", "unknown key 'foo' (keys: model, prompt, version, status,"),
        ("latency:2s", "latency is compared: latency>2s"),
        ("tokens>lots", "tokens>lots: not a number of tokens"),
        ("cost>cheap", "cost>cheap: not an amount in dollars"),
        ("prompt:@", "prompt: needs a prompt id, a version or both"),
        ("model:gpt-4o -status:fail", "status is ok or error"),
    ],
)
def test_a_term_that_cannot_mean_anything_says_why(text, said):
    with pytest.raises(FilterError) as raised:
        parse_filter(text)
    assert said in str(raised.value)


@pytest.mark.parametrize(
    ("text", "same_as"),
    [("latency>2 s", "latency>2s"), ("latency > 2s", "latency>2s"), ("latency >= 500 ms", "latency>=500ms"),
     ("-latency> 2s", "-latency>2s"), ("tokens > 4 k", "tokens>4k"), ("cost>$0.01", "cost>0.01")],
)  # fmt: skip
def test_a_duration_with_a_space_is_one_term(text, same_as):
    """`latency>2 s` was latency>2 (milliseconds) and the word "s": every row with an s."""
    got, wanted = parse_filter(text).terms, parse_filter(same_as).terms
    assert [(t.kind, t.name, t.op, t.value, t.negated) for t in got] == [
        (t.kind, t.name, t.op, t.value, t.negated) for t in wanted
    ]
    assert parse_filter("latency>2s").terms[0].value == 2000.0


def test_a_quoted_word_with_a_colon_is_looked_for_as_a_word():
    record = parse_line(line_of(make_record(output="see https://example.com/help")).strip())
    assert parse_filter('"https://example.com"')(record)
    assert not parse_filter('"https://elsewhere.org"')(record)
    # in and out are English words as well as token counts: `sign in > 5` is not in>5
    assert [t.kind for t in parse_filter("sign in > 5").terms] == ["text"] * 4


def test_a_name_that_was_a_part_of_some_says_what_matches_them():
    hints = near_names(parse_filter("model:gpt prompt:support"), ["gpt-4o", "gpt-4o-mini", "claude"], ["support-answer"])
    assert hints == ["no model is named 'gpt'; model:gpt* matches gpt-4o, gpt-4o-mini",
                     "no prompt is named 'support'; prompt:support* matches support-answer"]  # fmt: skip
    assert near_names(parse_filter("model:gpt-4o model:*mini"), ["gpt-4o", "gpt-4o-mini"], []) == []
    assert near_names(parse_filter("model:mini"), ["gpt-4o-mini"], []) == [
        "no model is named 'mini'; model:*mini* matches gpt-4o-mini"
    ]


ONE_SPELLING = [m for m in MODELS if m != "GPT-4o"]  # the pane counts GPT-4o apart; the filter takes both


@pytest.fixture
def console_app(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in _records(time.time(), ONE_SPELLING)), encoding="utf-8")
    return ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}", settings=Settings())


async def test_enter_on_the_latency_pane_s_gpt_4o_row_shows_its_count_of_requests(console_app):
    app = console_app
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 600)
        pane_count = app.dashboard.report.latency.by_model["gpt-4o"].requests
        await pilot.press("3")
        table = app.dashboard.query_one("#latency-table", DiffTable)
        for _ in range(table.row_count):
            if table.current_key == "model:gpt-4o":
                break
            await pilot.press("down")
        await pilot.press("enter")
        view = app.requests_view
        await wait_until(pilot, lambda: view.filtered and view.history_left == 0 and view.row_count > 0)
        await pilot.pause(0.2)
        assert view.row_count == pane_count == 600 // len(ONE_SPELLING)
        assert {r.model for r in view.rows} == {"gpt-4o"}
        assert "filter: model:gpt-4o" in screen_text(app)


def _toast_on_screen(app) -> str:
    """The words drawn where the newest notification is, read off the terminal's lines."""
    region = app.screen.query("Toast").last().region
    lines = [strip.text for strip in app.screen._compositor.render_strips()][region.y : region.bottom]
    return " ".join(" ".join(line[region.x : region.right] for line in lines).replace("▌", " ").split())


@pytest.mark.parametrize(
    ("typed", "said"),
    [("status:err", "status is ok or error"), ("latency>abc", "not a duration"), ("foo:bar", "unknown key 'foo'")],
)
async def test_a_wrong_term_is_said_on_screen_and_the_box_stays_open_at_80x24(console_app, typed, said):
    app = console_app
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.requests_view.row_count == 600)
        await pilot.press("slash", *typed, "enter")
        await wait_until(pilot, lambda: app.screen.query("Toast"))
        assert any(said in str(n.message) for n in app._notifications)
        assert said in _toast_on_screen(app)  # drawn whole at 80 columns, not only kept
        box = app.dashboard.query_one("#filter")
        assert box.display and box.value == typed  # to be corrected, not typed again
        assert not app.requests_view.filtered
