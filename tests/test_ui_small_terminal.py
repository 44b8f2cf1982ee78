"""The dashboard at 80x24 as the on-call engineer sees it: what the edges of the screen show."""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from conftest import line_of, make_record, wait_until
from console.ui.app import ConsoleApp


def small_app(tmp_path) -> ConsoleApp:
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(make_record(prompt_version=f"v{i % 3}")) for i in range(30)))
    return ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}")


async def test_the_footers_last_column_is_the_palette_key_whatever_pane_has_focus(tmp_path):
    """The compact footer left its last column to the keys scrolled away beneath the palette key:
    with Versions focused the screen ended '^p paletteh' (the h of 'Run the suite for this version')."""
    app = small_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None)
        for pane in "1234":
            await pilot.press(pane)
            await pilot.pause(0.2)
            footer = app.screen.query_one(Footer)
            widget, _ = app.screen.get_widget_at(79, 23)
            assert isinstance(widget, FooterKey) and widget.has_class("-command-palette"), (pane, widget)
            assert footer.virtual_size.width <= 80, pane  # nothing scrolled away beneath it


async def test_the_footer_shows_whole_keys_and_leaves_out_those_that_do_not_fit(tmp_path):
    """Textual's footer clipped its row at the palette key: at 80 columns a user trial read
    'w Window m▏^p palette' and 'R Run the▏' (a key cut mid-phrase). Keys that do not fit are
    now left out whole, the focused pane's first."""
    app = small_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None)
        for pane in "1234":
            await pilot.press(pane)
            await pilot.pause(0.3)
            keys = list(app.screen.query_one(Footer).query_children(FooterKey))
            palette = next(key for key in keys if key.has_class("-command-palette"))
            shown = [key for key in keys if key.display and key is not palette]
            assert shown and any(not key.display for key in keys), pane  # some fit, some do not
            for key in shown:
                assert key.region.right <= palette.region.x and key.region.width >= len(key.description), (pane, key.description)


def _contrast(one, other) -> float:
    """WCAG's contrast ratio of two rich colours."""

    def luminance(color) -> float:
        channels = [c / 255 for c in color.get_truecolor()]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def test_the_headers_alert_count_and_rejected_count_keep_their_own_colours(tmp_path):
    """They are links (a click opens the alerts, the rejected lines); Textual's link colour was
    painted over their styles: '3 alerts: 3 WARN' near-white on yellow (contrast 1.1), and the
    rejected count no longer red."""
    from console.analytics.report_types import Alert

    app = small_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None)
        header = app.dashboard.status_header
        header.alerts = [Alert(kind="budget", severity="warn", subject="monthly", message="burning")]
        header.rejected_total = 2
        header.redraw()
        await pilot.pause(0.2)
        segments = [seg for y in range(header.size.height) for seg in header.render_line(y)]
        alert = next(seg for seg in segments if "alert" in seg.text)
        assert alert.style.bgcolor is not None and _contrast(alert.style.color, alert.style.bgcolor) >= 4.5
        rejected = next(seg for seg in segments if "rejected" in seg.text)
        red = rejected.style.color.get_truecolor()
        assert red.red > 2 * max(red.green, red.blue), red  # red, as the markup says


async def test_under_no_color_the_alarms_are_as_legible_as_the_calm_text(tmp_path, monkeypatch):
    """Textual greys NO_COLOR by luminance: the red '✗ SLO' line and a breaching model's row
    came out dark grey on black (contrast ~2), the faintest text on the screen."""
    from console.ui.widgets.incident_summary import IncidentSummary
    from console.ui.widgets.latency_pane import LatencyPane
    from test_snapshots import SETTINGS, fixed_store
    from console.live.figures_clock import FiguresClock
    from test_alerts_screen import END

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    app = ConsoleApp(sources=[], store_url=fixed_store(tmp_path), settings=SETTINGS)
    app.feed.clock = FiguresClock(wall=lambda: END)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and len(app.dashboard.report.alerts) > 0)
        await pilot.pause(0.5)

        def worst_contrast(widget, words: str) -> float:
            # render_lines: the widget as the compositor draws it, the app's line filters applied
            background = app.screen.styles.background.rich_color
            lines = [list(strip) for strip in widget.render_lines(Region(0, 0, *widget.outer_size))]
            line = next(segments for segments in lines if words in "".join(s.text for s in segments))
            return min(_contrast(s.style.color, s.style.bgcolor or background)
                       for s in line if s.text.strip() and s.style and s.style.color)  # fmt: skip

        assert worst_contrast(app.dashboard.query_one(IncidentSummary), "✗ SLO") >= 4.5
        assert worst_contrast(app.dashboard.query_one(LatencyPane), "✗") >= 4.5  # gpt-4o's row, over its SLO


async def test_a_narrow_pane_shows_whole_columns_and_the_others_a_key_away(tmp_path):
    """Versions at 80 columns was cut at its edge mid-column: '$0.000' for $0.00027 and '$0.00'
    for $0.0099, read as other figures. Now the columns that fit whole, the cost among them,
    '+n columns: ← →' in the subtitle, `right` brings the next ones in beside the name."""
    from console.ui.widgets.fitted_table import FittedTable

    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(make_record(prompt_id="ticket-classifier", prompt_version="v3", cost_usd=0.00027,
                                               input_tokens=13602)) for _ in range(30)))  # fmt: skip
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 30)
        await pilot.press("4")
        pane = app.dashboard.query_one("#versions")
        table = pane.query_one(FittedTable)
        await wait_until(pilot, lambda: table.row_count == 1 and table.hidden_columns > 0)
        await pilot.pause(0.3)

        def labels() -> list[str]:
            widths = sum(column.get_render_width(table) for column in table.ordered_columns)
            assert widths <= table.scrollable_content_region.width  # nothing cut at the edge
            return [str(column.label) for column in table.ordered_columns]

        assert labels()[:6] == ["prompt@version", "reqs", "err", "bad", "p95", "$/req"]
        assert str(table.get_row_at(0)[5]) == "$0.00027"
        assert f"+{table.hidden_columns} columns: ← →" in str(pane.border_subtitle)
        seen = set(labels())
        for _ in range(10):
            await pilot.press("right")
            await pilot.pause(0.1)
            assert labels()[0] == "prompt@version" and table.row_count == 1
            seen |= set(labels())
        assert seen == set(table._all_columns)  # every column, the name beside each
        await pilot.press(*["left"] * 10)
        await pilot.pause(0.1)
        assert labels()[:6] == ["prompt@version", "reqs", "err", "bad", "p95", "$/req"]


async def test_the_rejected_lines_at_80_columns_show_each_reason(tmp_path):
    """The file column held the whole path (50 columns in the demo): the reason was cut to
    'Expected 'float | null' and 'missing core field 'mo'. The folder is said once, in the title."""
    from textual.app import App
    from textual.widgets import DataTable, Static

    from console.sources.base import RejectedLine
    from console.ui.screens.rejected import RejectedLinesScreen

    folder = "/tmp/llmops-demo-z7f3sowj/history"
    lines = [RejectedLine(f"{folder}/malformed.jsonl", 5, "missing core field 'model'", "{}"),
             RejectedLine(f"{folder}/support-chat.jsonl", 27, "Expected 'float | null', got 'str' - at 'ttft_ms'", "{}")]

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(RejectedLinesScreen(lines, 2))

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        table = app.screen.query_one(DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(2)] == ["malformed.jsonl", "support-chat.jsonl"]
        assert folder in str(app.screen.query_one("#rejected-title", Static).content)
        reason = table.ordered_columns[2]
        start = sum(column.get_render_width(table) for column in table.ordered_columns[:2])
        assert start + reason.get_render_width(table) <= 80  # each reason whole on screen


def test_every_screen_draws_the_footer_of_whole_keys():
    """A screen that yields Textual's Footer cuts its last key mid-word at 80 columns again."""
    import re
    from pathlib import Path

    import console.ui

    ui = Path(console.ui.__file__).parent
    plain = [str(path.relative_to(ui)) for path in ui.rglob("*.py")
             if path.name != "key_footer.py" and re.search(r"(?<!Key)Footer\(", path.read_text())]  # fmt: skip
    assert plain == []
