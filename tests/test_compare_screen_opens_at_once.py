"""`c` and `C` open the compare screen at the key, loading, and fill it when the analytics
thread has compared.

Found in a user trial: the first `c` of a session showed nothing for 3.4 s at 80x24 (over 4 s
at 160x48: the dashboard still on screen 4 s after the key) while the analytics thread
imported scipy; the screen was pushed only once the comparison was ready. Here the comparison
is held back until the test lets it go, as a slow first import would."""

from __future__ import annotations

import threading

import pytest

from console.live import analytics_feed
from console.ui.screens.compare import CompareScreen
from test_panes import app, fixture_log, ready, select_version  # noqa: F401 (fixtures)
from test_ui import screen_text, wait_until


@pytest.fixture
def held(monkeypatch):
    """The analytics thread's comparisons wait for `release`; `answered` is set after each."""
    release, answered = threading.Event(), threading.Event()
    for name in ("comparison_ready", "change_comparison_ready"):
        real = getattr(analytics_feed, name)

        def slow(*args, real=real, **kwargs):
            release.wait(20)  # bounded: a failing test (nothing released) stops in 20 s
            try:
                return real(*args, **kwargs)
            finally:
                answered.set()

        monkeypatch.setattr(analytics_feed, name, slow)
    yield release, answered
    release.set()


async def test_c_opens_the_screen_loading_and_fills_that_screen_when_the_comparison_comes(app, held):  # noqa: F811
    release, answered = held
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen), "nothing on screen while the comparison is computed"
        assert screen.loading and not answered.is_set()
        text = screen_text(app)
        assert "comparing support-answer@v8 with support-answer@v7 over the 1h window" in text
        assert "(loading)" in text
        await pilot.press("a")  # no arm to change yet: nothing happens
        assert app.screen is screen
        release.set()
        await wait_until(pilot, lambda: screen.comparison is not None)
        assert app.screen is screen, "filled in place, not a second screen"
        assert (screen.comparison.a.label, screen.comparison.b.label) == ("support-answer@v7", "support-answer@v8")
        text = screen_text(app)
        assert "Verdict" in text and "(loading)" not in text


async def test_esc_while_loading_goes_back_and_the_late_comparison_opens_nothing(app, held):  # noqa: F811
    release, answered = held
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("C")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen) and app.screen.loading
        assert "comparing before and after support-answer@v8 first appeared" in screen_text(app)
        await pilot.press("escape")
        assert app.screen is app.dashboard
        release.set()
        await wait_until(pilot, answered.is_set)
        await pilot.pause(0.2)
        assert app.screen is app.dashboard and not any(isinstance(s, CompareScreen) for s in app.screen_stack)


async def test_a_comparison_that_fails_says_why_on_the_screen_that_waited(app, held):  # noqa: F811
    release, _ = held
    release.set()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        app.request_compare("prompt=support-answer@v7", "bogus_key=1", "")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_until(pilot, lambda: not screen.loading)
        assert screen.comparison is None and screen.error
        assert "could not compare:" in screen_text(app)
