"""`p` at 80 columns: whole columns only, what tells a bad version first, the rest a key away."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from conftest import wait_until
from console.ui.screens.prompts import PromptsScreen
from test_prompts_ui import make_app, rendered


async def test_the_prompts_screen_at_80_columns_cuts_no_column_and_reaches_every_one(tmp_path):
    # in the demo at 80x24 the table was cut at the edge mid-column: 'la' for last seen, its
    # cells '20' (the year), and the drift, traffic and p95 columns were past the edge with
    # nothing pointing to them
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 5)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptsScreen) and app.screen.registry is not None)
        screen = app.screen
        table = screen.query_one("#prompts-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 3 and "columns: ← →" in rendered(screen.query_one("#prompts-title", Static)))

        def labels() -> list[str]:
            widths = sum(column.get_render_width(table) for column in table.ordered_columns)
            assert widths <= table.scrollable_content_region.width  # nothing cut at the edge
            return [str(column.label) for column in table.ordered_columns]

        assert labels()[:5] == ["prompt@version", "registry", "requests", "errors", "bad"]
        assert [str(table.get_row_at(i)[1]) for i in range(3)] == ["ok", "DRIFT 0123456789ab", "unregistered"]
        seen = set(labels())
        for _ in range(10):
            await pilot.press("right")
            await pilot.pause(0.1)
            assert labels()[0] == "prompt@version" and table.row_count == 3
            seen |= set(labels())
        assert {"p95", "labels", "hash", "all-time first", "all-time last"} <= seen
        await pilot.press(*["left"] * 10, "down", "enter")  # the cursor still names the row's version
        assert screen.shown == "text" and "v8.txt" in rendered(screen.body)


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_every_version_shows_when_the_screen_has_room(tmp_path, size):
    # in the demo at 80x24 the table had a third of the height: six of eight versions above
    # the help line and 11 blank lines, ticket-classifier@v3 and v4 only after G
    app, _ = make_app(tmp_path)
    for number in range(1, 7):  # v1..v6 beside v7, v8 and the logs' unregistered v9: nine rows
        (tmp_path / "prompts" / "support-answer" / f"v{number}.txt").write_text(f"Answer, take {number}.\n")
    async with app.run_test(size=size) as pilot:
        # the screen shows the window's traffic as it is when opened: the logs' v9 once read
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 5)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptsScreen) and app.screen.registry is not None)
        table = app.screen.query_one("#prompts-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 9)
        await pilot.pause()
        assert table.size.height >= table.row_count + table.header_height, table.size
        assert table.max_scroll_y == 0  # nothing below the last row shown
        assert app.screen.query_one("#prompts-view").size.height >= 3  # the text still has room
