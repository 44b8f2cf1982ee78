"""The console's entries in the command palette (ctrl+p), beside Textual's own (less its "Keys")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from textual.app import App, SystemCommand
from textual.screen import Screen

if TYPE_CHECKING:
    from console.ui.app import ConsoleApp


def without_textual_keys(app: App, commands: Iterable[SystemCommand]) -> Iterable[SystemCommand]:
    """Textual's system commands less its "Keys" (the key panel): beside our "Help: keys" it read
    as the same entry, and the panel it opens squeezed the Requests table (status cut to 'o')
    and did not close on Esc, only through the palette again. Help lists every key. Its "hide"
    entry stays, should the panel be opened some other way."""
    for command in commands:
        if command.callback != app.action_show_help_panel:
            yield command


def console_commands(app: ConsoleApp, screen: Screen, live: bool) -> Iterable[SystemCommand]:
    """`live`: the live console (a replay offers no replay of the last hour)."""
    if live:
        yield SystemCommand("Replay the last hour", "Close the live view and play the store's last hour at 10x "
                            "(space pause, [ ] a minute, + - speed)", app.action_replay_last_hour)
    yield SystemCommand("Help: keys", "Every key binding and its id", app.action_help)
    yield SystemCommand("Rejected lines", "Lines that were skipped, with file, line and reason", app.action_show_rejected)
    yield SystemCommand("Triage queue", "The lowest-scored responses first: mark bad (b) or good (o)", app.action_triage)
    if screen is app.dashboard:
        dashboard = app.dashboard
        yield SystemCommand("Filter requests", "Filter by model, version, status, latency, text", dashboard.action_filter)
        yield SystemCommand(
            "Pause / resume following", "Freeze the table; rows keep being stored", dashboard.action_toggle_pause
        )
        yield SystemCommand("Open request", "Full input, output and fields of the selected row", dashboard.action_open_current)
        yield SystemCommand("Clear filter", "Show every request again", lambda: dashboard.apply_filter(""))
        yield SystemCommand(
            "Compare before/after the latest change",
            "The newest model or prompt version: the traffic before it against the traffic since",
            app.action_compare_latest_change,
        )
        yield SystemCommand("Cycle window", "15m, 1h, 6h, 24h, 7d, all", dashboard.action_cycle_window)
