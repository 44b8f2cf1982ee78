"""Two arms side by side: rates with intervals, latency, cost, p-values and the verdict.

The table is the one `llmops-console compare` prints (console.commands.compare), so the
screen and the command show the same cells for the same data. `a` and `b` change an arm
(any prompt version or model with traffic in the window, ArmPicker), `x` swaps them; a new
screen takes this one's place at once.

The screen opens at the key, before the analytics thread has compared (the first comparison
of a session imports scipy there: seconds on a loaded machine, with nothing on screen): it
says what it is comparing, "(loading)", and fills in when the comparison arrives (`show`).
"""

from __future__ import annotations

import io

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalScroll, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static
from typing import TYPE_CHECKING, Sequence

from console.analytics.compare_arms import ArmChoice, arm_choices
from console.analytics.compare_overlap import overlap_warning
from console.prompts.diff import VersionDiff
from console.sanitize import one_line, strip_control
from console.ui.widgets.key_footer import KeyFooter
from console.ui.widgets.nav_table import NavTable
from console.ui.widgets.prompt_cell import last_cells

if TYPE_CHECKING:  # scipy, behind console.analytics.compare, costs 0.6 s of start-up
    from console.analytics.compare import Comparison
    from console.live.events import CompareReady

ELLIPSIS = "…"
LABEL_SHARE = 4  # an arm's label in the overlap warning: at most a quarter of the width
LABEL_MIN = 12


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
    CompareScreen #compare-scope.-warned { margin-bottom: 0; }
    CompareScreen #compare-loading { color: $text-muted; }
    CompareScreen #compare-error { color: $error; }
    CompareScreen #compare-overlap { color: $warning; text-style: bold; margin-bottom: 1; }
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
        self, comparison: Comparison | None = None, prompt_diff: VersionDiff | None = None, scope: str = "",
        choices: Sequence[ArmChoice] = (), *, asked: str = "", asking: str = "", token: int = 0,
        before_after: tuple[str, str, bool] | None = None,
    ) -> None:
        """comparison None: opened at the key, loading until `show` gives it the comparison;
        asked is then its title ("A: support-answer@v7  vs  B: support-answer@v8"), asking what
        it is doing ("comparing ... over the 1h window"), token the request it waits for.
        before_after: (kind, name, swapped) when it compares before/after a change (C), over
        all the history loaded: x asks that again swapped, not its arms over the window."""
        super().__init__()
        self.comparison = comparison
        self.scope = scope  # which requests the arms were drawn from (the window), said on screen
        self.prompt_diff = prompt_diff  # computed off the UI thread (console.live.analytics_feed)
        self.choices = list(choices)  # what `a`/`b` offer: the window's versions and models
        self.asked, self.asking, self.token = asked, asking, token
        self.error: str | None = None  # why the comparison it waited for could not be made
        self.before_after = before_after

    @property
    def loading(self) -> bool:
        return self.comparison is None and self.error is None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="compare-body"):
            yield from self._body()
        yield KeyFooter()

    async def show(self, ready: CompareReady) -> None:
        """The comparison this screen waited for (or why there is none): drawn in its body."""
        if ready.comparison is None:
            self.error = ready.error or "no comparison"
        else:
            self.comparison, self.prompt_diff, self.scope = ready.comparison, ready.prompt_diff, ready.scope
        body = self.query_one("#compare-body", VerticalScroll)
        async with body.batch():
            await body.remove_children()
            await body.mount_all(self._body())

    def _body(self) -> list[Widget]:
        comparison = self.comparison
        if comparison is None:
            # what the key asked for, from log values (model names, prompt ids): Text, never markup
            title = Static(Text(f"Compare  {one_line(self.asked)}" if self.asked else "Compare"), id="compare-title")
            if self.error is not None:
                return [title, Static(Text(f"could not compare: {one_line(self.error)}"), id="compare-error")]
            asking = one_line(self.asking) if self.asking else "comparing"
            return [title, Static(Text(f"{asking} (loading)"), id="compare-loading")]
        # labels come from log values (model names, prompt ids): Text, never markup
        title = f"Compare  A: {strip_control(comparison.a.label)}  vs  B: {strip_control(comparison.b.label)}"
        counts = f"A: {comparison.a.requests:,} requests · B: {comparison.b.requests:,} requests"
        warning = self._overlap_warning()
        widgets: list[Widget] = [
            Static(Text(title), id="compare-title"),
            Static(Text(f"{counts}  ·  {self.scope}" if self.scope else counts), id="compare-scope",
                   classes="-warned" if warning is not None else ""),
        ]
        if warning is not None:  # right under what it qualifies, the line above the table
            widgets.append(Static(warning, id="compare-overlap"))
        # its natural width (at 80 columns the cells wrapped mid-figure: '1,267 | ms'); the
        # narrow form when that is wider than the screen, scrolled sideways if still wider
        widgets.append(HorizontalScroll(Static(self._table(), id="compare-table"), id="compare-table-scroll"))
        widgets.append(Static("Verdict", id="compare-verdict-title"))
        for finding in comparison.findings:
            widgets.append(Static(Text(f"• {strip_control(finding.text)}"), classes=f"finding finding-{finding.kind}"))
        widgets.append(Static(
            Text(
                f"Significant means p < {comparison.alpha:g} (two-sided, no correction for the "
                f"{len(comparison.differences)} tests); arms under {comparison.min_requests} "
                "requests get no conclusion. Rates: Wilson 95% intervals."
            ),
            id="compare-note",
        ))  # fmt: skip
        if self.prompt_diff is not None:
            from console.ui.screens.prompts import diff_table

            diff = self.prompt_diff
            widgets.append(Static("Prompt diff (registry)", id="compare-diff-title"))
            widgets.append(Static(diff_table(diff.old, diff.new, diff.rows, diff.settings), id="compare-diff"))
        return widgets

    def _overlap_warning(self) -> Text | None:
        """The arms' requests cover different times: `compare`'s warning (without the options
        to rerun it: the console has none), each arm's label cut to a quarter of the width in
        cells, so a long or wide (CJK) label cannot push the table and the verdict it qualifies
        off an 80x24 screen."""
        comparison = self.comparison
        overlap = comparison.overlap if comparison is not None else None
        if overlap is None or overlap.warning is None:
            return None
        room = max(LABEL_MIN, (self.app.size.width - 4) // LABEL_SHARE)
        fitted = [fit_label(one_line(arm.label), room) for arm in (comparison.a, comparison.b)]
        return Text(f"! {overlap_warning(overlap, *fitted) or one_line(overlap.warning)}")

    def _table(self) -> Table:
        from console.commands.compare import comparison_table

        wide = comparison_table(self.comparison)
        measuring = Console(width=1000, file=io.StringIO())
        # the body's padding (1 a side) and its vertical scrollbar (2)
        fits = Measurement.get(measuring, measuring.options, wide).maximum <= self.app.size.width - 4
        return wide if fits else comparison_table(self.comparison, narrow=True)

    def on_resize(self) -> None:
        if self.comparison is None:
            return
        self.query_one("#compare-table", Static).update(self._table())
        warning = self._overlap_warning()
        if warning is not None:
            self.query_one("#compare-overlap", Static).update(warning)

    def on_mount(self) -> None:
        if not self.choices:  # opened by the app: the window's versions and models, as the panes have them
            dashboard = getattr(self.app, "dashboard", None)
            if dashboard is not None:
                self.choices = arm_choices(dashboard.report, dashboard.registry_order)

    def action_pick_arm(self, arm: str) -> None:
        if self.comparison is None:
            return  # still loading: no arm to change yet
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
        if self.comparison is None:
            return
        compares = getattr(self.app, "compares", None)
        if self.before_after is not None and compares is not None:
            # the same split over the same rows: its arms' texts asked over the panes' window
            # lost every request before the window (B: 0 requests)
            kind, name, swapped = self.before_after
            compares.change(kind, name, swapped=not swapped, replacing=self)
            return
        self._request(self.comparison.b.spec, self.comparison.a.spec)

    def _request(self, a: str, b: str) -> None:
        request = getattr(self.app, "request_compare", None)
        if request is None:
            return
        if _canonical(a) == _canonical(b):
            self.notify("A and B are the same requests; pick another arm", title="Compare", markup=False)
            return
        # the new comparison's screen, loading, takes this one's place at once
        request(a, b, "", replacing=self)


def fit_label(label: str, width: int) -> str:
    """`label` in at most `width` cells: its start and its end (where versions differ) kept,
    an ellipsis between ('support-ans…er@v8')."""
    if cell_len(label) <= width:
        return label
    tail_text = last_cells(label, max((width - 1) // 3, 0))
    return set_cell_size(label, max(width - 1 - cell_len(tail_text), 0)).rstrip() + ELLIPSIS + tail_text


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
