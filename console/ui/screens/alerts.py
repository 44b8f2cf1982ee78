"""`a` (or a click on the header's alert count): every firing alert, explained.

Each alert is the text `llmops-console check` prints (console.analytics.alerts.explain_alert):
the rule, the numbers that fire it against their thresholds, since when, where to look.
Enter jumps there: the pane behind a budget alert, the requests filtered to an SLO breach's
model or to the errors of a spike. The list follows the reports while it is open.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.analytics.alerts import explain_alert
from console.analytics.report_types import Alert
from console.formatting import rfc3339
from console.sanitize import strip_control
from console.ui.widgets.key_footer import KeyFooter

SEVERITY_STYLES = {"page": "bold white on red", "warn": "bold black on yellow"}


def alert_prompt(alert: Alert, now: float | None) -> Text:
    """The explanation, its severity word shown as a word on a coloured ground."""
    lines = explain_alert(alert, now)
    text = Text()
    text.append(f" {alert.severity.upper()} ", style=SEVERITY_STYLES[alert.severity])
    text.append(strip_control(lines[0][5:].rstrip()), style="bold")
    for line in lines[1:]:
        text.append("\n" + strip_control(line))
    return text


class AlertsScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="alerts.back"),
        Binding("enter", "open", "Go to it", id="alerts.open"),
        Binding("j", "cursor('down')", "Down", show=False, id="alerts.down"),
        Binding("k", "cursor('up')", "Up", show=False, id="alerts.up"),
        Binding("g", "cursor('first')", "Top", show=False, id="alerts.top"),
        Binding("G", "cursor('last')", "Bottom", show=False, id="alerts.bottom"),
    ]

    DEFAULT_CSS = """
    AlertsScreen #alerts-title { padding: 0 1; background: $panel; }
    AlertsScreen OptionList { height: 1fr; border: none; }
    """

    def __init__(self, alerts: Sequence[Alert], now: float | None) -> None:
        super().__init__()
        self.alerts = list(alerts)
        self.now = now

    def compose(self) -> ComposeResult:
        yield Static(id="alerts-title")
        yield OptionList(id="alerts-list")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show(self.alerts, self.now)
        self.query_one(OptionList).focus()

    def show(self, alerts: Sequence[Alert], now: float | None) -> None:
        """Redrawn from a fresh report; the cursor stays on the same alert where it still fires."""
        options = self.query_one(OptionList)
        kept = options.highlighted
        selected = self.alerts[kept] if kept is not None and kept < len(self.alerts) else None
        self.alerts, self.now = list(alerts), now
        pages = sum(1 for alert in self.alerts if alert.severity == "page")
        as_of = f" as of {rfc3339(now, timespec='seconds')}" if now is not None else ""
        if self.alerts:
            title = (f"{len(self.alerts)} alert(s) firing{as_of}: {pages} PAGE, {len(self.alerts) - pages} WARN"
                     "  ·  Enter goes to the pane or the requests behind one; `check` prints the same")
        else:
            title = f"OK: no alert fires{as_of}"
        self.query_one("#alerts-title", Static).update(Text(title))
        options.clear_options()
        for index, alert in enumerate(self.alerts):
            if index:
                options.add_option(None)  # a separator line between alerts
            options.add_option(Option(alert_prompt(alert, now), id=str(index)))
        if self.alerts:
            keys = [(a.kind, a.subject) for a in self.alerts]
            index = keys.index((selected.kind, selected.subject)) if selected and (selected.kind, selected.subject) in keys else 0
            options.highlighted = options.get_option_index(str(index))

    def action_cursor(self, where: str) -> None:
        options = self.query_one(OptionList)
        {"down": options.action_cursor_down, "up": options.action_cursor_up,
         "first": options.action_first, "last": options.action_last}[where]()

    def action_open(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not self.alerts:
            return
        self._go(self.alerts[int(options.get_option_at_index(options.highlighted).id or 0)])

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._go(self.alerts[int(event.option.id or 0)])

    def _go(self, alert: Alert) -> None:
        self.app.pop_screen()
        self.app.go_to_alert(alert.target)
