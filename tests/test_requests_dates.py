"""The requests table says which day a row is from (found in the user trial: at 80 columns the first
column showed the time of day only, so after `g` on a 7-day history, or under `/ status:error`,
10:03 today and 10:03 five days ago read the same). Narrow, a row of the figures' UTC day reads
'10:03:15', any other '12-01 10:03', in one column 11 wide whatever the rows on screen; Enter
shows the full RFC 3339 moment."""

from __future__ import annotations

import numpy as np
from textual.app import App, ComposeResult

from conftest import line_of, make_record, wait_until
from console.formatting import parse_rfc3339
from console.live import events
from console.records import parse_line
from console.ui.app import ConsoleApp
from console.ui.messages import RequestIdsLoaded
from console.ui.screens.detail import RequestDetailScreen
from console.ui.widgets.requests_view import RequestsView
from test_ui import screen_text

NOW = parse_rfc3339("2026-12-07T12:00:00Z")
MOMENTS = ["2026-12-01T10:03:15Z", "2026-12-01T23:59:59Z", "2026-12-07T00:00:00Z", "2026-12-07T10:03:15Z"]
TIME_WIDTH = 11


def records_on_two_days() -> list[dict]:
    return [make_record(ts=moment, request_id=f"r-{i}", model="gpt-4o-mini") for i, moment in enumerate(MOMENTS)]


class Host(App):
    CSS = "RequestsView { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield RequestsView()


def loaded(records: list[dict]) -> RequestIdsLoaded:
    ids = np.arange(1, len(records) + 1, dtype=np.int64)
    rows = {int(i): parse_line(line_of(r).strip()) for i, r in zip(ids, records)}
    return RequestIdsLoaded(events.RequestIdsLoaded(generation=0, ids=ids, at_end=True, records=rows, history_left=0.0))


def lines(view: RequestsView, count: int) -> list[str]:
    return [view.render_line(y).text for y in range(0, count + 1)]


async def test_rows_of_another_day_are_dated_in_a_column_of_one_width():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(RequestsView)
        view.now = lambda: NOW
        view.post_message(loaded(records_on_two_days()))
        await wait_until(pilot, lambda: view.row_count == 4 and len(view.rows) == 4)
        assert view.narrow
        header, *rows = lines(view, 4)
        assert header[:TIME_WIDTH] == "        UTC", header  # the header still says UTC
        assert [row[:TIME_WIDTH] for row in rows] == ["12-01 10:03", "12-01 23:59", "   00:00:00", "   10:03:15"]
        # the same column edges on every line: nothing moves as dated and undated rows scroll by
        assert all(line[TIME_WIDTH] == " " and line[TIME_WIDTH + 1:].startswith(("model", "gpt-4o-mini"))
                   for line in [header, *rows])  # fmt: skip
        assert view.virtual_size.width <= view.scrollable_content_region.width

        # the figures' day turns (a replay crossing midnight, a console left open): today's rows dated too
        view.now = lambda: NOW + 86400
        view._check_day()  # what the view's timer does every DAY_CHECK_S
        await pilot.pause()
        assert [row[:TIME_WIDTH] for row in lines(view, 4)[1:]] == [
            "12-01 10:03", "12-01 23:59", "12-07 00:00", "12-07 10:03",
        ]  # fmt: skip


async def test_the_console_dates_older_rows_at_80_columns_by_its_figures_clock_and_enter_shows_rfc3339(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in records_on_two_days()))
    # --at: the figures' now (FiguresClock, fixed), not the wall clock, decides which day is today
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 's.db'}", at=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.requests_view
        await wait_until(pilot, lambda: len(view.rows) == 4)
        await pilot.press("g")
        await pilot.pause()
        assert "        UTC model" in screen_text(app)
        drawn = [view.render_line(y).text for y in range(1, 5)]
        assert [line[:TIME_WIDTH + 12] for line in drawn] == [
            "12-01 10:03 gpt-4o-mini", "12-01 23:59 gpt-4o-mini", "   00:00:00 gpt-4o-mini", "   10:03:15 gpt-4o-mini",
        ]  # fmt: skip
        assert view.virtual_size.width <= view.scrollable_content_region.width
        assert all("Open Sett" in line for line in drawn), drawn  # the output keeps a readable start
        await pilot.press("enter")  # the oldest row, of 12-01: its full moment
        await wait_until(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        assert app.screen.record.request_id == "r-0"
        text = screen_text(app)
        assert "time (UTC)" in text and "2026-12-01T10:03:15.000Z" in text
