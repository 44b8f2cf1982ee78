"""A pane's table that shows whole columns only, the others a key away.

A DataTable wider than its pane is cut at the pane's edge mid-column, and a cut figure reads as
another one: Versions at 80 columns showed $/req '$0.000' for $0.00027 and '$0.00' for $0.0099.
This one shows the first column (the row's name) and, after it, as many of the others as fit
whole, from the one `right`/`left` has moved to; the pane's subtitle says how many are hidden.
"""

from __future__ import annotations

from typing import Sequence

from rich.cells import cell_len
from textual.binding import Binding
from textual.message import Message

from console.ui.widgets.diff_table import Cell, DiffTable, _plain


class FittedTable(DiffTable):
    BINDINGS = [
        Binding("right", "columns(1)", "Next columns", show=False, id="pane.columns_right"),
        Binding("left", "columns(-1)", "Previous columns", show=False, id="pane.columns_left"),
    ]

    _restore_row: int | None = None

    class ColumnsFitted(Message):
        """Which columns are shown changed: the pane says how many are hidden."""

    def __init__(self, columns: Sequence[str], **kwargs) -> None:
        super().__init__(columns, **kwargs)
        self._all_columns = self._column_names
        self._shown = tuple(range(len(self._all_columns)))  # indexes into _all_columns
        self._skipped = 0  # columns after the first moved past with `right`
        self._rows: list[tuple[str, Sequence[Cell]]] = []

    @property
    def hidden_columns(self) -> int:
        return len(self._all_columns) - len(self._shown)

    def on_resize(self) -> None:
        if self._rows:
            self.sync(self._rows)

    def action_columns(self, step: int) -> None:
        skipped = self._skipped + step
        if skipped < 0 or (step > 0 and self._shown[-1] == len(self._all_columns) - 1):
            return
        self._skipped = skipped
        self.sync(self._rows)

    def _fitting(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> tuple[int, ...]:
        """The first column and the ones after the skipped that fit whole (all, before a layout)."""
        width = self.size.width
        if width <= 0:
            return tuple(range(len(self._all_columns)))
        if len(rows) + self.header_height > self.size.height:  # the vertical scrollbar's columns
            width -= self.styles.scrollbar_size_vertical

        def column_width(index: int) -> int:
            cells = [cell_len(_plain(cells[index])) for _, cells in rows if index < len(cells)]
            return max([cell_len(self._all_columns[index]), *cells]) + 2 * self.cell_padding

        shown, used = [0], column_width(0)
        for index in range(1 + self._skipped, len(self._all_columns)):
            used += column_width(index)
            if used > width and len(shown) > 1:
                break
            shown.append(index)
        return tuple(shown)

    def _shown_cells(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> list[tuple[str, list[Cell]]]:
        self._rows = list(rows)
        shown = self._fitting(rows)
        if shown != self._shown:
            self._show_columns(shown)
        return [(key, [cells[index] for index in shown if index < len(cells)]) for key, cells in rows]

    def _show_columns(self, shown: tuple[int, ...]) -> None:
        self._restore_row = self.cursor_row
        self._shown = shown
        self.set_columns(self._all_columns[index] for index in shown)
        self.post_message(self.ColumnsFitted())

    def sync(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        super().sync(rows)
        restore, self._restore_row = self._restore_row, None
        if restore is not None and self.row_count:
            self.move_cursor(row=min(restore, self.row_count - 1))
