"""A finished run's screen offers no key that only a running suite answers."""

from __future__ import annotations

from conftest import wait_until
from console.regression.plan import make_plan
from console.ui.screens.regress import RegressRunScreen
from test_regress_ui import Host, demo_suite, screen_text  # noqa: F401 (a fixture)


async def test_a_finished_run_shows_neither_stop_nor_the_run_goes_on(demo_suite):  # noqa: F811
    # in the demo at 80x24 a finished run's footer still read 'esc Back (the run goes on)  s Stop
    # the run': nothing goes on, and s did nothing
    settings, store_url, _ = demo_suite
    screen = RegressRunScreen.start(make_plan(settings), store_url)
    app = Host(lambda: screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: screen._finished_drawn)
        await wait_until(pilot, lambda: "Stop the run" not in screen_text(app))
        footer = screen_text(app)
        assert "(the run goes on)" not in footer and "Back" in footer and "Runs history" in footer
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not screen)
