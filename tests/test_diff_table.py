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


class FixedSizeTableApp(TableApp):
    # a pane's table keeps its size as rows come: no Resize event to drop what was drawn
    CSS = "DiffTable { height: 6; width: 60; }"


def drawn_lines(table: DiffTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.row_count + 1)]


async def test_rows_drawn_before_the_columns_are_measured_are_redrawn_at_full_width():
    """DataTable measures new cells when idle but caches what it drew before by a counter the
    measuring does not move: a pane drawn between sync and idle kept every cell cut to its
    header's width (the dashboard's Versions pane, 1 snapshot in 4)."""
    app = FixedSizeTableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(DiffTable)
        table.sync([("support-answer@v7", ["support-answer@v7", "0.40s"])])
        drawn_lines(table)  # a paint before the idle measurement: Textual draws 'supp' here
        await pilot.pause()
        assert "support-answer@v7" in drawn_lines(table)[1]
        assert "0.40s" in drawn_lines(table)[1]
        # a cell grown by an update is measured the same way
        table.sync([("support-answer@v7", ["support-answer@v7", "10.40s"])])
        drawn_lines(table)
        await pilot.pause()
        assert "10.40s" in drawn_lines(table)[1]
