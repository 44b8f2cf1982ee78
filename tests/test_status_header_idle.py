"""The header says how long the tail has been quiet (found in the live-tail user trial: with
the app's writer stopped, the header read '0.0 rows/s · ● following' for as long as it was
left, the same as a quiet minute; the on-call engineer could not tell a dead log from a calm one)."""

from __future__ import annotations

import time

import pytest
from textual.app import App, ComposeResult

from console.live.events import SourceState
from console.ui.widgets import status_header
from console.ui.widgets.status_header import StatusHeader


class HeaderApp(App):
    def compose(self) -> ComposeResult:
        header = StatusHeader("sqlite:///w/console.db", ["/tmp/w/app.jsonl"], id="status")
        header.sources = [SourceState("/tmp/w/app.jsonl", "following", 10, 0)]
        yield header


def shown(header: StatusHeader) -> str:
    header.redraw()
    return " ".join(header.render_line(y).text for y in range(header.size.height))


@pytest.mark.parametrize("width", [160, 80])
async def test_the_header_says_how_long_no_line_came(width):
    app = HeaderApp()
    async with app.run_test(size=(width, 24)) as pilot:
        header = app.query_one(StatusHeader)
        quiet = status_header.QUIET_SHOWN_S
        header.record_arrivals(40, now=time.monotonic() - quiet - 190)  # the last line: 3m 10s past the threshold
        await pilot.pause()
        text = shown(header)
        minutes, seconds = divmod(int(quiet + 190), 60)
        assert f"no new line for {minutes}m {seconds:02d}s" in text, text
        header.record_arrivals(3)  # lines again: following, nothing more said
        await pilot.pause()
        text = shown(header)
        assert "● following" in text and "no new line" not in text, text


async def test_a_quiet_spell_shorter_than_the_threshold_is_not_mentioned_nor_while_paused():
    app = HeaderApp()
    async with app.run_test(size=(160, 24)) as pilot:
        header = app.query_one(StatusHeader)
        header.record_arrivals(40, now=time.monotonic() - status_header.QUIET_SHOWN_S / 2)
        await pilot.pause()
        assert "no new line" not in shown(header)
        header.record_arrivals(40, now=time.monotonic() - status_header.QUIET_SHOWN_S * 3)
        header.paused = True  # paused: the header says PAUSED, the rows are held
        await pilot.pause()
        text = shown(header)
        assert "PAUSED" in text and "no new line" not in text, text
