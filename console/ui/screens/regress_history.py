"""The regression runs history: past runs with their pass rates and gate verdicts; `B` marks
the selected run as its suite's baseline, Enter opens its results. Queries run in thread
workers: the UI thread never touches the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datetime import datetime, timezone
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from console.regression.results import Counts
from console.regression.session import CANCELLED, FINISHED, RunSession
from console.sanitize import one_line

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported when the screen reads it
    from console.regression import history

LIMIT = 500


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


def load_session(store_url: str, info: history.RunInfo) -> RunSession:
    from console.regression import history

    """A stored run as a finished session: its results, and its cases when the suite file is
    still readable (for the expected output and the input)."""
    from console.regression.suite import SuiteError, load_suite
    from console.store import Store

    with Store(store_url) as store:
        results = history.load_results(store, info.id)
    cases = {}
    suite = Path(info.suite)
    try:
        cases = load_suite(suite).by_id() if suite.is_file() else {}
    except SuiteError:
        pass
    ordered = list(results.values())
    for result in ordered:
        if result.case_id in cases:
            result.tags = tuple(cases[result.case_id].tags)
    counts = Counts(total=info.total, done=len(ordered), passed=info.passed, failed=info.failed,
                    errored=info.errored, skipped=info.skipped)  # fmt: skip
    elapsed = (info.finished_at or info.started_at) - info.started_at
    title = info.target + (f" @ {info.prompt_version}" if info.prompt_version else "")
    session = RunSession.stored(info.id, title, ordered, counts, cases, elapsed,
                                state=FINISHED if info.status == "finished" else CANCELLED)
    session.stored_summary = info.summary
    return session


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

    def compose(self) -> ComposeResult:
        yield Static(Text("regression runs: loading…"), id="regress-history-title")
        table: DataTable = DataTable(id="regress-history-table", cursor_type="row", zebra_stripes=True)
        for key, label in (("base", "★"), ("id", "run"), ("when", "started (UTC)"), ("target", "target"),
                           ("version", "prompt version"), ("model", "model"), ("rate", "pass rate"),
                           ("counts", "✓ ✗ !"), ("gate", "gate"), ("status", "status"), ("suite", "suite")):
            table.add_column(label, key=key)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    @property
    def table(self) -> DataTable:
        return self.query_one("#regress-history-table", DataTable)

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
            from console.ui.screens.regress import RegressRunScreen

            self.app.push_screen(RegressRunScreen(result))

    def show_runs(self, runs: list[history.RunInfo]) -> None:
        self.runs = runs
        table = self.table
        cursor = table.cursor_row
        table.clear()
        for run in runs:
            gate = (run.summary or {}).get("gate", {}).get("passed")
            table.add_row(
                Text("★", style="bold yellow") if run.is_baseline else "",
                f"#{run.id}",
                _when(run.started_at),
                Text(one_line(run.target)),
                Text(one_line(run.prompt_version or "—")),
                Text(one_line(run.model or "—")),
                "—" if run.pass_rate is None else f"{run.pass_rate:.1%}",
                f"{run.passed} {run.failed} {run.errored}",
                Text("—") if gate is None else Text("PASS", style="green") if gate else Text("FAIL", style="bold red"),
                Text(run.status, style="dim" if run.status == "finished" else "yellow"),
                Text(one_line(run.suite)),
                key=str(run.id),
            )
        if runs:
            table.move_cursor(row=min(cursor, len(runs) - 1))
        title = f"regression runs: {len(runs)}" + (" (newest first)" if runs else " — none yet: press R to run the suite")
        self.query_one("#regress-history-title", Static).update(Text(title))

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
        self.run_worker(lambda: load_session(self.store_url, run), thread=True, group="regress-history",
                        name="open run", exit_on_error=False)  # fmt: skip

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_run()
