"""Issue 17, point 7: j/k/g/G move in every table (only the arrows did in Versions, Latency,
the prompts screen, the runs history and the rejected lines)."""

from __future__ import annotations

import inspect

import pytest
from textual.app import App, ComposeResult

from console.ui.screens import prompts, regress, rejected
from console.ui.widgets import latency_pane, versions_pane
from console.ui.widgets.diff_table import DiffTable
from console.ui.widgets.nav_table import NavTable


class Host(App):
    def __init__(self, table) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield self.table


@pytest.mark.parametrize("make", [lambda: NavTable(cursor_type="row"), lambda: DiffTable(("name", "value"))])
async def test_j_k_g_G_move_the_cursor(make):
    table = make()
    async with Host(table).run_test(size=(80, 24)) as pilot:
        if isinstance(table, DiffTable):
            table.sync([(f"r{i}", [f"r{i}", str(i)]) for i in range(50)])
        else:
            table.add_columns("name", "value")
            table.add_rows([(f"r{i}", str(i)) for i in range(50)])
        table.focus()
        await pilot.pause()
        await pilot.press("j", "j", "j")
        assert table.cursor_row == 3
        await pilot.press("k")
        assert table.cursor_row == 2
        await pilot.press("G")
        assert table.cursor_row == 49
        await pilot.press("g")
        assert table.cursor_row == 0


@pytest.mark.parametrize("module", [prompts, regress, rejected, versions_pane, latency_pane])
def test_every_table_of_the_console_is_one_with_the_keys(module):
    source = inspect.getsource(module)
    assert "NavTable(" in source or "DiffTable(" in source or "FittedTable(" in source  # both NavTables
    assert "= DataTable(" not in source
