"""The rejected lines: file, line number and why, newest first; Enter shows one in full."""

from __future__ import annotations

import os
from typing import Iterator

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from console.sanitize import one_line
from console.sources.base import RejectedLine
from console.ui.screens.sections import SectionsScreen, safe, scroll_bindings, section
from console.ui.widgets.nav_table import NavTable


class RejectedLineScreen(SectionsScreen):
    """One rejected line in full (Enter on the list): where, why, and the line as kept."""

    BODY_ID = "rejected-line-body"
    BINDINGS = scroll_bindings("rejected_line")

    def __init__(self, line: RejectedLine) -> None:
        super().__init__()
        self.line = line

    def sections(self) -> Iterator[Widget]:
        line = self.line
        yield Static(Text(f"{one_line(line.path)}, line {line.line_no:,}", style="bold"))
        yield from section("Why it was skipped", safe(line.reason))
        yield from section("The line (as kept: long lines are cut at ingest)", safe(line.excerpt))


def common_folder(paths: list[str]) -> str:
    """The folder every path is in ("" when none is shared, or the paths mix absolute and relative)."""
    try:
        folder = os.path.commonpath(paths) if paths else ""
    except ValueError:
        return ""
    return os.path.dirname(folder) if folder in paths else folder


class RejectedLinesScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="rejected.back"),
        Binding("enter", "open", "Show in full", id="rejected.open"),
    ]

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
        folder = common_folder([line.path for line in self.rejected])
        under = f"; files in {folder}" if folder else ""
        yield Static(
            Text(one_line(f"{self.total:,} rejected lines{note}: skipped, never ingested; the lines around them "
                          f"were kept{under}")),
            id="rejected-title",
        )
        table: DataTable = NavTable(id="rejected-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("file", "line", "reason", "excerpt")
        for line in self.rejected:
            table.add_row(
                # the folder is in the title: at 80 columns the whole path left the reason 22 columns
                Text(one_line(os.path.relpath(line.path, folder) if folder else line.path)),
                Text(f"{line.line_no:,}", justify="right"),
                Text(one_line(line.reason)),
                Text(one_line(line.excerpt[:80])),
            )
        yield table
        yield Footer(compact=True)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one("#rejected-table", DataTable)
        if 0 <= table.cursor_row < len(self.rejected):
            self.app.push_screen(RejectedLineScreen(self.rejected[table.cursor_row]))
