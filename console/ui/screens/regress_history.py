"""The runs history (`h` on a run screen): past runs with their pass rates and gate verdicts.
`B` marks the selected run as its suite's baseline and Enter opens its results in a run screen
again. It reads the runs each time it is shown (a run started from here is listed on return).
Its queries run in thread workers: the UI thread never touches the store.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from console.regression.session import RunSession, load_stored_run
from console.sanitize import one_line
from console.ui.screens.regress import RegressRunScreen
from console.ui.widgets.fitted_table import FittedTable
from console.ui.widgets.key_footer import KeyFooter
from console.ui.widgets.pane import hidden_note

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported when the history reads it
    from console.regression import history

LIMIT = 500
HISTORY_COLUMNS = ("run", "started (UTC)", "target", "prompt version", "model", "pass rate", "✓ ✗ !", "gate", "status",
                   "suite")  # fmt: skip


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%m-%d %H:%M:%S")


def load_runs(store_url: str) -> list[history.RunInfo]:
    from console.regression import history
    from console.store import Store

    with Store(store_url) as store:
        return history.list_runs(store, limit=LIMIT)


def mark(store_url: str, run_id: int) -> history.RunInfo:
    from console.regression import history
    from console.store import Store

    with Store(store_url) as store:
        return history.mark_baseline(store, run_id)


class RegressHistoryScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="regress_history.back"),
        Binding("B", "mark_baseline", "Mark as baseline", id="regress_history.mark_baseline"),
        Binding("r", "reload", "Reload", id="regress_history.reload"),
        Binding("enter", "open_run", "Open run", show=False, id="regress_history.open"),
    ]

    DEFAULT_CSS = """
    RegressHistoryScreen #regress-history-title { padding: 0 1; background: $panel; }
    RegressHistoryScreen DataTable { height: 1fr; }
    """

    def __init__(self, store_url: str) -> None:
        super().__init__()
        self.store_url = store_url
        self.runs: list[history.RunInfo] = []
        self._title = ""

    def compose(self) -> ComposeResult:
        yield Static(Text("regression runs: loading…"), id="regress-history-title")
        # whole columns only, the others a ← → away and counted in the title: at 80 columns a
        # DataTable put status and suite past the edge with only a scrollbar to say so
        yield FittedTable(HISTORY_COLUMNS, id="regress-history-table")
        yield KeyFooter()

    def on_screen_resume(self) -> None:
        # each time it is shown, not only the first: a run started from a run opened here (f, R)
        # left it stale until r (Textual resumes a screen after its mount, on every push or pop)
        self.action_reload()

    @property
    def table(self) -> FittedTable:
        return self.query_one("#regress-history-table", FittedTable)

    def action_reload(self) -> None:
        self.run_worker(lambda: load_runs(self.store_url), thread=True, group="regress-history", exclusive=True,
                        name="load runs", exit_on_error=False)  # fmt: skip

    def on_worker_state_changed(self, event) -> None:
        worker = event.worker
        if worker.group != "regress-history" or not worker.is_finished:
            return
        if worker.error is not None:
            self.notify(f"{worker.name}: {worker.error}", title="Runs history", severity="error", markup=False)
            return
        from console.regression import history

        result = worker.result
        if isinstance(result, list):
            self.show_runs(result)
        elif isinstance(result, history.RunInfo):
            self.notify(f"run #{result.id} is now the baseline of {result.suite}", title="Runs history", markup=False)
            self.action_reload()
        elif isinstance(result, RunSession):
            self.app.push_screen(RegressRunScreen(result))

    def show_runs(self, runs: list[history.RunInfo]) -> None:
        self.runs = runs
        rows = []
        for run in runs:
            gate = (run.summary or {}).get("gate", {}).get("passed")
            rows.append((str(run.id), [
                # the run and its star in the first column: the one always shown, and unique
                Text.assemble(("★ ", "bold yellow") if run.is_baseline else "  ", f"#{run.id}"),
                _when(run.started_at),
                Text(one_line(run.target)),
                Text(one_line(run.prompt_version or "—")),
                Text(one_line(run.model or "—")),
                "—" if run.pass_rate is None else f"{run.pass_rate:.1%}",
                f"{run.passed} {run.failed} {run.errored}",
                Text("—") if gate is None else Text("PASS", style="green") if gate else Text("FAIL", style="bold red"),
                Text(run.status, style="dim" if run.status == "finished" else "yellow"),
                Text(one_line(run.suite)),
            ]))  # fmt: skip
        self.table.sync(rows)
        self._title = f"regression runs: {len(runs)}" + (" (newest first)" if runs else " — none yet: press R to run the suite")
        self._show_title()

    def _show_title(self) -> None:
        hidden = hidden_note(self.table.hidden_columns)
        self.query_one("#regress-history-title", Static).update(Text(f"{self._title}  {hidden}" if hidden else self._title))

    def on_fitted_table_columns_fitted(self, event: FittedTable.ColumnsFitted) -> None:
        event.stop()
        if self._title:
            self._show_title()

    def selected(self) -> history.RunInfo | None:
        table = self.table
        if not self.runs or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.runs if str(r.id) == key), None)

    def action_mark_baseline(self) -> None:
        run = self.selected()
        if run is None:
            return
        self.run_worker(lambda: mark(self.store_url, run.id), thread=True, group="regress-history",
                        name="mark baseline", exit_on_error=False)  # fmt: skip

    def action_open_run(self) -> None:
        run = self.selected()
        if run is None:
            return
        self.run_worker(lambda: load_stored_run(self.store_url, run), thread=True, group="regress-history",
                        name="open run", exit_on_error=False)  # fmt: skip

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_run()
