"""The console's Textual app: the dashboard frame and the live requests pane."""

from __future__ import annotations

import re
from typing import Iterable

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import get_current_worker

from console.analytics.filters import FilterError, parse_filter
from console.records import RequestRecord
from console.sources.base import RejectedLine
from console.ui.ingest_worker import run_ingest
from console.ui.messages import HistoryLoaded, IngestFailed, RecordsArrived
from console.ui.screens.detail import RequestDetailScreen
from console.ui.screens.help import BindingScope, HelpScreen
from console.ui.screens.rejected import RejectedLinesScreen
from console.ui.widgets.requests_view import RequestsView
from console.ui.widgets.status_header import StatusHeader

REJECTED_KEPT = 500


def mask_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", url)


class ConsoleApp(App):
    TITLE = "llmops-console"
    CSS_PATH = "console.tcss"

    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("slash", "filter", "Filter", id="app.filter"),
        Binding("space", "toggle_pause", "Pause/follow", id="app.pause"),
        Binding("x", "show_rejected", "Rejected lines", id="app.rejected"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="app.clear_filter"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        sources: list[str],
        store_url: str,
        *,
        capacity: int = 5000,
        keymap: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.sources = sources
        self.store_url = store_url
        self.capacity = capacity
        self.paused = False
        self._held: list[RequestRecord] = []
        self._held_count = 0
        self.rejected: list[RejectedLine] = []
        self.rejected_total = 0
        if keymap:
            self.set_keymap(keymap)

    def compose(self) -> ComposeResult:
        yield StatusHeader(mask_password(self.store_url), self.sources, id="status")
        yield RequestsView(capacity=self.capacity, id="requests")
        yield Input(placeholder="filter: model:gpt-4o status:error latency>2s refund  (enter applies, esc cancels)", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self.requests_view.border_title = "Requests"
        self.requests_view.focus()
        self.query_one(StatusHeader).redraw()
        self.run_worker(self._ingest, thread=True, exclusive=True, name="ingest", group="ingest")

    def _ingest(self) -> None:
        worker = get_current_worker()
        run_ingest(
            self.post_message,
            lambda: worker.is_cancelled,
            self.sources,
            self.store_url,
            self.capacity,
        )

    @property
    def requests_view(self) -> RequestsView:
        return self.query_one("#requests", RequestsView)

    @property
    def status_header(self) -> StatusHeader:
        return self.query_one("#status", StatusHeader)

    # -- messages from the ingest worker -----------------------------------------------

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        self.requests_view.append(message.records)
        self._add_rejected(message.rejected, message.rejected_total)
        header = self.status_header
        header.stored = message.stored
        self._refresh_titles()

    def on_records_arrived(self, message: RecordsArrived) -> None:
        header = self.status_header
        header.sources = message.sources
        header.stored += message.added
        header.record_arrivals(message.added)
        self._add_rejected(message.rejected, self.rejected_total + len(message.rejected))
        if self.paused:
            self._held.extend(message.records)
            self._held_count += len(message.records)
            del self._held[: max(len(self._held) - self.capacity, 0)]
            header.held = self._held_count
        else:
            self.requests_view.append(message.records)
        self._refresh_titles()

    def on_ingest_failed(self, message: IngestFailed) -> None:
        self.status_header.error = message.reason
        self.status_header.redraw()
        self.notify(message.reason, title="Ingest stopped", severity="error", timeout=10, markup=False)

    def _add_rejected(self, rejected: list[RejectedLine], total: int) -> None:
        if rejected:
            self.rejected = (list(reversed(rejected)) + self.rejected)[:REJECTED_KEPT]
        self.rejected_total = total
        self.status_header.rejected_total = total

    def _refresh_titles(self) -> None:
        view = self.requests_view
        shown, total = len(view.rows), view.total
        subtitle = f"{shown:,} shown" if shown == total else f"{shown:,} of {total:,} shown"
        view.border_subtitle = subtitle
        self.status_header.redraw()

    # -- actions -----------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.binding_scopes(), self._keymap))

    @classmethod
    def binding_ids(cls) -> set[str]:
        return {b.id for _, bindings in cls.binding_scopes() for b in bindings if b.id}

    @classmethod
    def binding_scopes(cls) -> list[BindingScope]:
        return [
            ("everywhere", cls.BINDINGS),
            ("requests", RequestsView.BINDINGS),
            ("request detail", RequestDetailScreen.BINDINGS),
            ("rejected lines", RejectedLinesScreen.BINDINGS),
            ("help", HelpScreen.BINDINGS),
            ("everywhere", [Binding("ctrl+p", "command_palette", "Command palette", id="app.palette")]),
        ]

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.display = False
            self.requests_view.focus()
            return
        if box.value:
            box.value = ""
            self._apply_filter("")

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self._apply_filter(event.value):
            event.input.display = False
            self.requests_view.focus()

    def _apply_filter(self, text: str) -> bool:
        try:
            record_filter = parse_filter(text)
        except FilterError as exc:
            self.notify(str(exc), title="Filter", severity="error", markup=False)
            return False
        view = self.requests_view
        view.set_filter(record_filter)
        view.border_title = f"Requests · filter: {record_filter.text}" if record_filter else "Requests"
        self._refresh_titles()
        return True

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        header = self.status_header
        if not self.paused:
            self.requests_view.append(self._held)
            self._held, self._held_count = [], 0
            header.held = 0
            self._refresh_titles()
        header.paused = self.paused

    def action_show_rejected(self) -> None:
        self.push_screen(RejectedLinesScreen(self.rejected, self.rejected_total))

    def action_open_current(self) -> None:
        self.requests_view.action_open()

    @on(RequestsView.Opened)
    def _open_request(self, event: RequestsView.Opened) -> None:
        self.push_screen(RequestDetailScreen(event.record))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help: keys", "Every key binding and its id", self.action_help)
        yield SystemCommand("Filter requests", "Filter by model, version, status, latency, text", self.action_filter)
        yield SystemCommand(
            "Pause / resume following", "Freeze the table; rows keep being stored", self.action_toggle_pause
        )
        yield SystemCommand("Rejected lines", "Lines that were skipped, with file, line and reason", self.action_show_rejected)
        yield SystemCommand("Open request", "Full input, output and fields of the selected row", self.action_open_current)
        yield SystemCommand("Clear filter", "Show every request again", lambda: self._apply_filter(""))
