"""The key help in two columns when the terminal is wide enough.

The bindings outgrew one screen height (dashboard, requests, detail, triage, panes...);
side by side, every binding and its id is visible at once on a wide terminal. Below 190
columns the halves are too narrow: at 160 the ids, kept whole, left "does" 7 cells
('Reques…', 'Compare with previo…'), so one column (with the ids) reads better there.
Scopes are never split across the columns. Below WIDE_COLUMNS it is HelpScreen as is.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from console.ui.screens.help import FILTER_HELP, BindingScope, HelpScreen, bindings_table

WIDE_COLUMNS = 190


def split_scopes(scopes: list[BindingScope]) -> tuple[list[BindingScope], list[BindingScope]]:
    """Two runs of whole scopes with about as many bindings each, order kept."""
    total = sum(len(bindings) for _, bindings in scopes)
    left: list[BindingScope] = []
    count = 0
    for index, (scope, bindings) in enumerate(scopes):
        if count and count + len(bindings) / 2 > total / 2:
            return left, list(scopes[index:])
        left.append((scope, bindings))
        count += len(bindings)
    return left, []


class ColumnsHelpScreen(HelpScreen):
    DEFAULT_CSS = """
    ColumnsHelpScreen > VerticalScroll { max-width: 210; width: 98%; height: 96%; }
    ColumnsHelpScreen #help-columns { height: auto; }
    ColumnsHelpScreen #help-columns > Static { width: 1fr; height: auto; }
    ColumnsHelpScreen #help-bindings { margin-right: 2; }
    """

    def compose(self) -> ComposeResult:
        if self.app.size.width < WIDE_COLUMNS:
            yield from super().compose()
            return
        left, right = split_scopes(list(self.scopes))
        with VerticalScroll():
            yield Static(Text("llmops-console — keys", style="bold"))
            with Horizontal(id="help-columns"):
                yield Static(bindings_table(left, self.keymap), id="help-bindings")
                yield Static(bindings_table(right, self.keymap), id="help-bindings-more")
            yield Static(Text(FILTER_HELP), id="help-filter")
            yield Static(Text("esc or ? closes this help.", style="dim"))
