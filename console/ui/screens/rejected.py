"""The rejected lines: file, line number and why, newest first."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from console.sanitize import one_line
from console.sources.base import RejectedLine
from console.ui.widgets.nav_table import NavTable


class RejectedLinesScreen(Screen):
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="rejected.back")]

    DEFAULT_CSS = """
    RejectedLinesScreen DataTable { height: 1fr; }
    RejectedLinesScreen #rejected-title { padding: 0 1; background: $panel; }
    """

    def __init__(self, rejected: list[RejectedLine], total: int) -> None:
        super().__init__()
        self.rejected = rejected
        self.total = total

    def compose(self) -> ComposeResult:
        shown = len(self.rejected)
        note = f" (newest {shown:,} shown)" if shown < self.total else ""
        yield Static(
            Text(f"{self.total:,} rejected lines{note}: skipped, never ingested; the lines around them were kept"),
            id="rejected-title",
        )
        table: DataTable = NavTable(id="rejected-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("file", "line", "reason", "excerpt")
        for line in self.rejected:
            table.add_row(
                Text(one_line(line.path)),
                Text(f"{line.line_no:,}", justify="right"),
                Text(one_line(line.reason)),
                Text(one_line(line.excerpt[:80])),
            )
        yield table
        yield Footer()
