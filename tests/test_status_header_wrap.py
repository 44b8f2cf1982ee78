"""The header breaks its lines between parts, never inside one ("window" / "1h (w)" read
apart at 160 columns), and is no taller than wrapping anywhere made it (three lines at most)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from textual.app import App, ComposeResult

from console.live.events import SourceState
from console.ui.widgets.status_header import StatusHeader

FILES = ["malformed.jsonl", "support-chat.1.jsonl", "support-chat.jsonl", "support-chat.2.jsonl", "x.jsonl"]
PARTS = ["tailing 5 files", "rows/s", "46,258 stored", "13 rejected", "window 1h (w)", "3 alerts: 1 PAGE, 2 WARN  (a)",
         "store w/console.db", "● following"]  # fmt: skip


class HeaderApp(App):
    def compose(self) -> ComposeResult:
        header = StatusHeader("sqlite:///w/console.db", FILES, id="status")
        header.sources = [SourceState(f"/tmp/w/{name}", "following", 10, 0) for name in FILES]
        header.stored, header.rejected_total = 46_258, 13
        header.alerts = [SimpleNamespace(severity=s) for s in ("page", "warn", "warn")]
        header.record_arrivals(98)
        yield header


@pytest.mark.parametrize(("width", "height"), [(160, 2), (80, 3)])
async def test_the_header_wraps_between_parts_and_no_taller(width, height, monkeypatch):
    monkeypatch.chdir("/")  # the store's path as the demo shows it: relative to the working directory
    app = HeaderApp()
    async with app.run_test(size=(width, 24)) as pilot:
        header = app.query_one(StatusHeader)
        header.redraw()
        await pilot.pause()
        lines = [header.render_line(y).text.strip() for y in range(header.size.height)]
        assert len(lines) == height, lines
        for part in PARTS:
            assert any(part in line for line in lines), (part, lines)
        assert not any(line.endswith("·") or line.startswith("·") for line in lines), lines


@pytest.mark.parametrize(("rate", "shown"), [(21.24, "21.2 rows/s"), (9232.0, "9,232 rows/s"), (0.0, "0.0 rows/s")])
async def test_the_rate_has_a_tenth_only_at_a_trickle(rate, shown, monkeypatch):
    app = HeaderApp()
    async with app.run_test(size=(160, 24)) as pilot:
        header = app.query_one(StatusHeader)
        monkeypatch.setattr(type(header), "rows_per_second", property(lambda self: rate))
        header.redraw()
        await pilot.pause()
        assert any(shown in header.render_line(y).text for y in range(header.size.height))
