"""The key help as a user meets it: scrolled with the console's keys, descriptions whole."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widgets import Static

from conftest import wait_until
from console.ui.screens.help import HelpScreen
from test_ui import app, log, screen_text  # noqa: F401 (fixtures)


async def test_j_k_g_and_G_scroll_the_help_as_they_move_in_every_table(app):  # noqa: F811
    # at 80x24 the help is four screens long; j/k/g/G did nothing in it (only the arrows, PgDn
    # and End moved it), though the help itself lists them as the keys that move
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        scroll = app.screen.query_one(VerticalScroll)
        await wait_until(pilot, lambda: scroll.max_scroll_y > 0)
        await pilot.press("G")
        await wait_until(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y)
        assert "esc or ? closes this help." in screen_text(app)
        await pilot.press("k")
        await wait_until(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y - 1)
        await pilot.press("g")
        await wait_until(pilot, lambda: scroll.scroll_y == 0)
        await pilot.press("j")
        await wait_until(pilot, lambda: scroll.scroll_y == 1)
        assert isinstance(app.screen, HelpScreen)


def drawn_help(screen) -> str:
    """The help's widgets as drawn at their width (not the dashboard around the modal)."""
    lines = []
    for static in screen.query_one(VerticalScroll).query(Static):
        lines += [strip.text for strip in static.render_lines(Region(0, 0, static.size.width, static.size.height))]
    return "\n".join(lines)


@pytest.mark.parametrize("size", [(80, 24), (160, 48), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_description_in_the_help_is_whole(app, size):  # noqa: F811
    # at 160 columns the help's two columns left 'does' 7 cells beside the ids: 'Reques…',
    # 'Before… it appear…', 'Compare with previo…'
    async with app.run_test(size=size) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        drawn = drawn_help(app.screen)
        assert "Compare with" in drawn  # the bindings table was read
        assert "…" not in drawn


async def test_the_filter_examples_keep_their_indent_at_80_columns(app):  # noqa: F811
    # the examples were two 84-column lines: at 80x24 'env:staging' and 'tokens>4k  cost>0.01'
    # wrapped to the help's left edge, read as headings
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        drawn = drawn_help(app.screen)
        lines = drawn[drawn.index("Filter (/)"):].splitlines()[1:5]
        assert all(line.startswith("  ") for line in lines), lines
        assert "env:staging" in drawn and "cost>0.01" in drawn


async def test_the_regression_runs_two_escapes_say_when_each_applies(app):  # noqa: F811
    # the user trial: 'esc  Back (the run goes on)' and 'esc  Back' under "regression run", with
    # nothing saying that the first is while the run goes and the second once it has finished
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = [line for line in drawn_help(app.screen).splitlines() if "regress.back" in line]
        assert len(rows) == 2, rows
        assert "Back (the run goes on), while it runs" in rows[0]
        assert "Back, once the run is over" in rows[1]


async def test_the_filter_help_says_since_and_keeps_its_indent_at_80_columns(app):  # noqa: F811
    # since:1h (a pane's Enter adds the window) was nowhere in the help
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        drawn = drawn_help(app.screen)
        lines = drawn[drawn.index("Filter (/)"):].splitlines()[1:11]
        since = [line for line in lines if "since:1h" in line]
        assert since and all(line.startswith("  ") for line in lines), lines
        assert "since:2026-12-07T10:00Z" in drawn
