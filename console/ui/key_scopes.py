"""Every key binding of the console, grouped by where it works: what `?` lists, and what the
[keys] table of llmops.toml may remap (each Binding has an id). One list, so the help screen
and the check of the settings' ids cannot disagree.
"""

from __future__ import annotations

from textual.binding import Binding

from console.ui.screens.alerts import AlertsScreen
from console.ui.screens.compare import ArmPicker, CompareScreen
from console.ui.screens.dashboard import DashboardScreen
from console.ui.screens.detail import RequestDetailScreen
from console.ui.screens.help import BindingScope, HelpScreen
from console.ui.screens.labelling import LABEL_BINDINGS, NoteModal, ReasonModal
from console.ui.screens.prompts import PromptsScreen
from console.ui.screens.regress import RegressRunScreen
from console.ui.screens.regress_case import RegressCaseScreen
from console.ui.screens.regress_history import RegressHistoryScreen
from console.ui.screens.regress_launch import RegressLaunchModal
from console.ui.screens.rejected import RejectedLinesScreen
from console.ui.screens.triage import TriageScreen
from console.ui.widgets.budget_pane import BudgetPane
from console.ui.widgets.fitted_table import FittedTable
from console.ui.widgets.latency_pane import LatencyPane
from console.ui.widgets.requests_view import RequestsView
from console.ui.widgets.versions_pane import VersionsPane


def console_binding_scopes(app_bindings) -> list[BindingScope]:
    """(where, bindings) for the app's own bindings and every screen's and pane's."""
    # q quits from the dashboard only: every screen pushed over it binds q to Back (or is modal)
    quits = [binding for binding in app_bindings if binding.action == "quit"]
    return [
        ("everywhere", [binding for binding in app_bindings if binding.action != "quit"]),
        ("everywhere", [Binding("ctrl+p", "command_palette", "Command palette", id="app.palette")]),
        ("dashboard", quits),
        ("dashboard", DashboardScreen.BINDINGS),
        ("requests", RequestsView.BINDINGS),
        ("request detail", RequestDetailScreen.BINDINGS),
        ("triage, detail", LABEL_BINDINGS),
        ("triage", TriageScreen.NAVIGATION),
        ("bad reason", ReasonModal.BINDINGS),
        ("note", NoteModal.BINDINGS),
        ("rejected lines", RejectedLinesScreen.BINDINGS),
        ("prompts", PromptsScreen.BINDINGS),
        ("budget", BudgetPane.BINDINGS),
        ("latency", LatencyPane.BINDINGS),
        ("versions", VersionsPane.BINDINGS),
        ("tables wider than the screen", FittedTable.BINDINGS),
        ("compare", CompareScreen.BINDINGS),
        ("compare: pick an arm", ArmPicker.BINDINGS),
        ("alerts", AlertsScreen.BINDINGS),
        ("regression run", RegressRunScreen.BINDINGS),
        ("regression case", RegressCaseScreen.BINDINGS),
        ("regression runs", RegressHistoryScreen.BINDINGS),
        ("run the suite", RegressLaunchModal.BINDINGS),
        ("help", HelpScreen.BINDINGS),
    ]
