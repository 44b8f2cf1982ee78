"""The main screen: live status, the requests pane and the filter box."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input

from console.analytics.filters import FilterError, near_names, parse_filter
from console.sanitize import one_line
from console.sources.base import RejectedLine
from console.analytics.report_types import Report
from console.analytics.windows import next_window
from console.analytics.compare_arms import RegistryOrder, compare_arms, worse_versions
from console.live.figures_clock import FIXED, FiguresClock
from console.live.events import HistoryLoaded, IngestFailed, ReceiverState, RecordsArrived, ReportReady
from console.ui.formatting import moment_text
from console.ui.widgets.budget_pane import BudgetPane
from console.ui.widgets.diff_table import DiffTable
from console.ui.widgets.incident_summary import IncidentSummary
from console.ui.widgets.key_footer import KeyFooter
from console.ui.widgets.latency_pane import LatencyPane
from console.ui.widgets.pane import CompareRequested, FilterRequests, Pane
from console.ui.widgets.versions_pane import VersionsPane
from console.ui.screens.labelled_detail import LabelledDetailScreen
from console.ui.screens.rejected import RejectedLinesScreen
from console.ui.widgets.requests_view import RequestsView
from console.ui.widgets.status_header import BEHIND_SHOWN, StatusHeader
from console.ui.widgets.ordered_input import OrderedInput

REJECTED_KEPT = 500
HEADER_TICK = 0.5  # seconds between redraws of the header's live figures (rows/s, stored)
UPGRADED_SHOWN_S = 15.0  # the notification that the store was upgraded, from the dashboard's mount at the earliest
FILTER_PLACEHOLDER = "filter: model:gpt-4o status:error version:v8 latency>2s refund   (enter applies, esc cancels)"


class DashboardScreen(Screen):
    BINDINGS = [
        # priority: the app runs it as it reads the "/", before it hands on the keys queued
        # behind it (typed fast, or batched by a slow SSH link), so they reach the filter.
        Binding("slash", "filter", "Filter", id="dashboard.filter", priority=True),
        Binding("space", "toggle_pause", "Pause", id="dashboard.pause"),
        Binding("w", "cycle_window", "Window", id="dashboard.window"),
        Binding("m", "maximize_pane", "Maximize", id="dashboard.maximize"),
        Binding("x", "show_rejected", "Rejected", id="dashboard.rejected"),
        Binding("t", "app.triage", "Triage", id="dashboard.triage"),
        Binding("p", "show_prompts", "Prompts", id="dashboard.prompts"),
        Binding("a", "app.show_alerts", "Alerts", id="dashboard.alerts"),
        # the summary line's "c: compare" (the Versions and Latency panes' own c comes first)
        Binding("c", "compare_flagged", "Compare the flagged version", show=False,
                id="dashboard.compare_flagged"),
        Binding("1", "focus_pane('requests')", "Requests", show=False, id="dashboard.requests"),
        Binding("2", "focus_pane('budget')", "Budget", show=False, id="dashboard.budget"),
        Binding("3", "focus_pane('latency')", "Latency", show=False, id="dashboard.latency"),
        Binding("4", "focus_pane('versions')", "Versions", show=False, id="dashboard.versions"),
        Binding("escape", "clear_filter", "Back / clear filter", show=False, id="dashboard.clear_filter"),
    ]
    # Below 120 columns the side panes share one slot: the one last focused (keys 2-4).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    def __init__(self, store_url: str, sources: list[str], capacity: int) -> None:
        super().__init__()
        self.store_url = store_url
        self.sources = sources
        self.capacity = capacity
        self.paused = False
        self._held_count = 0
        self.rejected: list[RejectedLine] = []
        self.rejected_total = 0
        self.report: Report | None = None
        self.report_partial = False
        self._shown_ready: ReportReady | None = None  # redrawn when the tail starts or stops catching up
        self._shown_partial = False
        self.registry_order: dict[str, RegistryOrder] | None = None  # what `c` compares a version with
        self._pending_report: ReportReady | None = None
        self._pending_trouble: str | None = None  # the store's trouble (or upgrade) before compose
        self._pending_upgraded: str | None = None  # the store's upgrade, over before compose
        self._pending_history: HistoryLoaded | None = None
        self._requests: RequestsView | None = None  # for rows_committed, off the UI thread

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.store_url, self.sources, id="status")
        yield IncidentSummary(id="incident-summary")  # the four questions in words, every width
        with Horizontal(id="main"):
            yield RequestsView(capacity=self.capacity, id="requests")
            with Vertical(id="side"):
                yield BudgetPane(id="budget", classes="-current")
                yield LatencyPane(id="latency")
                yield VersionsPane(id="versions")
        yield OrderedInput(placeholder=FILTER_PLACEHOLDER, id="filter")  # ctrl+u then fast typing keeps it all
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self._requests = self.requests_view
        self.set_interval(HEADER_TICK, self.status_header.redraw)
        self.requests_view.border_title = "Requests"
        self.requests_view.focus()
        self.status_header.redraw()
        # what came before compose, unless a newer one was drawn since (a stale report drawn
        # here once replaced the seeded figures until the next recompute, which a stopped
        # clock never makes)
        history, self._pending_history = self._pending_history, None
        if history is not None:
            self.show_history(history)
        report, self._pending_report = self._pending_report, None
        if report is not None:
            self.show_report(report)
        trouble, self._pending_trouble = self._pending_trouble, None
        if trouble is not None:
            self.show_store_trouble(trouble)
        upgraded, self._pending_upgraded = self._pending_upgraded, None
        if upgraded is not None:
            self.show_store_upgraded(upgraded)

    @property
    def requests_view(self) -> RequestsView:
        return self.query_one("#requests", RequestsView)

    @property
    def ready(self) -> bool:
        """Its widgets exist: worker messages can come before compose and after unmount."""
        return bool(self.query(StatusHeader))

    @property
    def status_header(self) -> StatusHeader:
        return self.query_one("#status", StatusHeader)

    # -- what the ingest worker sends (forwarded by the app) ------------------------

    def rows_committed(self) -> None:
        """Called on the ingest thread after each commit that added rows: the requests
        view's pager looks for them (no DOM query here: that is the UI thread's)."""
        view = self._requests
        if view is not None:
            view.rows_committed()

    def show_history(self, loaded: HistoryLoaded) -> None:
        if not self.ready:
            self._pending_history = loaded  # not composed yet: shown on mount
            return
        self._pending_history = None
        clock = self._figures_clock()
        if clock is not None and clock.mode == FIXED:  # open --at: the rows up to the figures' moment only
            self.requests_view.until = clock.now
        self.requests_view.start(self.app.store_url)  # the ingest thread has opened (or made) the store
        self._add_rejected(loaded.rejected, loaded.rejected_total)
        self.status_header.stored = loaded.stored
        self._refresh_titles()
        self.status_header.redraw()

    def show_arrivals(self, arrived: RecordsArrived) -> None:
        header = self.status_header
        header.sources = arrived.sources
        header.stored += arrived.added
        header.record_arrivals(arrived.added)
        self._add_rejected(arrived.rejected, self.rejected_total + len(arrived.rejected))
        if self._shown_ready is not None and not self._shown_partial and self.figures_partial():
            # the report came before the tail said how far behind it is (the demo's first
            # seconds: 'OK · $0 in 1h', '✓ bad' over 0 rows while 5,000 lines waited). Not the
            # other way: the report drawn is older than the rows just caught up with (redrawn
            # as whole, it said OK over 30,000 of 46,000 rows); the next one is whole
            self.show_report(self._shown_ready)
        if self.paused:
            self._held_count += arrived.added  # rows decoded by the tail's decoding process come as a count
            header.held = self._held_count
        # the requests view hears of new rows from the ingest thread (rows_committed); the
        # header's figures are redrawn by HEADER_TICK, not per batch: at 5,000 rows/s a
        # redraw per batch would be most of the UI thread's work

    def show_report(self, ready: ReportReady) -> None:
        if not self.ready or not self.query(BudgetPane) or not all(pane.is_mounted for pane in self.query(Pane)):
            self._pending_report = ready  # not composed yet (or closing): drawn on mount
            return
        self._pending_report = None  # older than this one
        self.report = ready.report
        self.registry_order = ready.registry_order
        self.report_partial = ready.partial  # the figures lack rows still loading (no verdicts)
        self._shown_ready = ready
        partial = self._shown_partial = self.figures_partial()
        for pane in (BudgetPane, LatencyPane):
            self.query_one(pane).show(ready.report, partial=partial)
        self.query_one(VersionsPane).show(ready.report, ready.registry_marks, ready.registry_order)
        self.query_one(IncidentSummary).show(ready.report, ready.registry_order, partial=partial)
        self.status_header.window = ready.window
        # budget verdicts on partial figures are withheld (the Budget pane says PARTIAL)
        self.status_header.alerts = [a for a in ready.report.alerts if not (partial and a.kind == "budget")]
        self.status_header.partial = partial
        self.status_header.redraw()

    def figures_partial(self) -> bool:
        """No verdict is known yet: the history is loading, the tail is catching up, or the
        tail has not read its files once yet (their lines are in no figure)."""
        tail_unread = bool(self.sources) and not self.status_header.sources
        return self.report_partial or self.tail_behind() or tail_unread

    def tail_behind(self) -> bool:
        """The tail is still catching up on lines already written (a backfill): the figures
        lack them."""
        return sum(source.behind_lines for source in self.status_header.sources) >= BEHIND_SHOWN

    def show_store_trouble(self, reason: str | None) -> None:
        if not self.ready:
            # an upgrade of the store starts before the screen is composed and lasts a minute
            # at 10M rows: the header says so once it exists
            self._pending_trouble = reason
            return
        self.status_header.store_trouble = reason
        self.status_header.redraw()

    def show_store_upgraded(self, text: str) -> None:
        """A notification, not the header: the header's 'upgrading' line lasts as long as the
        upgrade, which a small store finishes before the first frame. Raised once the screen
        exists, so its seconds are counted from then."""
        if not self.ready:
            self._pending_upgraded = text
            return
        self.notify(text, title="Store upgraded", timeout=UPGRADED_SHOWN_S, markup=False)

    def show_receiver(self, state: ReceiverState) -> None:
        self.status_header.receiver = state
        self.status_header.redraw()

    def show_failure(self, failed: IngestFailed) -> None:
        self.status_header.error = failed.reason
        self.status_header.redraw()

    def _add_rejected(self, rejected: list[RejectedLine], total: int) -> None:
        if rejected:
            self.rejected = (list(reversed(rejected)) + self.rejected)[:REJECTED_KEPT]
        self.rejected_total = total
        self.status_header.rejected_total = total

    @on(RequestsView.Counted)
    def _refresh_titles(self) -> None:
        view = self.requests_view
        shown, total = view.row_count, self.status_header.stored
        if view.history_left > 0:
            scanned = 100 * (1 - view.history_left)
            subtitle = f"{shown:,} so far · {'searching' if view.filtered else 'loading'} the history {scanned:.0f}%"
        elif view.filtered:
            subtitle = f"{shown:,} of {total:,} shown"
        else:
            subtitle = f"{shown:,} shown"
        clock = self._figures_clock()
        if view.until is not None and clock is not None and clock.mode == FIXED:
            # the rows stamped later are in the store (and the header's count), in no figure
            subtitle += f" · up to {moment_text(clock.now(), time.time())} (--at)"
        view.border_subtitle = subtitle

    # -- actions -----------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus:  # a priority binding sees the key typed into the filter too: the
            raise SkipAction  # box gets it (whatever key a keymap gave the filter)
        box.display = True
        self.set_focus(box)  # at once: focus() would wait behind the keys already queued

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.display = False
            self.requests_view.focus()
            return
        if box.value:
            box.value = ""
            self.apply_filter("")

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self.apply_filter(event.value):
            event.input.display = False
            self.requests_view.focus()

    def apply_filter(self, text: str) -> bool:
        now = self._figures_now()
        try:
            # since:1h is measured from the panes' now, once: the bound stays put (the title says it)
            record_filter = parse_filter(text, now)
        except FilterError as exc:
            self.notify(str(exc), title="Filter", severity="error", markup=False)
            return False
        report = self.report
        if report is not None:  # model:gpt was a part of a name once: say what names it now
            models, prompts = report.latency.by_model, (row.prompt_id for row in report.versions)
            for hint in near_names(record_filter, models, prompts):
                self.notify(hint, title="Filter", severity="warning", markup=False)
        view = self.requests_view
        view.set_filter(record_filter)
        # the filter can hold a version name from the logs: never parsed as markup
        title = f"Requests · filter: {one_line(record_filter.text)}"
        if record_filter.relative_since and record_filter.since is not None:
            title += f" (from {moment_text(record_filter.since, now)})"
        view.border_title = Text(title) if record_filter else "Requests"
        self._refresh_titles()
        return True

    def _figures_now(self) -> float:
        """The moment the panes' figures end at (console.live.figures_clock): a relative
        since: starts where their window does, on the wall clock, an anchored or a replay's."""
        clock = self._figures_clock()
        return clock.now() if clock is not None else time.time()

    def _figures_clock(self) -> FiguresClock | None:
        return getattr(getattr(self.app, "feed", None), "clock", None)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        header = self.status_header
        self.requests_view.set_paused(self.paused)
        if not self.paused:
            self._held_count = 0
            header.held = 0
            self._refresh_titles()
        header.paused = self.paused

    def action_cycle_window(self) -> None:
        self.app.set_window(next_window(self.status_header.window))

    def action_maximize_pane(self) -> None:
        focused = self.focused
        if self.maximized is not None:
            self.minimize()
        elif focused is not None:
            self.maximize(focused)

    def action_focus_pane(self, name: str) -> None:
        if name == "requests":
            target = self.requests_view
        else:
            pane = self.query_one(f"#{name}", Pane)
            for other in self.query(Pane):
                other.set_class(other is pane, "-current")
            target = pane.query(DiffTable).first() if pane.query(DiffTable) else pane
        if self.maximized is not None:
            # the maximized view shows the pane the key names: focus on a pane hidden behind
            # it made the next keys (j, Enter, c) act on what was not on screen
            self.maximize(target)
        target.focus()

    @on(FilterRequests)
    def _filter_requests(self, event: FilterRequests) -> None:
        self.filter_requests(event.text)

    def filter_requests(self, text: str) -> None:
        """The requests view filtered to `text`, shown and focused (a pane's Enter, an alert's)."""
        box = self.query_one("#filter", Input)
        box.value = text
        if self.apply_filter(text):
            if self.maximized is not None:
                self.minimize()
            self.requests_view.focus()

    @on(CompareRequested)
    def _compare_requested(self, event: CompareRequested) -> None:
        if event.before_after:
            self.app.request_change_compare("model" if event.kind == "model" else "prompt", event.name)
            return
        arms = compare_arms(self.report, event.kind, event.name, self.registry_order)
        if arms is None:
            self.notify(f"nothing to compare {event.name} with yet", title="Compare", markup=False)
            return
        self.app.request_compare(*arms)

    def action_compare_flagged(self) -> None:
        """The version the summary's ! bad line names (worse_versions' first) with its previous."""
        worse = worse_versions(self.report, self.registry_order) if self.report is not None else []
        if not worse:
            self.notify("no prompt version is flagged worse than its previous one; to compare one: "
                        "4 (Versions), its row, c", title="Compare", markup=False)  # fmt: skip
            return
        self.post_message(CompareRequested("version", worse[0].name))

    def action_show_prompts(self) -> None:
        from console.config import Settings
        from console.prompts.registry import registry_root
        from console.ui.screens.prompts import PromptsScreen

        settings = getattr(self.app, "settings", None) or Settings()
        root = registry_root(settings.prompts.path, settings.source)
        report = self.report
        self.app.push_screen(PromptsScreen(root, report.versions if report else (),
                                           store_url=getattr(self.app, "store_url", None),
                                           window=report.window.name if report else ""))  # fmt: skip

    def action_show_rejected(self) -> None:
        self.app.push_screen(RejectedLinesScreen(self.rejected, self.rejected_total))

    def action_open_current(self) -> None:
        self.requests_view.action_open()

    @on(RequestsView.Opened)
    def _open_request(self, event: RequestsView.Opened) -> None:
        self.app.push_screen(LabelledDetailScreen(event.record))
