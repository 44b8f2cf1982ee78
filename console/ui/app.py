"""The console's Textual app: screens, the ingest worker, help and the command palette (the
regression suite's `R` and launch: console/ui/regress_actions.py)."""

from __future__ import annotations

import gc
import re
from typing import TYPE_CHECKING, Iterable

from textual import events
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from console.malloc import fix_mmap_threshold
from console.analytics.prices import Pricer
from console.live.ingest_thread import run_ingest
from console.config import Settings
from console.sources.otlp import OtlpOptions
from console.live.otlp_inbox import OtlpInbox
from console.live.analytics_feed import AnalyticsFeed
from console.live.figures_clock import WALL, FiguresClock
from console.ui.messages import (
    CaseEditReady, CompareReady, EvaluationNotice, HistoryLoaded, HistoryProgress, IngestFailed, LabelDone, LabelFound,
    NotifyPending, QueueReady, ReceiverState, RecordsArrived, ReportReady, ScoringProgress, StoreTrouble,
    StoreUpgraded, poster,
)
from console.formatting import parse_rfc3339
from console.ui.screens.alerts import AlertsScreen
from console.ui.compare_requests import CompareRequests
from console.ui.screens.dashboard import DashboardScreen
from console.ui.screens.help import BindingScope, HelpScreen
from console.ui.widgets.requests_view import RequestsView
from console.ui.evaluation_app import EvaluationUI
from console.live.evaluation_feed import EvaluationFeed
from console.ui.screens.help_columns import ColumnsHelpScreen
from console.ui.read_only import WRITING_ACTIONS, without_writing
from console.ui.key_order import KeysInOrder
from console.ui.key_scopes import console_binding_scopes
from console.ui.no_color import legible_filters
from console.ui.palette_commands import console_commands, without_textual_keys
from console.ui.regress_actions import RegressionSuiteActions

if TYPE_CHECKING:
    from console.evaluation.triage import Queue

REPLAY_LAST_HOUR = "replay-last-hour"  # what the app returns when the palette asks for a replay
EVALUATION_AT_THE_LATEST = 15.0  # seconds after the store opened, even if the window is still loading


# The middle generation is collected after this many young ones (Python's default: 10).
# Textual's Strips reference themselves through their caches, so every line drawn is cyclic
# garbage; with the default, a strip living a frame or two (0.1-0.3 s) outlived two
# collections and was promoted to the old generation, and at 5,000 rows/s the old generation
# was collected every 0.8 s, 21-44 ms each time on the UI thread (gc.callbacks): the loop
# lag's p99. With 100 the middle collection runs about twice a second (3 ms, at most ~13 ms)
# and frees those strips itself; full collections fell from 52 to 5 in 40 s.
YOUNG_COLLECTIONS_PER_MIDDLE = 100

_gc_frozen = False


def freeze_startup_objects() -> None:
    """Keep the objects alive at start-up (modules, classes, functions: ~150k) out of the
    cyclic GC's full collections. Unfrozen, each full collection walked them all and held
    the GIL for 150-200 ms (a dozen times a minute at 5,000 rows/s): every thread stalled,
    the event loop and the tail's commits alike. Once per process: a later app's freeze
    would pin the earlier apps' garbage (tests run many apps in one process). The middle
    generation's threshold is raised at the same time (YOUNG_COLLECTIONS_PER_MIDDLE)."""
    global _gc_frozen
    if not _gc_frozen:
        _gc_frozen = True
        gc.freeze()
        gc.set_threshold(gc.get_threshold()[0], YOUNG_COLLECTIONS_PER_MIDDLE, *gc.get_threshold()[2:])


def mask_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", url)


class ConsoleApp(RegressionSuiteActions, KeysInOrder):
    TITLE = "llmops-console"
    CSS_PATH = "console.tcss"

    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("R", "regress", "Run suite", id="app.regress"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        sources: list[str],
        store_url: str,
        *,
        capacity: int = 5000,
        keymap: dict[str, str] | None = None,
        pricer: Pricer | None = None,
        settings: Settings | None = None,
        window: str = "1h",
        source_format: str = "auto",
        otlp_inbox: OtlpInbox | None = None,
        otlp_notice: str | None = None,
        read_only: bool = False,
        at: float | None = None,
    ) -> None:
        super().__init__()
        self.read_only = read_only  # `serve`: no labelling, no regression runs (ui/read_only.py)
        self.otlp_inbox = otlp_inbox  # spans apps post to the OTLP receiver (cli.py starts it)
        self.otlp_notice = otlp_notice  # where apps send them, told once mounted
        self.sources = sources
        self.store_url = store_url
        self.capacity = capacity
        self.source_format = source_format  # "auto", "jsonl" or "otlp" (console.sources.detect)
        self.pricer = pricer  # prices records without cost_usd as they are tailed (None: no pricing)
        self.settings = settings or Settings()
        self.regress_session = None  # the latest regression run started from `R`
        self._history_loaded = False
        # at: the figures as of that moment (--at), else the wall clock or the logs' end (FiguresClock)
        self.feed = AnalyticsFeed(poster(self), self.settings, window, max_rows=self.settings.ui.window_max_rows,
                                  clock=FiguresClock(at))
        self.evaluation = EvaluationFeed(poster(self), self.settings, store_url, self.feed)
        self.evaluation_ui = EvaluationUI(self, self.evaluation)
        self.compares = CompareRequests(self, self.feed)  # each opened at the key, filled when computed
        self.dashboard = DashboardScreen(mask_password(store_url), sources, capacity)
        if keymap:
            self.set_keymap(keymap)

    def get_default_screen(self) -> Screen:
        return self.dashboard

    def on_mount(self) -> None:
        fix_mmap_threshold()  # before the workers' big arrays: a console runs for hours
        for warning in self.settings.warnings:  # unknown keys in llmops.toml (ignored)
            self.notify(warning, title="Config", severity="warning", timeout=15, markup=False)
        if self.otlp_notice:
            self.notify(self.otlp_notice, title="Receiving OTLP/HTTP", timeout=15, markup=False)
        self.set_interval(1.0, self._regress_status)
        self.run_worker(self._ingest, thread=True, exclusive=True, name="ingest", group="ingest")
        self.run_worker(self._analytics, thread=True, exclusive=True, name="analytics", group="analytics")
        self.run_worker(self._notify_watch, thread=True, exclusive=True, name="notify", group="notify")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.evaluation.user_active()  # a backlog's scoring steps aside while the user works
        await super().on_event(event)

    def _ingest(self) -> None:
        worker = get_current_worker()
        run_ingest(
            poster(self),
            lambda: worker.is_cancelled,
            self.sources,
            self.store_url,
            self.pricer,
            self.feed,
            source_format=self.source_format,
            committed=self.dashboard.rows_committed,
            otlp_options=OtlpOptions.from_settings(self.settings.otel),  # llmops.toml's [otel]
            otlp_inbox=self.otlp_inbox,
        )

    def _analytics(self) -> None:
        worker = get_current_worker()
        self.feed.run(lambda: worker.is_cancelled)

    def _notify_watch(self) -> None:
        """Alert messages `check --notify` left undelivered, for the header (console/live/notify_watch.py):
        those of the webhooks configured here, or any when none is."""
        from console.live.notify_watch import watch_notify

        worker = get_current_worker()
        urls = [target.url for target in self.settings.notify] or None
        watch_notify(poster(self), lambda: worker.is_cancelled, self.store_url, urls)

    def set_window(self, name: str) -> None:
        self.feed.set_window(name)
        self.dashboard.status_header.window = name
        self.dashboard.status_header.redraw()

    def request_compare(self, a: str, b: str, title: str, replacing: Screen | None = None) -> None:
        self.compares.arms(a, b, title, replacing)

    def request_change_compare(self, kind: str, name: str) -> None:
        self.compares.change(kind, name)

    def action_compare_latest_change(self) -> None:
        report = self.dashboard.report
        if report is None or not report.change_points:
            self.notify("no change point seen yet", title="Compare", markup=False)
            return
        latest = report.change_points[0]
        self.request_change_compare("model" if latest.kind == "model" else "prompt", latest.name)

    def on_report_ready(self, message: ReportReady) -> None:
        ready = message.event
        if self.dashboard.ready:  # a report can come after the dashboard closed (the app quitting)
            header = self.dashboard.status_header
            header.clock_note = self.feed.clock.note()  # anchored, --at
            # requests stamped after now, in no figure: said on the wall clock only (after --at or
            # in a replay the store holds later rows by design; anchored, none is later)
            header.after_now = ready.report.after_now if self.feed.clock.mode == WALL else None
        self.dashboard.show_report(ready)
        top = self.screen_stack[-1] if self.screen_stack else None  # none once the app is quitting
        if isinstance(top, AlertsScreen):
            top.show(ready.report.alerts, parse_rfc3339(ready.report.window.end))
        if not ready.partial and self._history_loaded:
            # the window is whole (or empty: a log older than the window, which waited for the
            # 15 s fallback and left the queue 'waiting for scores…' that long): scoring no
            # longer slows the first figures
            self.start_evaluation()

    async def on_compare_ready(self, message: CompareReady) -> None:
        await self.compares.arrived(message.event)

    # -- the evaluation side (console/ui/evaluation_app.py) ---------------------------------

    def start_evaluation(self) -> None:
        self.evaluation_ui.start()

    def action_triage(self) -> None:
        self.start_evaluation()  # asked for scores: they start now, whatever the window is doing
        self.evaluation_ui.open_triage()

    @property
    def triage_queue(self) -> Queue | None:
        return self.evaluation_ui.triage_queue

    @property
    def scoring_progress(self) -> tuple[int, int, int] | None:
        return self.evaluation_ui.scoring_progress

    def on_queue_ready(self, message: QueueReady) -> None:
        self.evaluation_ui.show_queue(message.event)

    def on_scoring_progress(self, message: ScoringProgress) -> None:
        self.evaluation_ui.show_progress(message.event)

    def on_label_done(self, message: LabelDone) -> None:
        self.evaluation_ui.label_done(message.event)

    def on_label_found(self, message: LabelFound) -> None:
        self.evaluation_ui.label_found(message.event)

    def on_evaluation_notice(self, message: EvaluationNotice) -> None:
        self.evaluation_ui.notice(message.event)

    def on_case_edit_ready(self, message: CaseEditReady) -> None:
        self.evaluation_ui.edit_case(message.event)

    # Shortcuts the tests and the palette use.
    @property
    def requests_view(self) -> RequestsView:
        return self.dashboard.requests_view

    @property
    def status_header(self):
        return self.dashboard.status_header

    @property
    def rejected_total(self) -> int:
        return self.dashboard.rejected_total

    # -- messages from the ingest worker -----------------------------------------------

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        self.dashboard.show_history(message.event)
        # Scoring a big store's backlog competes with loading its history: it starts once the
        # analytics window is whole (or after EVALUATION_AT_THE_LATEST); by then the ingest
        # thread has created the tables, so there is no race to create them.
        self._history_loaded = True
        self.set_timer(EVALUATION_AT_THE_LATEST, self.start_evaluation)
        freeze_startup_objects()  # the store and the screens are set up: what exists now stays

    def on_records_arrived(self, message: RecordsArrived) -> None:
        if self.dashboard.ready:  # not while it closes (the app quitting)
            self.dashboard.show_arrivals(message.event)

    def on_history_progress(self, message: HistoryProgress) -> None:
        if self.dashboard.ready:
            self.dashboard.status_header.show_history(message.event)

    def on_store_trouble(self, message: StoreTrouble) -> None:
        self.dashboard.show_store_trouble(message.event.reason)  # kept for the mount if not composed yet

    def on_store_upgraded(self, message: StoreUpgraded) -> None:
        self.dashboard.show_store_upgraded(message.event.text)  # kept for the mount if not composed yet

    def on_receiver_state(self, message: ReceiverState) -> None:
        if self.dashboard.ready:
            self.dashboard.show_receiver(message.event)

    def on_notify_pending(self, message: NotifyPending) -> None:
        if self.dashboard.ready:
            header = self.dashboard.status_header
            header.undelivered = message.event if message.event.count else None
            header.redraw()

    def on_ingest_failed(self, message: IngestFailed) -> None:
        if self.dashboard.ready:
            self.dashboard.show_failure(message.event)
        self.notify(message.event.reason, title="Ingest stopped", severity="error", timeout=10, markup=False)

    # -- actions -----------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            scopes = self.binding_scopes()
            self.push_screen(ColumnsHelpScreen(without_writing(scopes) if self.read_only else scopes, self._keymap))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.read_only and action in WRITING_ACTIONS:
            return False
        return super().check_action(action, parameters)

    def action_show_rejected(self) -> None:
        self.dashboard.action_show_rejected()

    def action_show_alerts(self) -> None:
        """`a` and a click on the header's alert count: every firing alert, explained."""
        report = self.dashboard.report
        if isinstance(self.screen, AlertsScreen):
            return
        now = parse_rfc3339(report.window.end) if report is not None else None
        self.push_screen(AlertsScreen(report.alerts if report is not None else [], now))

    def go_to_alert(self, target: str) -> None:
        """Where an alert says to look: a pane ("budget", "latency", "versions") or the
        requests filtered ("filter:<text>")."""
        if target.startswith("filter:"):
            self.dashboard.filter_requests(target[len("filter:"):])
        elif target:
            self.dashboard.action_focus_pane(target)

    def get_line_filters(self):
        return legible_filters(super().get_line_filters())  # NO_COLOR keeps alarms bright (ui/no_color.py)

    @classmethod
    def binding_ids(cls) -> set[str]:
        return {b.id for _, bindings in cls.binding_scopes() for b in bindings if b.id}

    @classmethod
    def binding_scopes(cls) -> list[BindingScope]:
        return console_binding_scopes(cls.BINDINGS)

    def action_replay_last_hour(self) -> None:
        """The palette's replay: this console closes and `replay --from 1h` opens on its store
        (console/ui/launch.py acts on the result)."""
        self.exit(result=REPLAY_LAST_HOUR)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from without_textual_keys(self, super().get_system_commands(screen))
        yield from console_commands(self, screen, live=type(self) is ConsoleApp)
