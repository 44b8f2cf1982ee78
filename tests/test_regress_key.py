"""`R` in the console: launch the suite, watch it run, open a failing case's diff."""

from __future__ import annotations

import json
import time

from console.config import load_settings
from console.demo.target import DEMO_REGRESSION_TOML, is_defect
from console.ui.app import ConsoleApp
from console.ui.screens.regress import RegressRunScreen
from console.ui.screens.regress_case import RegressCaseScreen
from console.ui.screens.regress_launch import RegressLaunchModal
from test_regress_demo import history, triage_case
from test_ui import screen_text, wait_until


def demo_suite(tmp_path, count=3):
    defects = [r for r in history() if r["prompt_version"] == "v8" and is_defect(r["output"])][:count]
    (tmp_path / "regression").mkdir()
    (tmp_path / "regression" / "cases.jsonl").write_text(
        "".join(json.dumps(triage_case(r, "refusal")) + "\n" for r in defects)
    )
    config = tmp_path / "llmops.toml"
    config.write_text(DEMO_REGRESSION_TOML)
    return load_settings(config)


async def test_R_runs_the_suite_and_a_failing_case_opens_its_diff(tmp_path):
    settings = demo_suite(tmp_path)
    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("R")
        assert isinstance(app.screen, RegressLaunchModal)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen))
        session = app.screen.session
        await wait_until(pilot, lambda: session.done.is_set(), timeout=30)
        await pilot.pause(0.5)
        counts = session.snapshot().counts
        assert (counts.done, counts.failed, counts.passed) == (3, 3, 0)
        assert "gate FAIL" in session.status_line()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressCaseScreen))
        assert "not-equals" in screen_text(app)
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: app.dashboard.status_header.regress_line is not None)
        assert "gate FAIL" in screen_text(app)


async def test_R_against_the_fixed_version_passes(tmp_path):
    settings = demo_suite(tmp_path, count=2)
    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("R")
        await pilot.click("#launch-version")
        await pilot.press(*"v9", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen))
        session = app.screen.session
        await wait_until(pilot, lambda: session.done.is_set(), timeout=30)
        counts = session.snapshot().counts
        assert (counts.done, counts.passed, counts.failed) == (2, 2, 0)
        assert "gate PASS" in session.status_line()


async def test_R_on_a_version_row_fills_in_that_version(tmp_path):
    from conftest import line_of, make_record

    settings = demo_suite(tmp_path, count=1)
    log = tmp_path / "app.jsonl"
    log.write_text(line_of(make_record(ts=time.time(), prompt_version="v9")))
    app = ConsoleApp(sources=[str(log)], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.versions)
        await pilot.pause(0.2)
        await pilot.press("4", "R")
        assert isinstance(app.screen, RegressLaunchModal)
        assert app.screen.query_one("#launch-version").value == "v9"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen))
        session = app.screen.session
        await wait_until(pilot, lambda: session.done.is_set(), timeout=30)
        assert "gate PASS" in session.status_line()


async def test_R_on_a_row_of_another_prompt_leaves_the_version_empty(tmp_path):
    """Found in the user trial: in the demo, 4 then R (the cursor on the Versions pane's first row,
    ticket-classifier@v3) filled in 'v3' for the support-answer suite, and the run, 'demo @ v3',
    tried a version of another prompt. The version is left empty and a notification says why."""
    from conftest import line_of, make_record

    settings = demo_suite(tmp_path, count=1)
    log = tmp_path / "app.jsonl"
    log.write_text(line_of(make_record(ts=time.time(), prompt_id="ticket-classifier", prompt_version="v3")))
    app = ConsoleApp(sources=[str(log)], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.versions)
        await pilot.pause(0.2)
        await pilot.press("4", "R")
        assert isinstance(app.screen, RegressLaunchModal)
        assert app.screen.query_one("#launch-version").value == ""
        assert any("ticket-classifier@v3 is not a prompt this suite runs (support-answer)" in n.message
                   for n in app._notifications)  # fmt: skip
