"""DiffTable applies only the difference and keeps the wanted order."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from console.ui.widgets.diff_table import DiffTable


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield DiffTable(["name", "value"], id="t")


def shown(table: DiffTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row(row.key)] for row in table.ordered_rows]


async def test_sync_adds_updates_removes_and_orders():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(DiffTable)
        table.sync([("a", ["a", "1"]), ("b", ["b", "2"])])
        await pilot.pause()
        assert shown(table) == [["a", "1"], ["b", "2"]]
        updates = []
        original = table.update_cell
        table.update_cell = lambda *args, **kw: (updates.append(args), original(*args, **kw))
        table.sync([("c", ["c", "3"]), ("b", ["b", "2"]), ("a", ["a", Text("9")])])
        await pilot.pause()
        assert shown(table) == [["c", "3"], ["b", "2"], ["a", "9"]]
        assert len(updates) == 1, "only the changed cell is updated"
        table.sync([("b", ["b", "2"])])
        await pilot.pause()
        assert shown(table) == [["b", "2"]]
