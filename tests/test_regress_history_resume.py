"""The runs history reads the runs again each time it is shown, so a run started from a run
opened there is listed on return (a user trial: it still said 'regression runs: 1' until r)."""

from __future__ import annotations

from console.ui.app import ConsoleApp
from console.ui.screens.regress import RegressRunScreen
from console.ui.screens.regress_history import RegressHistoryScreen
from console.ui.screens.regress_launch import RegressLaunchModal
from test_regress_key import demo_suite
from test_regress_ui import screen_text
from test_ui import wait_until


async def test_a_run_started_from_an_opened_run_is_in_the_history_on_return(tmp_path):
    settings = demo_suite(tmp_path)
    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("R", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen))
        await wait_until(pilot, lambda: app.screen._finished_drawn, timeout=30)
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressHistoryScreen))
        history = app.screen
        await wait_until(pilot, lambda: len(history.runs) == 1)
        await pilot.press("enter")  # run #1 again, in a run screen over the history
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen) and app.screen._finished_drawn)
        opened = app.screen
        await wait_until(pilot, lambda: opened.offer is not None)  # the gate failed: f is offered
        await pilot.press("f")  # no candidate label in this registry: the dialog, to pick a version
        await wait_until(pilot, lambda: isinstance(app.screen, RegressLaunchModal))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen) and app.screen is not opened)
        second = app.screen
        await wait_until(pilot, lambda: second.session.done.is_set() and second._finished_drawn, timeout=30)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is history)
        await wait_until(pilot, lambda: len(history.runs) == 2, timeout=20)
        await wait_until(pilot, lambda: "regression runs: 2" in screen_text(app), timeout=10)
        assert [run.id for run in history.runs] == [2, 1]
