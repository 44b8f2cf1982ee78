"""The requests view opens on its newest rows with the cursor there, whatever arrives first:
the pager's first page or the view's own size (a page read before the first layout left the
view at its oldest rows, the cursor on the newest out of sight)."""

from __future__ import annotations

import numpy as np
from textual.app import App, ComposeResult

from conftest import make_record, wait_until
from console.live import events
from console.records import parse_line
from console.ui.messages import RequestIdsLoaded
from console.ui.widgets.requests_view import RequestsView
from conftest import line_of


def loaded(first_id: int, count: int, at_end: bool = True) -> RequestIdsLoaded:
    ids = np.arange(first_id, first_id + count, dtype=np.int64)
    records = {int(i): parse_line(line_of(make_record(request_id=f"r-{i}")).strip()) for i in ids}
    return RequestIdsLoaded(events.RequestIdsLoaded(generation=0, ids=ids, at_end=at_end, records=records,
                                                    history_left=0.0))


class Host(App):
    CSS = "RequestsView { height: 1fr; } .hidden { display: none; }"

    def compose(self) -> ComposeResult:
        yield RequestsView(classes="hidden")


async def test_rows_loaded_before_the_view_has_a_size_open_at_the_newest():
    app = Host()
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.query_one(RequestsView)
        view.post_message(loaded(1, 600))
        await wait_until(pilot, lambda: view.row_count == 600)
        await pilot.pause()
        assert view.cursor == 599 and view.size.height == 0
        view.remove_class("hidden")  # laid out now: the first size it gets
        await wait_until(pilot, lambda: view.size.height > 0)
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y > 0, "the newest rows on screen, where the cursor is"


async def test_older_history_prepended_before_the_first_layout_keeps_the_newest_in_view():
    app = Host()
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.query_one(RequestsView)
        view.post_message(loaded(501, 100))
        view.post_message(loaded(1, 500, at_end=False))
        await wait_until(pilot, lambda: view.row_count == 600)
        view.remove_class("hidden")
        await wait_until(pilot, lambda: view.size.height > 0)
        await pilot.pause()
        assert view.cursor == 599 and view.scroll_y == view.max_scroll_y > 0


async def test_a_shorter_view_keeps_the_cursor_row_on_screen():
    """The header growing a line (alerts, a wrapped part) shortens the view: the cursor on
    the newest row stays visible."""
    app = Host()
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.query_one(RequestsView)
        view.remove_class("hidden")
        view.post_message(loaded(1, 600))
        await wait_until(pilot, lambda: view.row_count == 600)
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y
        view.styles.height = 20
        await wait_until(pilot, lambda: view.size.height == 20)
        await pilot.pause()
        top = int(view.scroll_y)
        assert top + 1 <= view.cursor + 1 < top + view.scrollable_content_region.height
