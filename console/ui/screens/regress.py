"""The regression run screen: live progress and each case's result as it lands. Its `h` opens
the runs history (ui/screens/regress_history.py), whose Enter opens a past run in a run screen.

    screen = RegressRunScreen.start(plan, store_url)   # a new run (console.regression.plan)
    app.push_screen(screen)
    screen.session.status_line()                       # for the header, while it runs

The run is a Textual thread worker owned by the app, not by this screen: Esc leaves the
screen and the run goes on; a new RegressRunScreen(session) shows it again, every case so
far included. The app's shutdown cancels the worker, which stops the run cleanly. The table
takes the cases that landed since the last tick, four times a second.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, ProgressBar, Static
from textual.worker import get_current_worker

from console.regression.baseline import REGRESSION
from console.regression.plan import RunPlan
from console.regression.results import CaseResult
from console.regression.session import FAILED, RunSession, SuiteReport, clock
from console.sanitize import one_line
from console.ui.screens.regress_case import RegressCaseScreen
from console.ui.screens.regress_next import FailingRunOffer, gate_failed
from console.ui.screens.regress_rows import COLUMNS, WHY, case_cells, why_room, widest
from console.ui.widgets.key_footer import KeyFooter
from console.ui.widgets.nav_table import NavTable

REFRESH_S = 0.25
KIND_STYLE = {REGRESSION: "bold red", "fix": "green", "still-failing": "red", "stable": "dim", "new": "cyan",
              "errored": "bold magenta", "skipped": "yellow"}  # fmt: skip


def summary_text(data: dict) -> Text:
    """The run's summary (RunReport.summary(), as stored): pass rates, the comparison, the gate."""
    comparison = data.get("comparison") or {}
    text = Text()
    rate = comparison.get("pass_rate") or {}
    if rate.get("rate") is not None:
        low, high = rate["wilson_95"]
        text.append(f"pass rate {rate['rate']:.1%} ({rate['passed']}/{rate['evaluated']}; 95% CI {low:.0%}–{high:.0%})")
    baseline = comparison.get("baseline_pass_rate") or {}
    if comparison.get("baseline_run_id") is not None and baseline.get("rate") is not None:
        text.append(f"   baseline #{comparison['baseline_run_id']}: {baseline['rate']:.1%}")
        if comparison.get("delta") is not None:
            text.append(f" ({comparison['delta'] * 100:+.1f} pts)")
        text.append("\n" + ", ".join(f"{n} {k}" for k, n in (comparison.get("counts") or {}).items() if n))
        if comparison.get("mcnemar_p") is not None:
            text.append(f"; McNemar exact p = {comparison['mcnemar_p']:.3g} (advisory)", style="dim")
    gate = data.get("gate") or {}
    text.append("\ngate: ")
    text.append("PASS" if gate.get("passed") else "FAIL", style="bold green" if gate.get("passed") else "bold red")
    for reason in gate.get("reasons", []):
        text.append(f"\n  ✗ {one_line(reason)}", style="red")
    for note in gate.get("notes", []):
        text.append(f"\n  · {one_line(note)}", style="dim")
    return text


NOT_RUN_SHOWN = 6  # lines of tests not run on the run screen; `regress --json` lists them all


def suite_report_text(report: SuiteReport) -> Text:
    """The suite's notes, then the tests that are not run, each with its reason (promptfoo suites)."""
    text = Text()
    for note in report.notes:
        text.append(f"suite: {one_line(note)}\n", style="dim")
    for label, problem in report.problems[:NOT_RUN_SHOWN]:
        text.append(f"{label}: ", style="bold yellow")
        text.append(one_line(problem) + "\n", style="yellow")
    if len(report.problems) > NOT_RUN_SHOWN:
        text.append(f"… and {len(report.problems) - NOT_RUN_SHOWN} more not run (regress --json lists them all)\n", style="yellow")
    text.rstrip()
    return text


def start_worker(app, session: RunSession) -> None:
    """Run the session in an app-level thread worker; the app's shutdown stops it."""

    def work() -> None:
        worker = get_current_worker()
        session.run(is_cancelled=lambda: worker.is_cancelled)

    app.run_worker(work, thread=True, group="regress", name=f"regress {session.title}", exit_on_error=False)


class RegressRunScreen(FailingRunOffer, Screen):
    BINDINGS = [
        # finished, the footer read 'esc Back (the run goes on)  s Stop the run': see check_action;
        # the help lists both escapes, each with its tooltip, when it applies (help.does)
        # q as on every pushed screen: it fell through to the app's Quit (a user trial lost the demo's store)
        Binding("escape,q", "leave('running')", "Back (the run goes on)", tooltip="while it runs", id="regress.back"),
        Binding("escape,q", "leave('finished')", "Back", tooltip="once the run is over", id="regress.back_finished"),
        Binding("s", "stop", "Stop the run", id="regress.stop"),
        Binding("h", "history", "Runs history", id="regress.history"),
        Binding("f", "run_candidate", "Run the candidate", id="regress.run_candidate"),
        Binding("enter", "open_case", "Open case", show=False, id="regress.open_case"),
    ]

    DEFAULT_CSS = """
    RegressRunScreen #regress-progress-line { padding: 0 1; background: $panel; height: auto; }
    RegressRunScreen ProgressBar { padding: 0 1; }
    RegressRunScreen DataTable { height: 1fr; }
    RegressRunScreen #regress-summary { padding: 0 1; height: auto; max-height: 12; }
    RegressRunScreen #regress-offer { padding: 0 1; height: auto; display: none; }
    RegressRunScreen #regress-not-run { padding: 0 1; height: auto; max-height: 30%; display: none; }
    """

    def __init__(self, session: RunSession, *, launch: bool = False) -> None:
        super().__init__()
        self.session = session
        self._launch = launch
        self._shown = 0
        self._finished_drawn = False
        self._vs: dict[str, Text] = {}  # vs baseline, per case: known once the run is compared
        self._widths: list[int] | None = None  # the widest cell of each column before the why
        self._why_width: int | None = None  # cells the why is fitted to (None: not laid out yet)
        self._suite_report_drawn: SuiteReport | None = None

    @classmethod
    def start(cls, plan: RunPlan, store_url: str) -> RegressRunScreen:
        return cls(RunSession(plan, store_url), launch=True)

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="regress-progress-line")
        yield ProgressBar(total=None, show_eta=False, id="regress-progress")
        yield Static(Text(""), id="regress-not-run")
        table: DataTable = NavTable(id="regress-table", cursor_type="row", zebra_stripes=True)
        self._add_columns(table)
        yield table
        yield Static(Text(""), id="regress-summary")
        yield Static(Text(""), id="regress-offer")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self._launch:
            self._launch = False
            start_worker(self.app, self.session)
        self.refresh_progress()
        self.set_interval(REFRESH_S, self.refresh_progress)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_why)

    @property
    def table(self) -> DataTable:
        return self.query_one("#regress-table", DataTable)

    # -- drawing -----------------------------------------------------------------------

    def refresh_progress(self) -> None:
        snap = self.session.snapshot()
        c = snap.counts
        line = Text.assemble(
            (f"run #{snap.run_id} " if snap.run_id else "run ", "bold"), (one_line(self.session.title), "cyan"),
            f"  {c.done}/{c.total}  ", (f"✓ {c.passed}", "green"), "  ", (f"✗ {c.failed}", "red"), "  ",
            (f"! {c.errored} errored", "magenta"), f"  {c.skipped} skipped" if c.skipped else "",
            f"  {clock(snap.elapsed_s)}  {snap.rate:,.1f} cases/s", ("  " + snap.state, "bold" if snap.active else "dim"),
        )  # fmt: skip
        self.query_one("#regress-progress-line", Static).update(line)
        bar = self.query_one("#regress-progress", ProgressBar)
        if c.total:
            bar.update(total=c.total, progress=c.done)
        self._draw_suite_report()
        new = self.session.results[self._shown:]
        if new:
            self._add_rows(new)
        if not snap.active and not self._finished_drawn:
            self._finished_drawn = True
            self.refresh_bindings()
            if not self._shown and self.session.results:
                self._add_rows(self.session.results)
            self._draw_summary(snap)
        self._fit_why()

    def _draw_suite_report(self) -> None:
        report = self.session.suite_report
        if report == self._suite_report_drawn:
            return
        self._suite_report_drawn = report
        shown = self.query_one("#regress-not-run", Static)
        shown.update(suite_report_text(report))
        shown.display = bool(report)

    def _add_columns(self, table: DataTable) -> None:
        for key, label in COLUMNS:
            table.add_column(label, key=key, width=self._why_width if key == WHY else None)

    def _add_rows(self, results: list[CaseResult]) -> None:
        table = self.table
        rows = [case_cells(result, self._vs.get(result.case_id), self._why_width) for result in results]
        for result, cells in zip(results, rows):
            table.add_row(*cells, key=result.case_id)
        self._widths = widest(rows, self._widths)
        self._shown += len(results)

    def _fit_why(self, *, again: bool = False) -> None:
        """Give the why the width the other columns leave: when that changed (a resize, a longer
        case id, the vs baseline column filled in, the scrollbar appearing), the rows are drawn
        again with their why fitted to it."""
        table = self.table
        width = table.size.width
        if table.row_count + table.header_height > table.size.height:  # the vertical scrollbar's cells
            width -= table.styles.scrollbar_size_vertical
        room = why_room(width, self._widths or widest([]), table.cell_padding)
        if room == self._why_width and not again:
            return
        self._why_width = room
        cursor = table.cursor_row
        table.clear(columns=True)  # a column's width only grows: a narrower why needs new columns
        self._add_columns(table)
        shown, self._shown = self.session.results[: self._shown], 0
        self._add_rows(shown)
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1), animate=False)

    def _draw_summary(self, snap) -> None:
        summary = self.query_one("#regress-summary", Static)
        if snap.state == FAILED:
            summary.update(Text(f"could not run: {one_line(snap.error or '')}", style="bold red"))
            return
        report = self.session.report
        data = report.summary() if report is not None else self.session.stored_summary
        if not data:
            return
        comparison = data.get("comparison") or {}
        changes = {c["case_id"]: c for c in comparison.get("cases", [])}
        for result in self.session.results:
            change = changes.get(result.case_id, {"kind": "stable"})
            label = change["kind"]
            if change.get("rate_dropped") and label != REGRESSION:
                label += f" ↓{change['baseline_pass_rate']:.0%}→{change['pass_rate']:.0%}"
            self._vs[result.case_id] = Text(label, style=KIND_STYLE.get(change["kind"], ""))
            self.table.update_cell(result.case_id, "vs", self._vs[result.case_id])
        widths = widest([[Text(""), Text(""), label] for label in self._vs.values()], self._widths)
        if widths != self._widths:  # a label wider than the column: the columns are laid out again
            self._widths = widths
            self._fit_why(again=True)
        summary.update(summary_text(data))
        if gate_failed(self.session):
            self.find_offer()

    # -- actions -----------------------------------------------------------------------

    def result_at_cursor(self) -> CaseResult | None:
        table = self.table
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.session.results if r.case_id == key), None)

    def action_open_case(self) -> None:
        result = self.result_at_cursor()
        if result is not None:
            self.app.push_screen(RegressCaseScreen(result, self.session.cases.get(result.case_id)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_case()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("stop", "leave"):  # s and Esc's 'the run goes on' while running, plain Back after
            return (action == "stop" or parameters == ("running",)) == (not self._finished_drawn)
        return super().check_action(action, parameters)

    def action_stop(self) -> None:
        if self.session.snapshot().active:
            self.session.cancel()
            self.notify("stopping the run…", title="Regression", markup=False)

    def action_leave(self, _when: str = "") -> None:
        if self.session.snapshot().active:
            self.notify(self.session.status_line() + " (continues in the background)", title="Regression", markup=False)
        self.app.pop_screen()

    def action_history(self) -> None:
        store_url = self.session.store_url
        if store_url is not None:
            # imported here: the history imports this module to open a past run in a run screen
            from console.ui.screens.regress_history import RegressHistoryScreen

            self.app.push_screen(RegressHistoryScreen(store_url))
