"""`R` on a promptfoo suite: regression.suite = "promptfooconfig.yaml", or a path typed in the
dialog, runs it, and the run screen lists the tests it did not run with their reasons and the
suite's notes (as soon as the suite is read, and again when the run is opened from history)."""

from __future__ import annotations

import shutil

import pytest
from textual.widgets import Input, Static

from conftest import REPO
from console.config import RegressionSettings, RegressionTarget, Settings
from console.regression.session import SuiteReport
from console.ui.app import ConsoleApp
from console.ui.screens.regress import NOT_RUN_SHOWN, RegressRunScreen, suite_report_text
from console.ui.screens.regress_launch import RegressLaunchModal
from test_ui import wait_until

FIXTURES = REPO / "tests" / "fixtures" / "promptfoo"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The project's own promptfoo fixture as regression.suite, and an echo python target."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "echo_target.py").write_text("def echo(case):\n    return case['input'].get('text') or ''\n")
    for name in ("promptfooconfig.yaml", "prompts.txt", "policy.txt", "cases.csv"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    shutil.copytree(FIXTURES / "tests", tmp_path / "tests")
    (tmp_path / "cases.jsonl").write_text('{"id": "one", "input": {"text": "hi"}, "assert": [{"type": "icontains", "value": "HI"}]}\n')
    return tmp_path


def settings_for(suite: str) -> Settings:
    target = RegressionTarget(type="python", function="echo_target:echo")
    return Settings(regression=RegressionSettings(suite=suite, targets={"echo": target}, default_target="echo"))


def not_run_text(app) -> str:
    return str(app.screen.query_one("#regress-not-run", Static).render())


async def run_from_the_dialog(pilot, app, suite: str | None = None) -> RegressRunScreen:
    await pilot.press("R")
    await wait_until(pilot, lambda: isinstance(app.screen, RegressLaunchModal))
    if suite is not None:
        app.screen.query_one("#launch-suite", Input).value = suite
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen))
    screen = app.screen
    await wait_until(pilot, lambda: screen.session.done.is_set(), timeout=30)
    await pilot.pause(0.5)  # a refresh tick draws the finished run
    return screen


async def test_R_runs_the_configured_promptfoo_suite_and_shows_what_it_did_not_run(project):
    app = ConsoleApp(sources=[], store_url=str(project / "s.db"), settings=settings_for("promptfooconfig.yaml"))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await run_from_the_dialog(pilot, app)
        assert screen.session.plan.suite_path.name == "promptfooconfig.yaml"
        assert screen.session.snapshot().counts.total > 0 and screen.session.snapshot().error is None
        shown = not_run_text(app)
        assert screen.query_one("#regress-not-run").display
        assert "promptfoo test not run: promptfooconfig.yaml:tests[3] 'with its own provider'" in shown
        assert "'bye': javascript assertion (no JavaScript runs here)" in shown
        assert "suite: redteam: not run here" in shown and "suite: 2 providers" in shown
        assert "skipped malformed case" not in shown


async def test_a_suite_typed_in_the_dialog_runs_instead_of_the_configured_one(project):
    app = ConsoleApp(sources=[], store_url=str(project / "s.db"), settings=settings_for("cases.jsonl"))
    typed = str(FIXTURES / "simple-test" / "promptfooconfig.yaml")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await run_from_the_dialog(pilot, app, typed)
        assert str(screen.session.plan.suite_path) == typed
        assert screen.session.snapshot().counts.total == 8  # promptfoo's simple-test example, not cases.jsonl
        assert "tests[4] 'Check for semantic similarity': javascript assertion" in not_run_text(app)

        await pilot.press("escape")  # the configured JSONL suite: nothing to list, the line stays hidden
        screen = await run_from_the_dialog(pilot, app)
        assert screen.session.plan.suite_path.name == "cases.jsonl"
        assert screen.session.snapshot().counts.total == 1
        assert not screen.query_one("#regress-not-run").display


async def test_a_stored_promptfoo_run_reopened_from_history_lists_its_tests_not_run(project):
    from console.ui.screens.regress_history import RegressHistoryScreen

    app = ConsoleApp(sources=[], store_url=str(project / "s.db"), settings=settings_for("promptfooconfig.yaml"))
    async with app.run_test(size=(160, 48)) as pilot:
        await run_from_the_dialog(pilot, app)
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressHistoryScreen))
        history = app.screen
        await wait_until(pilot, lambda: history.query_one("DataTable").row_count == 1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen) and app.screen is not history)
        await pilot.pause(0.5)
        assert "'bye': javascript assertion" in not_run_text(app) and "suite: redteam" in not_run_text(app)


def test_the_suite_report_text_is_capped_and_escapes_untrusted_text():
    problems = tuple(("promptfoo test not run", f"s.yaml:tests[{n}]: [bold]x[/] \x1b[31m") for n in range(NOT_RUN_SHOWN + 3))
    text = suite_report_text(SuiteReport(problems, ("redteam: not run here",)))
    plain = text.plain
    assert plain.count("promptfoo test not run:") == NOT_RUN_SHOWN and "… and 3 more not run" in plain
    assert "[bold]x[/]" in plain and "\x1b" not in plain  # shown as text, never markup or escapes
    assert plain.startswith("suite: redteam: not run here\n")  # the notes first: a small terminal clips the end
    old_summary = {"problems": ["cases.jsonl:3: bad line"]}  # a run stored before not_run existed
    assert SuiteReport.from_summary(old_summary).problems == (("skipped malformed case", "cases.jsonl:3: bad line"),)
