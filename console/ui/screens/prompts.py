"""`p`: the prompt registry beside the logs: versions, labels, hashes, traffic, text and diffs.

Rows are the registry's versions plus the versions seen in the logs without a file
(unregistered). Traffic figures come from the app's latest Report (the Versions pane's numbers,
over the window); first and last seen are over everything the store holds (when was this
version live: console/store/version_times.py), never the window's. The registry and those times
are read in a worker thread; every text is shown through rich.text.Text with control sequences
stripped, never parsed as markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static

from console.analytics.report_types import VersionRow
from console.prompts.checks import check_versions
from console.prompts.diff import SideBySideRow, change_summary, settings_rows, settings_summary, side_by_side
from console.prompts.registry import UNKNOWN_MARKER, PromptError, PromptVersion, Registry, load_registry, natural_key
from console.formatting import rfc3339, short_time
from console.sanitize import one_line, strip_control
from console.ui.formatting import ms
from console.ui.read_only import HidesWritingActions
from console.ui.widgets.fitted_table import FittedTable
from console.ui.widgets.key_footer import KeyFooter
from console.ui.widgets.pane import hidden_note

if TYPE_CHECKING:
    from console.store.version_times import VersionTimes

DIFF_STYLES = {"equal": "", "replace": "yellow", "delete": "red", "insert": "green"}


# the row's name, then what tells a bad version (drift, traffic, errors, bad, p95), then the rest:
# at 80 columns the table shows whole columns only and right/left bring in the others
# "bad" is over the "rated" requests (labelled, or with feedback): "—" when none is
# first/last seen are all-time (the store's), the figures before them the window's: the title
# says both, the headers the all-time ones (a retired version read '-' beside 242 stored requests)
COLUMNS = ("prompt@version", "registry", "requests", "errors", "bad", "rated", "p95", "labels", "hash",
           "all-time first", "all-time last")


def _stamp(value: str | None) -> str:
    return short_time(value) if value else "-"  # '12-03 18:01', as the Versions pane writes it


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"  # None: nothing to take a rate of


def read_version_times(store_url: str) -> dict[tuple[str, str], VersionTimes] | None:
    """The store's first and last request of every version (in a worker thread); None when the
    store cannot be read (the title says so, the columns read '-')."""
    from console.store import Store
    from console.store.version_times import version_times

    try:
        with Store(store_url, for_reading=True) as store:
            return version_times(store)
    except Exception:  # noqa: BLE001 - the screen shows the registry all the same
        return None


class PromptsScreen(HidesWritingActions, Screen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="prompts.back"),
        Binding("enter", "open", "Show text", id="prompts.open"),
        Binding("d", "diff", "Diff with previous", id="prompts.diff"),
        Binding("R", "regress", "Run suite on this version", id="prompts.regress"),
    ]

    # the table as tall as its rows (every version, when the screen has room) and the view the
    # rest: at 1fr/2fr an 80x24 terminal showed six of eight versions above 11 blank lines of view
    DEFAULT_CSS = """
    PromptsScreen #prompts-title { padding: 0 1; background: $panel; }
    PromptsScreen #prompts-table { height: auto; max-height: 65%; }
    PromptsScreen #prompts-view { height: 1fr; min-height: 4; border-top: solid $panel; }
    """

    def __init__(self, root: Path, versions: Sequence[VersionRow] = (), store_url: str | None = None,
                 window: str = "") -> None:
        """store_url: where first and last seen are read (None: they read '-'); window: the
        figures' window's name, for the title."""
        super().__init__()
        self.root = root
        self.store_url = store_url
        self.window = window
        self.logged = {(row.prompt_id, row.prompt_version): row for row in versions}
        self.times: dict[tuple[str, str], VersionTimes] | None = None  # None: not read (or unreadable)
        self.registry: Registry | None = None
        self.keys: list[tuple[str, str]] = []  # row index -> (prompt_id, version)
        self.body: object = None  # the view's renderable
        self.shown = ""  # what the view holds: "", "text", "diff" (for tests and the title)
        self._title = ""  # the registry's counts, once loaded (the hidden columns' count is added)

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Prompt registry: {one_line(str(self.root))} (loading)"), id="prompts-title")
        yield FittedTable(COLUMNS, id="prompts-table")
        with VerticalScroll(id="prompts-view"):
            yield Static(Text("Enter shows a version's text; d diffs it with the previous version; R runs the suite on it.",
                              style="dim"),
                         id="prompts-body")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.run_worker(self._load, thread=True, exclusive=True, group="prompts-load")

    def _load(self) -> None:
        try:
            registry = load_registry(self.root)
        except PromptError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        times = read_version_times(self.store_url) if self.store_url else None
        self.app.call_from_thread(self._show_registry, registry, times)

    def _failed(self, message: str) -> None:
        self.query_one("#prompts-title", Static).update(Text(f"Prompt registry: {one_line(message)}", style="bold red"))

    def _show_registry(self, registry: Registry, times: dict[tuple[str, str], VersionTimes] | None = None) -> None:
        self.registry = registry
        self.times = times
        check = check_versions(self.logged.values(), registry)
        drifted = {(d.prompt_id, d.prompt_version): d for d in check.drifted}
        keys = {(v.prompt_id, v.version) for v in registry.versions()} | set(self.logged)
        self.keys = sorted(keys, key=lambda key: (key[0], natural_key(key[1])))
        rows = []
        for key in self.keys:
            entry = registry.get(*key)
            row = self.logged.get(key)
            if entry is None:
                status = Text("unregistered", style="yellow")
            elif entry.text_unknown and key not in drifted:
                status = Text("text unknown", style="yellow")
            elif key in drifted:
                status = Text("DRIFT " + one_line(", ".join(drifted[key].logged_hashes)), style="bold red")
            else:
                status = Text("ok", style="green")
            name = f"{key[0]}@{key[1]}"
            rows.append((name, [
                Text(one_line(name), style="magenta"), status,
                Text(f"{row.requests:,}" if row else "0", justify="right"),
                Text(_percent(row.error_rate) if row else "-", justify="right"),
                Text(_percent(row.bad_rate) if row else "-", justify="right"),
                Text(f"{row.rated:,}" if row else "0", justify="right"),
                Text(ms(row.p95_ms, none="-") if row else "-", justify="right"),  # seconds, as the panes
                Text(one_line(", ".join(entry.labels)) if entry else "", style="cyan"),
                Text((entry.short_hash or "-") if entry else "-"),
                *self._seen(key),
            ]))  # fmt: skip
        self.query_one("#prompts-table", FittedTable).sync(rows)
        # the traffic columns are the window's, the all-time ones every stored request's
        window = f"traffic: window {one_line(self.window)}" if self.window else "traffic: the window"
        unread = "; all-time: the store could not be read" if times is None and self.store_url else ""
        self._title = (f"Prompt registry: {one_line(str(self.root))}: {len(registry.prompts)} prompt(s), "
                       f"{len(registry.versions())} version(s), {len(check.drifted)} drifted, "
                       f"{len(check.unregistered)} unregistered · {window}{unread}")
        self._show_title()

    def _seen(self, key: tuple[str, str]) -> tuple[Text, Text]:
        """The version's first and last request in the store ('-': none stored, or not read)."""
        times = (self.times or {}).get(key)
        if times is None:
            return Text("-"), Text("-")
        return Text(_stamp(rfc3339(times.first_ts))), Text(_stamp(rfc3339(times.last_ts)))

    def _show_title(self) -> None:
        hidden = hidden_note(self.query_one("#prompts-table", FittedTable).hidden_columns)
        self.query_one("#prompts-title", Static).update(Text(f"{self._title}  {hidden}" if hidden else self._title))

    def on_fitted_table_columns_fitted(self, event: FittedTable.ColumnsFitted) -> None:
        event.stop()
        if self._title:
            self._show_title()

    def _selected(self) -> tuple[tuple[str, str] | None, PromptVersion | None]:
        table = self.query_one("#prompts-table", DataTable)
        if self.registry is None or not self.keys or not 0 <= table.cursor_row < len(self.keys):
            return None, None
        key = self.keys[table.cursor_row]
        return key, self.registry.get(*key)

    def _body(self, renderable) -> None:
        self.body = renderable
        self.query_one("#prompts-body", Static).update(renderable)
        self.query_one("#prompts-view", VerticalScroll).scroll_home(animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        key, entry = self._selected()
        if key is None:
            return
        if entry is None:
            self._body(Text(f"{one_line(key[0])}@{one_line(key[1])} is seen in the logs but has no file in the registry.",
                            style="yellow"))
            self.shown = "missing"
            return
        head = Text(f"{entry.path.name}  {entry.short_hash or '-'}", style="bold")
        if entry.text_unknown:
            head.append(f"  {UNKNOWN_MARKER}: the body is a placeholder, not the prompt", style="yellow")
        if entry.model:
            head.append(f"  model {one_line(entry.model)}", style="cyan")
        if entry.parameters:
            head.append("  " + one_line(", ".join(f"{k}={v}" for k, v in entry.parameters.items())), style="dim")
        body = Text()
        body.append_text(head)
        body.append("\n\n")
        body.append(strip_control(entry.text))
        self._body(body)
        self.shown = "text"

    def action_regress(self) -> None:
        """The regression suite with the selected version as the one to run (the launch dialog asks first)."""
        key, _ = self._selected()
        self.app.action_regress(prompt_version=key[1] if key else None, prompt_id=key[0] if key else None)

    def action_diff(self) -> None:
        key, entry = self._selected()
        if entry is None or self.registry is None:
            self.notify("Select a registered version to diff", severity="warning")
            return
        previous = self.registry.prompts[entry.prompt_id].previous(entry.version)
        if entry.text_unknown or (previous is not None and previous.text_unknown):
            self.notify(f"No diff: {UNKNOWN_MARKER}", severity="warning", markup=False)
            return
        if previous is None:
            self.notify(f"{one_line(entry.version)} is the first version of {one_line(entry.prompt_id)}",
                        severity="information", markup=False)
            return
        self._body(diff_table(previous, entry))
        self.shown = "diff"


def diff_table(
    old: PromptVersion, new: PromptVersion, rows: Sequence[SideBySideRow] | None = None,
    settings: Sequence[SideBySideRow] | None = None,
) -> Table:
    """The side-by-side diff, coloured by change and marked -/+ (readable without colour):
    the front matter's settings first (model, max_tokens...), then the text; every line as
    plain Text."""
    rows = list(rows) if rows is not None else side_by_side(old.text, new.text)
    settings = list(settings) if settings is not None else settings_rows(old, new)
    summary = ", ".join(filter(None, (change_summary(rows), settings_summary(settings))))
    table = Table(
        title=Text(f"{one_line(old.prompt_id)}@{one_line(old.version)} → {one_line(new.prompt_id)}@{one_line(new.version)}: "
                   + one_line(summary)),
        expand=True, show_lines=False, title_justify="left",
    )  # fmt: skip
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column(Text(f"{one_line(old.version)} ({old.short_hash})"), ratio=1)
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column(Text(f"{one_line(new.version)} ({new.short_hash})"), ratio=1)
    for row in settings:
        _add_diff_row(table, row, number="fm")
    if settings:
        table.add_section()
    for row in rows:
        _add_diff_row(table, row)
    return table


def _add_diff_row(table: Table, row: SideBySideRow, number: str = "") -> None:
    """number: what the # columns say for a row without line numbers ("fm": front matter)."""
    style = DIFF_STYLES[row.tag]
    marker_left = "-" if row.tag in ("delete", "replace") and row.left else " "
    marker_right = "+" if row.tag in ("insert", "replace") and row.right else " "
    table.add_row(
        str(row.left_number or (number if row.left else "")), Text(f"{marker_left} {strip_control(row.left)}", style=style),
        str(row.right_number or (number if row.right else "")), Text(f"{marker_right} {strip_control(row.right)}", style=style),
    )  # fmt: skip
