"""A DataTable updated by difference: changed cells, new rows and gone rows only.

Rebuilding even a small DataTable costs ~80 ms of CPU; live panes refresh several times
a second, so they hand the full desired content here and only the difference is applied.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from console.ui.widgets.nav_table import NavTable

Cell = str | Text


class DiffTable(NavTable):
    """A DataTable with `sync(rows)`: rows are (key, cells) in the order to show.

    The first cell of every row must be unique (it is the row's label).
    """

    def __init__(self, columns: Sequence[str], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._column_names = tuple(columns)
        self._order: list[str] = []

    def on_mount(self) -> None:
        if self.columns:  # set_columns came first
            return
        for name in self._column_names:
            self.add_column(name, key=name)

    def set_columns(self, columns: Sequence[str]) -> bool:
        """Show these columns, in this order; whether they changed (then the rows are gone, and
        the cursor at the top, until the next sync adds them)."""
        columns = tuple(columns)
        if columns == self._column_names:
            return False
        self.clear(columns=True)
        self._column_names = columns
        for name in columns:
            self.add_column(name, key=name)
        self._order = []
        return True

    @property
    def current_key(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value

    def sync(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        rows = self._shown_cells(rows)
        wanted = dict(rows)
        for key in [k for k in self._order if k not in wanted]:
            self.remove_row(key)
        existing = set(self._order)
        for key, cells in rows:
            if key in existing:
                current = self.get_row(key)
                for name, old, new in zip(self._column_names, current, cells):
                    if _plain(old) != _plain(new) or _style(old) != _style(new):
                        self.update_cell(key, name, new, update_width=True)
            else:
                self.add_row(*cells, key=key)
        order = [key for key, _ in rows]
        if order != self._order or any(key not in existing for key in order):
            # The first cell of each row is unique, so it can carry the wanted order.
            position = {_plain(cells[0]): i for i, (_, cells) in enumerate(rows)}
            self.sort(self._column_names[0], key=lambda cell: position.get(_plain(cell), 0))
        self._order = order


    def _shown_cells(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> Sequence[tuple[str, Sequence[Cell]]]:
        """The cells of the columns shown (all here; FittedTable shows whole columns only)."""
        return rows


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _style(cell: Cell) -> str:
    return str(cell.style) if isinstance(cell, Text) else ""
