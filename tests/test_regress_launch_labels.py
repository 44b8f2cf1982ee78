"""The run-the-suite dialog (R) at 80 columns: every field's label whole."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Label

from conftest import wait_until
from console.ui.screens.regress_launch import RegressLaunchModal


class Host(App):
    def on_mount(self) -> None:
        self.push_screen(RegressLaunchModal("demo", "regression/cases.jsonl"))


async def test_each_label_of_the_dialog_is_whole_at_80_columns():
    # the target's label, 72 cells in a 68-cell dialog, was cut to '... python:mod:fn or replay:PA'
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RegressLaunchModal))
        await pilot.pause()
        for label in app.screen.query(Label):
            assert label.region.right <= label.parent.content_region.right, str(label.content)  # not clipped
            drawn = " ".join(strip.text.strip() for strip in label.render_lines(label.content_region.reset_offset))
            assert " ".join(drawn.split()) == " ".join(str(label.content).split()), drawn
