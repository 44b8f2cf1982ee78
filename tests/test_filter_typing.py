"""Issue 17, point 8: keys typed quickly after ctrl+u in the filter are not dropped (the filter
became `rsion:v8`: Textual runs an Input's bound keys after the characters that follow them)."""

from __future__ import annotations

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Input

from console.ui.widgets.ordered_input import OrderedInput


class Host(App):
    def __init__(self, box: Input) -> None:
        super().__init__()
        self.box = box

    def compose(self) -> ComposeResult:
        yield self.box


def burst(app: App, text: str) -> None:
    """Keys as the terminal driver posts them in one read: all queued before any is handled."""
    for char in text:
        if char == "\x15":
            app.post_message(events.Key("ctrl+u", char))
        elif char == "\x7f":
            app.post_message(events.Key("backspace", char))
        else:
            app.post_message(events.Key(char, char))


@pytest.mark.parametrize(("typed", "value"), [("model:gpt\x15version:v8", "version:v8"), ("v8x\x7f", "v8")])
async def test_editing_keys_keep_their_place_in_a_burst(typed, value):
    app = Host(OrderedInput())
    async with app.run_test() as pilot:
        app.box.focus()
        await pilot.pause()
        burst(app, typed)
        await pilot.pause(0.2)
        assert app.box.value == value
