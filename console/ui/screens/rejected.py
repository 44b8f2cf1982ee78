"""The rejected lines: file, line number and why, newest first; Enter shows one in full.

The list fits the screen's width by cells: the reason first (cut with … only when it must be),
the excerpt in what is left, none at all when too little is (Enter shows the line)."""

from __future__ import annotations

import os
from typing import Iterator

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Static

from console.sanitize import one_line
from console.sources.base import RejectedLine
from console.sources.excerpt import CUT_MARK, EXCERPT_CHARS
from console.ui.screens.sections import SectionsScreen, safe, scroll_bindings, section
from console.ui.widgets.key_footer import KeyFooter
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
        yield from section(kept_label(line.excerpt), safe(line.excerpt))


# what versions before sources/excerpt.py kept of every line, with no mark of the cut
OLDER_EXCERPT_CHARS = 120


def kept_label(excerpt: str) -> str:
    """What the excerpt under it is, without claiming more than is known."""
    if CUT_MARK in excerpt:
        return f"The line, cut (longer than {EXCERPT_CHARS:,} characters; {CUT_MARK} …» says what is left out)"
    if len(excerpt) == OLDER_EXCERPT_CHARS:
        return (f"The line as stored ({OLDER_EXCERPT_CHARS} characters: the whole line, or its start if an "
                "older version stored it)")
    return "The line, whole"


def common_folder(paths: list[str]) -> str:
    """The folder every path is in ("" when none is shared, or the paths mix absolute and relative)."""
    try:
        folder = os.path.commonpath(paths) if paths else ""
    except ValueError:
        return ""
    return os.path.dirname(folder) if folder in paths else folder


def fitted(text: str, width: int, keep_end: bool = False) -> Text:
    """One line of untrusted text in `width` cells: whole, or cut with … (keep_end: the end is
    kept, as a path's file name)."""
    line = Text(one_line(text))
    if line.cell_len <= width:
        return line
    if not keep_end:
        line.truncate(width, overflow="ellipsis")
        return line
    plain, start, used = line.plain, len(line.plain), 1  # the … takes one cell
    while start > 0 and used + cell_len(plain[start - 1]) <= width:
        start -= 1
        used += cell_len(plain[start])
    return Text("…" + plain[start:])


COLUMNS = ("file", "line", "reason", "excerpt")
SHOWN_EXCERPT = 400
EXCERPT_MIN = 12  # an excerpt column narrower than this is left out (Enter shows the line)


def fit_widths(width: int, natural: tuple[int, int, int, int], padding: int = 2) -> tuple[int, int, int, int]:
    """The columns' widths in `width` cells (each column also takes `padding`): the line number
    whole, the file up to a third, the reason whole if it can be, the excerpt what is left
    (0: not shown)."""
    room = width - len(natural) * padding
    file_w, line_w, reason_w, excerpt_w = natural
    file_w = min(file_w, max(room // 3, len(COLUMNS[0])))
    reason_w = max(min(reason_w, room - file_w - line_w), len(COLUMNS[2]))
    left = room - file_w - line_w - reason_w
    return file_w, line_w, reason_w, min(excerpt_w, left) if left >= EXCERPT_MIN else 0


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
        self.folder = common_folder([line.path for line in rejected])
        self._widths: tuple[int, ...] = ()

    def compose(self) -> ComposeResult:
        shown = len(self.rejected)
        note = f" (newest {shown:,} shown)" if shown < self.total else ""
        under = f"; files in {self.folder}" if self.folder else ""
        yield Static(
            Text(one_line(f"{self.total:,} rejected lines{note}: skipped, never ingested; the lines around them "
                          f"were kept{under}")),
            id="rejected-title",
        )
        yield NavTable(id="rejected-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter(compact=True)

    def _cells(self, line: RejectedLine) -> tuple[str, str, str, str]:
        # the folder is in the title: at 80 columns the whole path left the reason 22 columns
        path = os.path.relpath(line.path, self.folder) if self.folder else line.path
        # no terminal shows more of an excerpt on one row than this (the rest is a measure's cost)
        return one_line(path), f"{line.line_no:,}", one_line(line.reason), one_line(line.excerpt[:SHOWN_EXCERPT])

    def on_resize(self) -> None:
        self._fill()

    def on_mount(self) -> None:
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#rejected-table", DataTable)
        width = table.size.width or self.size.width
        if width <= 0:
            return
        rows = [self._cells(line) for line in self.rejected]
        if len(rows) + 1 > table.size.height:  # the header and the rows: a vertical scrollbar
            width -= table.styles.scrollbar_size_vertical
        natural = tuple(max([len(name), *(Text(row[i]).cell_len for row in rows)]) for i, name in enumerate(COLUMNS))
        widths = fit_widths(width, natural, 2 * table.cell_padding)  # type: ignore[arg-type]
        if widths == self._widths:
            return
        self._widths = widths
        row = table.cursor_row
        table.clear(columns=True)
        shown = [i for i, w in enumerate(widths) if w]
        for i in shown:
            table.add_column(COLUMNS[i], width=widths[i], key=COLUMNS[i])
        for cells in rows:
            fitted_cells = {
                0: fitted(cells[0], widths[0], keep_end=True),
                1: Text(cells[1], justify="right"),
                2: fitted(cells[2], widths[2]),
                3: fitted(cells[3], widths[3]),
            }
            table.add_row(*(fitted_cells[i] for i in shown))
        if rows:
            table.move_cursor(row=min(max(row, 0), len(rows) - 1))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one("#rejected-table", DataTable)
        if 0 <= table.cursor_row < len(self.rejected):
            self.app.push_screen(RejectedLineScreen(self.rejected[table.cursor_row]))
