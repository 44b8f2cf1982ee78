"""From a failing run to the fix in one step: the finished run's offer (`f`) runs the same
suite on the registry's candidate version, or opens the launch dialog when there is none;
`R` on a finished run starts a new one. The demo's suite and registry: v8 fails, v9 passes."""

from __future__ import annotations

from console.demo.run import write_registry
from console.ui.app import ConsoleApp
from console.ui.screens.regress import RegressRunScreen
from console.ui.screens.regress_launch import RegressLaunchModal
from test_regress_key import demo_suite
from test_ui import help_text, screen_text, wait_until


async def finished_run(pilot, app, version=None):
    """R, enter (the demo target's v8 unless a version is typed): the run screen once finished."""
    await pilot.press("R")
    if version:
        await pilot.click("#launch-version")
        await pilot.press(*version)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen))
    screen = app.screen
    await wait_until(pilot, lambda: screen.session.done.is_set(), timeout=30)
    return screen


def gate(session) -> str:
    return "PASS" if session.report.gate.passed else "FAIL"


async def test_a_failing_run_offers_the_candidate_and_f_runs_it(tmp_path):
    settings = demo_suite(tmp_path, count=2)
    write_registry(tmp_path / "prompts")  # support-answer: production v8, candidate v9
    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        failing = await finished_run(pilot, app)
        assert failing.session.plan.prompt_version == "v8" and gate(failing.session) == "FAIL"
        await wait_until(pilot, lambda: failing.offer is not None)
        await pilot.pause()
        assert "press f to run the same suite on support-answer@v9" in screen_text(app)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen) and app.screen is not failing)
        fixed = app.screen
        await wait_until(pilot, lambda: fixed.session.done.is_set(), timeout=30)
        assert fixed.session.plan.prompt_version == "v9"
        assert fixed.session.plan.suite_path.resolve() == failing.session.plan.suite_path.resolve()
        assert gate(fixed.session) == "PASS" and fixed.session.snapshot().counts.passed == 2
        assert fixed.offer is None  # a passing run offers nothing
        assert app.regress_session is fixed.session


async def test_without_a_candidate_f_opens_the_dialog_to_pick_a_version(tmp_path):
    settings = demo_suite(tmp_path, count=1)
    write_registry(tmp_path / "prompts")
    (tmp_path / "prompts" / "support-answer" / "labels.toml").write_text('production = "v8"\n')
    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        failing = await finished_run(pilot, app)
        await wait_until(pilot, lambda: failing.offer is not None)
        await pilot.pause()
        assert "no candidate label for support-answer" in screen_text(app)
        await pilot.press("f")
        assert isinstance(app.screen, RegressLaunchModal)
        assert app.screen.query_one("#launch-version").value == "v8"
        assert app.screen.query_one("#launch-target").value == "demo"
        await pilot.click("#launch-version")
        await pilot.press("end", "ctrl+u", *"v9", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen) and app.screen is not failing)
        fixed = app.screen
        await wait_until(pilot, lambda: fixed.session.done.is_set(), timeout=30)
        assert fixed.session.plan.prompt_version == "v9" and gate(fixed.session) == "PASS"


async def test_R_on_a_finished_run_starts_a_new_run(tmp_path):
    settings = demo_suite(tmp_path, count=1)
    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        first = await finished_run(pilot, app)
        first_id = first.session.snapshot().run_id
        await pilot.press("R")
        assert isinstance(app.screen, RegressLaunchModal)  # not the same finished run again
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen) and app.screen is not first)
        second = app.screen
        await wait_until(pilot, lambda: second.session.done.is_set(), timeout=30)
        assert second.session.snapshot().run_id == first_id + 1
        assert second.session.plan.prompt_version == "v8"
        await pilot.press("escape")  # the new run took the finished one's place
        assert not isinstance(app.screen, RegressRunScreen)


async def test_the_offer_key_is_in_help(tmp_path):
    settings = demo_suite(tmp_path, count=1)
    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("question_mark")
        text = help_text(app.screen)
        assert "regress.run_candidate" in text and "Run the candidate" in text
