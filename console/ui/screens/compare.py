"""Two arms side by side: rates with intervals, latency, cost, p-values and the verdict.

The table is the one `llmops-console compare` prints (console.commands.compare), so the
screen and the command show the same cells for the same data. `a` and `b` change an arm
(any prompt version or model with traffic in the window, ArmPicker), `x` swaps them; this
screen closes and the new comparison, computed by the analytics thread, opens in its place.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalScroll, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static
from typing import TYPE_CHECKING, Sequence

from console.analytics.compare_arms import ArmChoice, arm_choices
from console.prompts.diff import VersionDiff
from console.sanitize import one_line, strip_control
from console.ui.widgets.nav_table import NavTable

if TYPE_CHECKING:  # scipy, behind console.analytics.compare, costs 0.6 s of start-up
    from console.analytics.compare import Comparison


class ArmPicker(ModalScreen[ArmChoice | None]):
    """Which prompt version or model an arm is: the ones with traffic in the window."""

    BINDINGS = [
        Binding("enter", "pick", "Compare this", id="compare.pick.choose"),
        Binding("escape", "cancel", "Cancel", id="compare.pick.cancel"),
    ]

    DEFAULT_CSS = """
    ArmPicker { align: center middle; }
    ArmPicker > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    ArmPicker NavTable { height: auto; max-height: 30; }
    """

    def __init__(self, arm: str, choices: Sequence[ArmChoice], current: str) -> None:
        super().__init__()
        self.arm = arm
        self.choices = list(choices)
        self.current = current  # the arm's spec now: the cursor starts there

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Arm {self.arm}: a prompt version or a model in the window", style="bold"))
            yield NavTable(cursor_type="row", id="arm-choices")
            yield Static(Text("enter: compare · esc: cancel · j/k move", style="dim"))

    def on_mount(self) -> None:
        table = self.query_one(NavTable)
        table.add_columns("arm", "kind", "requests")
        for choice in self.choices:
            table.add_row(one_line(choice.label), choice.kind, Text(f"{choice.requests:,}", justify="right"))
        specs = [choice.spec for choice in self.choices]
        if self.current in specs:
            table.move_cursor(row=specs.index(self.current))
        table.focus()

    def action_pick(self) -> None:
        table = self.query_one(NavTable)
        if self.choices and 0 <= table.cursor_row < len(self.choices):
            self.dismiss(self.choices[table.cursor_row])

    def on_data_table_row_selected(self, event) -> None:
        event.stop()
        self.action_pick()

    def action_cancel(self) -> None:
        self.dismiss(None)


class CompareScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="compare.back"),
        Binding("a", "pick_arm('A')", "Change A", id="compare.pick_a"),
        Binding("b", "pick_arm('B')", "Change B", id="compare.pick_b"),
        Binding("x", "swap", "Swap A/B", id="compare.swap"),
    ]

    DEFAULT_CSS = """
    CompareScreen VerticalScroll { padding: 0 1; }
    CompareScreen #compare-title { text-style: bold; }
    CompareScreen #compare-scope { color: $text-muted; margin-bottom: 1; }
    CompareScreen #compare-table-scroll { height: auto; }
    CompareScreen #compare-table { width: auto; }
    CompareScreen #compare-verdict-title { margin-top: 1; text-style: bold; color: $accent; }
    CompareScreen .finding { padding: 0 1; }
    CompareScreen .finding-significant { background: $warning 20%; text-style: bold; }
    CompareScreen .finding-not_enough_data { color: $warning; }
    CompareScreen .finding-no_difference { color: $text-muted; }
    CompareScreen #compare-note { margin-top: 1; color: $text-muted; }
    CompareScreen #compare-diff-title { margin-top: 1; text-style: bold; color: $accent; }
    """

    def __init__(
        self, comparison: Comparison, prompt_diff: VersionDiff | None = None, scope: str = "",
        choices: Sequence[ArmChoice] = (),
    ) -> None:
        super().__init__()
        self.comparison = comparison
        self.scope = scope  # which requests the arms were drawn from (the window), said on screen
        self.prompt_diff = prompt_diff  # computed off the UI thread (console.live.analytics_feed)
        self.choices = list(choices)  # what `a`/`b` offer: the window's versions and models

    def compose(self) -> ComposeResult:
        comparison = self.comparison
        # labels come from log values (model names, prompt ids): Text, never markup
        title = f"Compare  A: {strip_control(comparison.a.label)}  vs  B: {strip_control(comparison.b.label)}"
        with VerticalScroll(id="compare-body"):
            yield Static(Text(title), id="compare-title")
            counts = f"A: {comparison.a.requests:,} requests · B: {comparison.b.requests:,} requests"
            yield Static(Text(f"{counts}  ·  {self.scope}" if self.scope else counts), id="compare-scope")
            # its natural width (at 80 columns the cells wrapped mid-figure: '1,267 | ms'); the
            # narrow form when that is wider than the screen, scrolled sideways if still wider
            with HorizontalScroll(id="compare-table-scroll"):
                yield Static(self._table(), id="compare-table")
            yield Static("Verdict", id="compare-verdict-title")
            for finding in comparison.findings:
                yield Static(
                    Text(f"• {strip_control(finding.text)}"),
                    classes=f"finding finding-{finding.kind}",
                )
            yield Static(
                Text(
                    f"Significant means p < {comparison.alpha:g} (two-sided, no correction for the "
                    f"{len(comparison.differences)} tests); arms under {comparison.min_requests} "
                    "requests get no conclusion. Rates: Wilson 95% intervals."
                ),
                id="compare-note",
            )
            if self.prompt_diff is not None:
                from console.ui.screens.prompts import diff_table

                diff = self.prompt_diff
                yield Static("Prompt diff (registry)", id="compare-diff-title")
                yield Static(diff_table(diff.old, diff.new, diff.rows, diff.settings), id="compare-diff")
        yield Footer()

    def _table(self) -> Table:
        from console.commands.compare import comparison_table

        wide = comparison_table(self.comparison)
        measuring = Console(width=1000, file=io.StringIO())
        # the body's padding (1 a side) and its vertical scrollbar (2)
        fits = Measurement.get(measuring, measuring.options, wide).maximum <= self.app.size.width - 4
        return wide if fits else comparison_table(self.comparison, narrow=True)

    def on_resize(self) -> None:
        self.query_one("#compare-table", Static).update(self._table())

    def on_mount(self) -> None:
        if not self.choices:  # opened by the app: the window's versions and models, as the panes have them
            dashboard = getattr(self.app, "dashboard", None)
            if dashboard is not None:
                self.choices = arm_choices(dashboard.report, dashboard.registry_order)

    def action_pick_arm(self, arm: str) -> None:
        if not self.choices:
            self.notify("no other prompt version or model in the window", title="Compare", markup=False)
            return
        current = (self.comparison.a if arm == "A" else self.comparison.b).spec

        def chosen(choice: ArmChoice | None) -> None:
            if choice is None:
                return
            a, b = self.comparison.a.spec, self.comparison.b.spec
            self._request(choice.spec, b) if arm == "A" else self._request(a, choice.spec)

        self.app.push_screen(ArmPicker(arm, self.choices, _canonical(current)), chosen)

    def action_swap(self) -> None:
        self._request(self.comparison.b.spec, self.comparison.a.spec)

    def _request(self, a: str, b: str) -> None:
        request = getattr(self.app, "request_compare", None)
        if request is None:
            return
        if _canonical(a) == _canonical(b):
            self.notify("A and B are the same requests; pick another arm", title="Compare", markup=False)
            return
        self.notify("comparing…", title="Compare", timeout=2, markup=False)
        request(a, b, "")
        if self.app.screen is self:  # the new comparison is pushed in this screen's place when ready
            self.app.pop_screen()


def _canonical(spec: str) -> str:
    """An arm's stored spec ("prompt_id=p,prompt_version=v7") as ArmChoice spells it (prompt=p@v7)."""
    from console.analytics.arm_spec import parse_arm_spec

    try:
        arm = parse_arm_spec(spec)
    except ValueError:
        return spec
    if arm.prompt_id and arm.prompt_version and arm.model is None:
        return f"prompt={arm.prompt_id}@{arm.prompt_version}"
    if arm.model and not (arm.prompt_id or arm.prompt_version):
        return f"model={arm.model}"
    return spec
