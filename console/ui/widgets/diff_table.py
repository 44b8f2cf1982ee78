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
        self._followed_before_columns: list[str] = []  # the cursor's keys when set_columns dropped the rows

    def on_mount(self) -> None:
        if self.columns:  # set_columns came first
            return
        for name in self._column_names:
            self.add_column(name, key=name)

    def set_columns(self, columns: Sequence[str]) -> bool:
        """Show these columns, in this order; whether they changed (then the rows are gone until
        the next sync adds them again, and the cursor goes back to its row)."""
        columns = tuple(columns)
        if columns == self._column_names:
            return False
        self._followed_before_columns = self._keys_from_cursor() or self._followed_before_columns
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
        """Show `rows`; the cursor stays on its row (by key) as rows come and go above it, so a
        relative move (j, k) goes on from the row the user was on; a row gone takes the cursor
        to the row that followed it (else the one before)."""
        followed = self._keys_from_cursor() or self._followed_before_columns
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
            self._put_in_order(order)
        self._order = order
        self._followed_before_columns = []
        self._keep_cursor_on(followed)

    def _keys_from_cursor(self) -> list[str]:
        """The row keys from the cursor's down, then those above it nearest first: where the
        cursor goes after a sync (the first still shown)."""
        if not self._order or not self.row_count:
            return []
        row = min(max(self.cursor_row, 0), len(self._order) - 1)
        return [*self._order[row:], *reversed(self._order[:row])]

    def _keep_cursor_on(self, followed: list[str]) -> None:
        position = {key: index for index, key in enumerate(self._order)}
        row = next((position[key] for key in followed if key in position), None)
        if row is not None and row != self.cursor_row:
            self.move_cursor(row=row, animate=False)

    def _put_in_order(self, order: list[str]) -> None:
        """DataTable sorts on cells, not row keys. Each row's first cell object stands for its key
        (by identity: two rows' first cells may read the same once cut to a narrow column, and
        sorting by their text then put rows out of the order the screen indexes them by)."""
        first = self._column_names[0]
        position = {id(self.get_cell(key, first)): index for index, key in enumerate(order)}
        if len(position) == len(order):
            self.sort(first, key=lambda cell: position.get(id(cell), 0))
            return
        # cells shared between rows (an interned str): their text, unique as the class asks
        by_text = {_plain(self.get_cell(key, first)): index for index, key in enumerate(order)}
        self.sort(first, key=lambda cell: by_text.get(_plain(cell), 0))

    def _shown_cells(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> Sequence[tuple[str, Sequence[Cell]]]:
        """The cells of the columns shown (all here; FittedTable shows whole columns only)."""
        return rows


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _style(cell: Cell) -> str:
    return str(cell.style) if isinstance(cell, Text) else ""
