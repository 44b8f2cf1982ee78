"""A DataTable with the console's keys: j/k move, g/G go to the first and last row.

Every table of the console is one (directly, or through DiffTable), so the keys that move in
the requests view move in Versions, Latency, the prompts screen, the runs history and the
rejected lines too (only the arrows did). It also redraws what was drawn before its columns
were measured (see _update_dimensions).
"""

from __future__ import annotations

from typing import Iterable

from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class NavTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.bottom"),
    ]

    _measured_widths: tuple[int, ...] = ()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # DataTable measures added and updated cells when idle, but caches the cells and lines
        # it drew by _update_count, which that measuring does not move (Textual issue #3533).
        # A table drawn between add_row/update_cell and idle kept those pictures: in a pane of
        # fixed size (no Resize to drop them) every cell stayed cut to its header's width.
        super()._update_dimensions(new_rows)
        widths = tuple(column.get_render_width(self) for column in self.ordered_columns)
        if widths != self._measured_widths:
            self._measured_widths = widths
            self._update_count += 1
            self.refresh()
