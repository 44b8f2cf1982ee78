"""j typed five times in one burst (key repeat, tmux send-keys 'j j j j j') scrolls the help and a
request's detail five lines, as five separate presses do. Seen in a user trial at 80x24: the
burst moved the help one or two lines: each scroll was deferred until after the next refresh,
and aimed from where the previous one ended only once that had run, so the burst's keys all
aimed at the same line."""

from __future__ import annotations

from textual import events
from textual.containers import VerticalScroll

from conftest import wait_until
from console.ui.screens.detail import RequestDetailScreen
from console.ui.screens.help import HelpScreen
from test_ui import app, log, shown  # noqa: F401 (fixtures)


def burst(app, key: str, times: int) -> None:
    """The keys as the terminal driver posts one read's: all queued before any is handled."""
    for _ in range(times):
        app.post_message(events.Key(key, key))


async def test_a_burst_of_j_scrolls_the_help_a_line_a_key(app):  # noqa: F811
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        scroll = app.screen.query_one(VerticalScroll)
        await wait_until(pilot, lambda: scroll.max_scroll_y > 10)
        burst(app, "j", 5)
        await pilot.pause(0.5)
        assert scroll.scroll_y == 5
        burst(app, "k", 3)
        await pilot.pause(0.5)
        assert scroll.scroll_y == 2


async def test_a_burst_of_j_scrolls_a_request_detail_a_line_a_key(app):  # noqa: F811
    async with app.run_test(size=(80, 12)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        scroll = app.screen.query_one(VerticalScroll)
        await wait_until(pilot, lambda: scroll.max_scroll_y >= 5)
        burst(app, "j", 5)
        await pilot.pause(0.5)
        assert scroll.scroll_y == 5
