"""Two arms side by side: rates with intervals, latency, cost, p-values and the verdict.

The table is the one `llmops-console compare` prints (console.commands.compare), so the
screen and the command show the same cells for the same data.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from typing import TYPE_CHECKING

from console.prompts.diff import VersionDiff
from console.sanitize import strip_control

if TYPE_CHECKING:  # scipy, behind console.analytics.compare, costs 0.6 s of start-up
    from console.analytics.compare import Comparison


class CompareScreen(Screen):
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="compare.back")]

    DEFAULT_CSS = """
    CompareScreen VerticalScroll { padding: 0 1; }
    CompareScreen #compare-title { text-style: bold; }
    CompareScreen #compare-scope { color: $text-muted; margin-bottom: 1; }
    CompareScreen #compare-verdict-title { margin-top: 1; text-style: bold; color: $accent; }
    CompareScreen .finding { padding: 0 1; }
    CompareScreen .finding-significant { background: $warning 20%; text-style: bold; }
    CompareScreen .finding-not_enough_data { color: $warning; }
    CompareScreen .finding-no_difference { color: $text-muted; }
    CompareScreen #compare-note { margin-top: 1; color: $text-muted; }
    CompareScreen #compare-diff-title { margin-top: 1; text-style: bold; color: $accent; }
    """

    def __init__(self, comparison: Comparison, prompt_diff: VersionDiff | None = None, scope: str = "") -> None:
        super().__init__()
        self.comparison = comparison
        self.scope = scope  # which requests the arms were drawn from (the window), said on screen
        self.prompt_diff = prompt_diff  # computed off the UI thread (console.live.analytics_feed)

    def compose(self) -> ComposeResult:
        comparison = self.comparison
        # labels come from log values (model names, prompt ids): Text, never markup
        title = f"Compare  A: {strip_control(comparison.a.label)}  vs  B: {strip_control(comparison.b.label)}"
        with VerticalScroll(id="compare-body"):
            yield Static(Text(title), id="compare-title")
            counts = f"A: {comparison.a.requests:,} requests · B: {comparison.b.requests:,} requests"
            yield Static(Text(f"{counts}  ·  {self.scope}" if self.scope else counts), id="compare-scope")
            from console.commands.compare import comparison_table

            yield Static(comparison_table(comparison), id="compare-table")
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
