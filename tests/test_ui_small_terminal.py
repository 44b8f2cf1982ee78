"""The dashboard at 80x24 as the on-call engineer sees it: what the edges of the screen show."""

from __future__ import annotations

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
            assert footer.virtual_size.width > 80  # the keys overflow there: the case it guards
