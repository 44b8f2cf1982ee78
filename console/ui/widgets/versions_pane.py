"""Versions: one row per prompt version, sortable, with new versions and drift marked.

With a prompt registry, REG≠ marks a version whose logged hash is not the registry's and UNREG
one with no file; the marks come with the report from the analytics thread."""

from __future__ import annotations

from typing import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding

from console.analytics.compare_arms import RegistryOrder, worse_versions
from console.analytics.filters import window_filter
from console.analytics.report_types import Report, VersionRow
from console.formatting import short_time, usd
from console.prompts.checks import DRIFT, UNREGISTERED
from console.sanitize import one_line
from console.ui.formatting import error_rate_text, ms, percent
from console.ui.read_only import HidesWritingActions
from console.ui.widgets.diff_table import DiffTable
from console.ui.widgets.fitted_table import FittedTable
from console.ui.widgets.pane import CompareRequested, FilterRequests, Pane, hidden_note

# what tells a bad version first (rates, p95, cost), so a narrow pane shows them whole
# "bad" is over the rated requests ("rated": labelled, or with feedback); "—" when none is
COLUMNS = ("prompt@version", "reqs", "err", "bad", "p95", "$/req", "rated", "p50", "tok in/out", "first seen", "")
SORTS = {
    "first seen": lambda v: v.first_seen,
    "bad rate": lambda v: (v.bad_rate is None, -(v.bad_rate or 0.0)),  # nothing rated: last
    "error rate": lambda v: -v.error_rate,
    "requests": lambda v: -v.requests,
    "p95": lambda v: -(v.p95_ms or 0),
    "name": lambda v: (v.prompt_id, v.prompt_version),
}


def _cells(version: VersionRow, mark: str | None = None, worse_than: str | None = None) -> list:
    """worse_than: the previous version this one's bad rate is clearly above (worse_versions,
    the summary's '! bad' line), so the pane marks the same version without colour too."""
    flags = []
    if worse_than is not None:
        flags.append(Text("WORSE", style="bold red"))  # than worse_than: the summary line names it
    if version.is_new:
        flags.append(Text("NEW", style="bold yellow"))
    if version.drifted:
        flags.append(Text("DRIFT", style="bold magenta"))
    if mark == DRIFT:
        flags.append(Text("REG≠", style="bold red"))  # the logged hash is not the registry's
    elif mark == UNREGISTERED:
        flags.append(Text("UNREG", style="yellow"))  # no file in the registry
    # "!" only on a version tested worse than its previous one: a bad rate is over the rated
    # requests, and people rate the bad answers more than the good, so a fixed bar (10%, once)
    # marked the baseline version beside the one that broke
    worse = "bold red" if worse_than is not None else ""
    # "≠" beside the name: the text behind this label is not one (DRIFT) or not the registry's
    # (REG≠); those flags are in the last column, which at any width took → presses to reach
    name = Text(one_line(f"{version.prompt_id}@{version.prompt_version}"))
    if version.drifted or mark == DRIFT:
        name.append(" ≠", style="bold magenta")
    return [
        name,
        Text(f"{version.requests:,}", justify="right"),
        error_rate_text(version.error_rate),
        Text(percent(version.bad_rate) + (" !" if worse else ""), justify="right", style=worse),
        Text(ms(version.p95_ms), justify="right"),
        Text(usd(version.cost_per_request_usd), justify="right"),
        Text(f"{version.rated:,}", justify="right"),
        Text(ms(version.p50_ms), justify="right"),
        Text(f"{version.mean_input_tokens:,.0f}/{version.mean_output_tokens:,.0f}", justify="right"),
        Text(short_time(version.first_seen)),
        Text(" ").join(flags),
    ]


def subtitle_text(
    versions, marks: Mapping[str, str], worse: int, sort_name: str, hidden: int, width: int | None,
) -> str:
    """The counts that matter (worse, drifted, off the registry) fit whole: at 80 columns the
    subtitle was cut to '1 ≠ regist…'. Shorter wordings first, then the newest version (its
    row is in the table) and the sort are left out."""
    # a version both drifted and off the registry is counted once, saying both ('1 drifted ·
    # 1 ≠ reg' read as two versions where the demo had one, summarize-thread@v2)
    drifted_keys = {f"{v.prompt_id}@{v.prompt_version}" for v in versions if v.drifted}
    off_keys = {key for key, mark in marks.items() if mark == DRIFT}
    both = len(drifted_keys & off_keys)
    drifted = len(drifted_keys - off_keys)
    off_registry = len(off_keys - drifted_keys)
    unregistered = sum(mark == UNREGISTERED for mark in marks.values())
    newest = max(versions, key=lambda v: v.first_seen, default=None)
    # (full, short) per part, in the order shown; the hidden columns first: a cut is at the end
    parts: dict[str, tuple[str, str]] = {}
    if hidden:
        parts["hidden"] = (hidden_note(hidden), f"+{hidden} ←→")
    parts["sort"] = (f"sort: {sort_name} (s)", f"s: {sort_name}")
    if worse:  # than its previous version: WORSE, "!"
        parts["worse"] = (f"{worse} worse", f"{worse} worse")
    if both:
        parts["drifted_off_registry"] = (f"{both} drifted, ≠ registry", f"{both} drifted ≠ reg")
    if drifted:
        parts["drifted"] = (f"{drifted} drifted", f"{drifted} drifted")
    if off_registry:
        parts["off_registry"] = (f"{off_registry} ≠ registry", f"{off_registry} ≠ reg")
    if unregistered:
        parts["unregistered"] = (f"{unregistered} unregistered", f"{unregistered} unreg")
    if newest is not None:
        parts["newest"] = (f"newest {one_line(newest.prompt_version)} {short_time(newest.first_seen)}",) * 2
    shown = {key: full for key, (full, _) in parts.items()}

    def text() -> str:
        return " · ".join(shown.values())

    # each step only while it is still too long
    steps = [("drop", "newest"), ("short", "drifted_off_registry"), ("short", "off_registry"), ("short", "unregistered"), ("short", "sort"),
             ("short", "hidden"), ("drop", "sort")]  # fmt: skip
    for step, key in steps:
        if width is None or len(text()) <= width:
            break
        if key in shown:
            if step == "drop":
                del shown[key]
            else:
                shown[key] = parts[key][1]
    return text()


class VersionsPane(HidesWritingActions, Pane):
    BINDINGS = [
        Binding("enter", "show_requests", "Requests of version", id="versions.requests"),
        Binding("c", "compare", "Compare with previous", id="versions.compare"),
        Binding("C", "compare_change", "Before/after it appeared", id="versions.before_after"),
        Binding("s", "cycle_sort", "Sort", id="versions.sort"),
        Binding("R", "run_suite", "Run the suite for this version", id="versions.regress"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sort_name = "first seen"
        self._versions: list[VersionRow] = []
        self._marks: dict[str, str] = {}  # registry marks, computed off the UI thread
        self._worse: dict[str, str] = {}  # "prompt@version" -> the previous version it is worse than
        self._window = "all"  # the report's window: a row's requests are those since its start

    def compose(self) -> ComposeResult:
        yield FittedTable(COLUMNS, id="versions-table")

    def on_mount(self) -> None:
        self.border_title = "Versions"
        self._subtitle()

    def show(
        self, report: Report, registry_marks: dict[str, str] | None = None,
        registry_order: Mapping[str, RegistryOrder] | None = None,
    ) -> None:
        self._versions = report.versions
        self._window = report.window.name
        self._marks = registry_marks or {}
        self._worse = {worse.name: worse.previous for worse in worse_versions(report, registry_order)}
        self._sync()

    def _sync(self) -> None:
        ordered = sorted(self._versions, key=SORTS[self.sort_name])
        self.query_one(DiffTable).sync(
            [(key, _cells(v, self._marks.get(key), self._worse.get(key)))
             for v in ordered for key in [f"{v.prompt_id}@{v.prompt_version}"]]
        )
        self._subtitle()

    def _subtitle(self) -> None:
        hidden = self.query_one(FittedTable).hidden_columns if self.is_mounted else 0
        # the border's corners and the spaces around the label take 6 cells
        width = self.size.width - 6 if self.is_mounted and self.size.width else None
        self.border_subtitle = Text(subtitle_text(  # never parsed as markup
            self._versions, self._marks, len(self._worse), self.sort_name, hidden, width))

    def on_resize(self) -> None:
        self._subtitle()

    def on_fitted_table_columns_fitted(self, event: FittedTable.ColumnsFitted) -> None:
        event.stop()
        self._subtitle()

    def action_cycle_sort(self) -> None:
        names = list(SORTS)
        self.sort_name = names[(names.index(self.sort_name) + 1) % len(names)]
        self._sync()

    def on_data_table_row_selected(self, event: DiffTable.RowSelected) -> None:
        # The table's own Enter (select row) arrives here; the pane's binding documents it.
        event.stop()
        self.action_show_requests()

    def action_show_requests(self) -> None:
        key = self.query_one(DiffTable).current_key
        if key:
            self.post_message(FilterRequests(window_filter(f"prompt:{key}", self._window)))

    def action_run_suite(self) -> None:
        key = self.query_one(DiffTable).current_key
        if key:
            prompt_id, _, version = key.rpartition("@")
            self.app.action_regress(prompt_version=version, prompt_id=prompt_id or None)

    def action_compare(self) -> None:
        key = self.query_one(DiffTable).current_key
        if key:
            self.post_message(CompareRequested("version", key))

    def action_compare_change(self) -> None:
        key = self.query_one(DiffTable).current_key
        if key:
            self.post_message(CompareRequested("version", key, before_after=True))
