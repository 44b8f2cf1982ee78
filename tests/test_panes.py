"""The monitoring panes through Pilot: figures from a fixture log, `w`, Enter and `c`."""

from __future__ import annotations

import time

import numpy as np
import pytest

from conftest import line_of, make_record
from console.config import Budget, Settings, Slo
from console.ui.app import ConsoleApp
from console.ui.formatting import ms
from console.ui.widgets.latency_pane import COLUMNS
from console.ui.widgets.versions_pane import COLUMNS as VERSION_COLUMNS
from console.ui.screens.compare import CompareScreen
from console.ui.widgets.diff_table import DiffTable
from test_ui import screen_text, wait_until

V7, V8 = 200, 200


@pytest.fixture
def fixture_log(tmp_path):
    """400 requests in the last 20 minutes: v8 has a 30% bad rate, v7 5%."""
    rng = np.random.default_rng(3)
    now = time.time()
    lines = []
    for version, count, bad_every in (("v7", V7, 20), ("v8", V8, 3)):
        for i in range(count):
            lines.append(make_record(
                ts=now - 1200 + i * 5 + (0 if version == "v7" else 2),
                prompt_version=version,
                model="claude-sonnet-4-5" if i % 2 else "gpt-4o",
                latency_ms=round(float(rng.lognormal(7, 0.5)), 1),
                cost_usd=0.01,
                feedback=-1 if i % bad_every == 0 else 1,  # every response rated
            ))  # fmt: skip
    path = tmp_path / "app.jsonl"
    path.write_text("".join(line_of(r) for r in lines))
    return path, lines


@pytest.fixture
def app(tmp_path, fixture_log):
    path, _ = fixture_log
    settings = Settings(
        budgets=[Budget(name="monthly", period="month", amount_usd=100.0)],
        slos=[Slo(model="gpt-4o", percentile=95, max_ms=500)],
    )
    return ConsoleApp(sources=[str(path)], store_url=str(tmp_path / "s.db"), settings=settings)


def rows_of(app, table_id: str) -> dict[str, list[str]]:
    table = app.dashboard.query_one(f"#{table_id}", DiffTable)
    return {row.key.value: [str(c) for c in table.get_row(row.key)] for row in table.ordered_rows}


async def ready(pilot, app, requests: int = V7 + V8):
    await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == requests)
    await pilot.pause(0.1)


async def select_version(pilot, app, key: str) -> None:
    await pilot.press("4")
    table = app.dashboard.query_one("#versions-table", DiffTable)
    for _ in range(table.row_count):
        if table.current_key == key:
            return
        await pilot.press("down")
    raise AssertionError(f"{key} is not in the Versions pane")


async def test_latency_pane_shows_numpy_percentiles_and_the_slo_breach(app, fixture_log):
    _, lines = fixture_log
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        latencies = np.array([r["latency_ms"] for r in lines])
        overall = rows_of(app, "latency-table")["overall"]
        assert overall[2] == ms(float(np.percentile(latencies, 95)))  # p95 then the SLO, before p50
        gpt = [r["latency_ms"] for r in lines if r["model"] == "gpt-4o"]
        assert rows_of(app, "latency-table")["model:gpt-4o"][2] == ms(float(np.percentile(gpt, 95)))
        assert rows_of(app, "latency-table")["model:gpt-4o"][3] == "✗≤0.5s"
        assert "SLO breach" in app.dashboard.query_one("#latency").border_subtitle


async def test_versions_pane_shows_bad_rates(app):
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        versions = rows_of(app, "versions-table")
        assert versions["support-answer@v7"][3] == "5.0%"
        assert versions["support-answer@v8"][3] == f"{100 * len(range(0, V8, 3)) / V8:.1f}% !"  # "!": readable without red


async def test_a_version_nobody_rated_shows_no_bad_rate_and_sorts_last(tmp_path):
    """Found in the demo's user trial: versions whose responses nobody rated showed "0%" bad,
    and could look better than a rated one. No feedback and no label: "—" and 0 rated, last by
    bad rate, never worse than its previous version."""
    now = time.time()
    lines = []
    for version, feedback in (("v6", lambda i: None), ("v7", lambda i: -1 if i % 10 == 0 else 1),
                              ("v8", lambda i: None)):  # fmt: skip
        for i in range(100):
            lines.append(make_record(ts=now - 900 + i * 3 + {"v6": 0, "v7": 1, "v8": 2}[version], prompt_version=version,
                                     cost_usd=0.01, feedback=feedback(i)))  # fmt: skip
    path = tmp_path / "app.jsonl"
    path.write_text("".join(line_of(r) for r in lines))
    app = ConsoleApp(sources=[str(path)], store_url=str(tmp_path / "s.db"), settings=Settings())
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app, requests=300)
        await pilot.press("4", "m")  # maximized: every column fits
        await pilot.pause()
        rated = app.dashboard.query_one("#versions-table", DiffTable)
        assert rated.hidden_columns == 0
        at = VERSION_COLUMNS.index("rated")
        versions = rows_of(app, "versions-table")
        assert versions["support-answer@v6"][3] == "—" and versions["support-answer@v8"][3] == "—"
        assert versions["support-answer@v7"][3] == "10.0%"  # no "!": its previous one has no bad rate
        assert [versions[f"support-answer@{v}"][at] for v in ("v6", "v7", "v8")] == ["0", "100", "0"]
        assert "WORSE" not in versions["support-answer@v8"][-1] and "worse" not in str(
            app.dashboard.query_one("#versions").border_subtitle
        )
        pane = app.dashboard.query_one("#versions")
        while pane.sort_name != "bad rate":
            await pilot.press("s")
        await pilot.pause()
        order = [row.key.value for row in rated.ordered_rows]
        assert order[0] == "support-answer@v7" and set(order[1:]) == {"support-answer@v6", "support-answer@v8"}


async def test_budget_pane_shows_spend_against_the_budget(app):
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        text = screen_text(app)
        assert "$4.00 of $100.00" in text  # 400 requests at $0.01
        budget = app.dashboard.report.budgets[0]
        assert budget.spent_usd == pytest.approx(4.0)


async def test_budget_pane_grows_and_shrinks_with_its_content(app):
    """The budget body is redrawn in place while its height stays the same, and laid out
    again when it changes: a second budget pushes the caption down, and back up after."""
    import msgspec

    from console.ui.widgets.budget_pane import BudgetPane

    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        app.feed.stop()  # the pane shows only the reports sent here
        report = app.dashboard.report
        pane = app.dashboard.query_one(BudgetPane)
        body, caption = pane.query_one("#budget-body"), pane.query_one(".caption")
        one_height, one_caption_y = body.size.height, caption.region.y
        daily = msgspec.structs.replace(report.budgets[0], name="daily-extra", spent_usd=7.5)
        pane.show(msgspec.structs.replace(report, budgets=[*report.budgets, daily]))
        await pilot.pause(0.1)
        assert body.size.height > one_height
        assert caption.region.y == one_caption_y + body.size.height - one_height
        assert "daily-extra" in screen_text(app)
        spent = msgspec.structs.replace(report.budgets[0], spent_usd=9.25)
        pane.show(msgspec.structs.replace(report, budgets=[spent]))  # as tall as at first
        await pilot.pause(0.1)
        assert body.size.height == one_height and caption.region.y == one_caption_y
        assert "daily-extra" not in screen_text(app) and "$9.25 of $100.00" in screen_text(app)


async def test_w_cycles_the_window(app):
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        assert app.dashboard.report.window.name == "1h"
        await pilot.press("w")
        await wait_until(pilot, lambda: app.dashboard.report.window.name == "6h")
        await pilot.press("w", "w", "w", "w")
        await wait_until(pilot, lambda: app.dashboard.report.window.name == "15m")
        assert app.dashboard.report.requests < V7 + V8  # only the last 15 minutes


async def test_enter_on_a_version_filters_the_requests(app):
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("enter")
        assert app.requests_view.has_focus
        assert {r.prompt_version for r in app.requests_view.rows} == {"v8"}


async def test_c_on_the_new_version_compares_it_with_the_previous_one(app):
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        verdict = " ".join(app.screen.comparison.verdict)
        assert "bad rate" in verdict and "v8" in verdict and "p < 0.001" in verdict
        assert "bad rate" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, CompareScreen)


async def test_m_maximizes_the_focused_pane(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        await pilot.press("3", "m")
        assert app.dashboard.maximized is not None
        await pilot.press("m")
        assert app.dashboard.maximized is None


async def test_shift_c_compares_before_and_after_a_version_appeared(app):
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("C")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        comparison = app.screen.comparison
        # B is v8's own requests, v7's beside them in neither arm (bfccdf7: this test still
        # counted both versions in the two arms)
        assert comparison.b.requests == V8
        assert comparison.a.requests == 1  # only v7's first request came before v8 appeared
        assert "not enough data" in " ".join(comparison.verdict)


async def test_versions_pane_marks_registry_drift_and_unregistered_versions(tmp_path):
    from console.prompts.registry import load_registry

    folder = tmp_path / "prompts" / "support-answer"
    folder.mkdir(parents=True)
    (folder / "v6.txt").write_text("Answer {{ question }}.\n")
    (folder / "v7.txt").write_text("Answer {{ question }} briefly.\n")
    v6_hash = load_registry(tmp_path / "prompts").get("support-answer", "v6").short_hash
    now = time.time()
    lines = []
    for i in range(10):
        lines.append(make_record(ts=now - 300 + i, prompt_version="v6", prompt_hash=v6_hash))
        lines.append(make_record(ts=now - 200 + i, prompt_version="v7", prompt_hash="deadbeef0000"))  # not the file's
        lines.append(make_record(ts=now - 100 + i, prompt_version="v8"))  # no file
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in lines))
    (tmp_path / "llmops.toml").write_text("")
    settings = Settings(source=str(tmp_path / "llmops.toml"))
    app = ConsoleApp(sources=[str(log)], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app, 30)
        # the marks are the last column: beside the Latency pane it is hidden ("+n columns: ← →"),
        # the pane maximized shows every column
        await pilot.press("4", "m")
        await wait_until(pilot, lambda: "UNREG" in rows_of(app, "versions-table")["support-answer@v8"][-1])
        versions = rows_of(app, "versions-table")
        assert "REG≠" in versions["support-answer@v7"][-1] and "UNREG" not in versions["support-answer@v7"][-1]
        assert "REG≠" not in versions["support-answer@v6"][-1] and "UNREG" not in versions["support-answer@v6"][-1]
        subtitle = str(app.dashboard.query_one("#versions").border_subtitle)
        assert "1 ≠ registry" in subtitle and "1 unregistered" in subtitle


async def test_versions_pane_has_no_registry_marks_without_a_registry(app):
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        versions = rows_of(app, "versions-table")
        assert not any("UNREG" in row[-1] or "REG≠" in row[-1] for row in versions.values())


async def test_c_on_a_registered_version_shows_the_prompt_diff_beside_the_numbers(tmp_path, fixture_log):
    path, _ = fixture_log
    folder = tmp_path / "prompts" / "support-answer"
    folder.mkdir(parents=True)
    (folder / "v7.txt").write_text("Answer the question.\nBe kind.\n")
    (folder / "v8.txt").write_text("Answer the question.\nBe brief.\n")
    (tmp_path / "llmops.toml").write_text("")
    settings = Settings(source=str(tmp_path / "llmops.toml"))
    app = ConsoleApp(sources=[str(path)], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(200, 70)) as pilot:
        await ready(pilot, app)
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        diff = app.screen.prompt_diff
        assert (diff.old.version, diff.new.version) == ("v7", "v8")
        text = screen_text(app)
        assert "bad rate" in text and "Prompt diff (registry)" in text
        assert "- Be kind." in text and "+ Be brief." in text


async def test_a_version_clearly_worse_than_its_previous_one_is_marked_without_colour(tmp_path):
    """6% bad against 2% (p < 0.001) is under the 10% that marks any version, yet it is the
    summary's '! bad' version: its bad cell gets the '!' and its flags say WORSE."""
    now = time.time()
    lines = []
    for version, bad_every in (("v7", 50), ("v8", 16)):
        for i in range(800):
            lines.append(make_record(ts=now - 1800 + i * 2 + (0 if version == "v7" else 1), prompt_version=version,
                                     cost_usd=0.01, feedback=-1 if i % bad_every == 0 else 1))
    path = tmp_path / "app.jsonl"
    path.write_text("".join(line_of(r) for r in lines))
    app = ConsoleApp(sources=[str(path)], store_url=str(tmp_path / "s.db"), settings=Settings())
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app, requests=1600)
        versions = rows_of(app, "versions-table")
        assert versions["support-answer@v8"][3] == "6.2% !"
        assert "· 1 worse" in str(app.dashboard.query_one("#versions").border_subtitle)
        assert "support-answer@v8 6.2% bad vs 2.0% in v7" in screen_text(app)  # the summary names the same one
        await pilot.press("4", "m")  # maximized: the flags column fits too
        await wait_until(pilot, lambda: "WORSE" in rows_of(app, "versions-table")["support-answer@v8"][-1])
        versions = rows_of(app, "versions-table")
        assert versions["support-answer@v7"][3] == "2.0%" and "WORSE" not in versions["support-answer@v7"][-1]


async def test_the_latency_pane_says_which_model_fails_its_calls(tmp_path):
    """Found in the live-tail user trial: gpt-4o failed 60% of its calls for the whole window and
    no line of the dashboard said so (a steady rate is no spike, and the spike rule looks at
    all traffic). The Latency pane's err column gives each model's and version's error rate,
    marked '!' from 5%, as the Versions pane marks a version's; the counts equal the log's."""
    from console.ui.formatting import percent

    now = time.time()
    lines = [
        make_record(ts=now - 1200 + i * 3, model="gpt-4o" if i % 2 else "claude-sonnet-4-5",
                    prompt_version="v7" if i % 3 else "v8",
                    status="error" if (i % 2 and i % 5 < 3) or i % 97 == 0 else "ok",
                    **({"error_type": "InternalServerError", "output": None} if (i % 2 and i % 5 < 3) or i % 97 == 0 else {}))
        for i in range(400)
    ]  # fmt: skip
    path = tmp_path / "app.jsonl"
    path.write_text("".join(line_of(r) for r in lines))
    app = ConsoleApp(sources=[str(path)], store_url=str(tmp_path / "s.db"), settings=Settings())
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app, requests=400)
        latency = app.dashboard.report.latency
        rows = rows_of(app, "latency-table")
        err = list(COLUMNS).index("err")
        for model in ("gpt-4o", "claude-sonnet-4-5"):
            of_model = [r for r in lines if r["model"] == model]
            failed = sum(r["status"] == "error" for r in of_model)
            assert latency.by_model[model].errors == failed
            rate = failed / len(of_model)
            assert rows[f"model:{model}"][err] == percent(rate) + (" !" if rate >= 0.05 else "")
        assert rows["model:gpt-4o"][err].endswith(" !") and not rows["model:claude-sonnet-4-5"][err].endswith("!")
        assert latency.overall.errors == sum(r["status"] == "error" for r in lines) == app.dashboard.report.errors
        for version in ("v7", "v8"):
            failed = sum(r["status"] == "error" for r in lines if r["prompt_version"] == version)
            assert latency.by_version[f"support-answer@{version}"].errors == failed
