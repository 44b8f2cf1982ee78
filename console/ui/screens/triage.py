"""The triage queue (`t`): the poorest responses first, with why; label them from the keyboard.

    j/k move · Enter opens · b then a digit marks bad with a reason · o marks good
    n note · u undo · e edit the case in $EDITOR · Esc back

The queue comes from the evaluation thread (QueueReady) while this screen is open and
updates live; the cursor stays on its request as rows come and go above it (DiffTable). A
label shows at once and the cursor moves on to the next request, so walking the queue is
`b 1`, `b 3`, `o`...; `n` then writes on the request just labelled (the note field names it)
until the cursor is moved. A request labelled while the screen is open keeps its place before
the row that followed it, so `k` goes back to it; labelled elsewhere, it goes below the
unlabelled ones.

Provider errors (rate limits, 5xx, timeouts) are not in the queue: after the unlabelled
requests, one line per (model, error type) counts them in the figures' window (the title
says which); Enter on one shows those requests in the requests view.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from console.analytics.filters import filter_word, window_filter
from console.evaluation.provider_errors import ErrorGroup
from console.evaluation.triage import Queue, QueueItem
from console.formatting import rfc3339, short_time
from console.records import RequestRecord, text_of
from console.sanitize import one_line
from console.ui.screens.labelled_detail import LabelledDetailScreen
from console.ui.screens.labelling import LABEL_BINDINGS, UNKNOWN, LabelActions
from console.ui.screens.triage_columns import (
    COLUMNS,
    WHOLE,
    cut,
    elided,
    error_type_cell,
    fit_widths,
    floor_of_prompts,
    measured,
    why_cell,
)
from console.ui.widgets.diff_table import DiffTable
from console.ui.widgets.key_footer import KeyFooter
from console.ui.widgets.prompt_cell import prompt_ref_cell

PREVIEW_CHARS = 400


class TriageScreen(LabelActions, Screen):
    NAVIGATION = [
        Binding("escape,q", "app.pop_screen", "Back", id="triage.back"),
        Binding("j,down", "cursor_down", "Down", show=False, id="triage.down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="triage.up"),
        Binding("g,home", "top", "Top", show=False, id="triage.top"),
        Binding("G,end", "bottom", "Bottom", show=False, id="triage.bottom"),
        Binding("enter", "open", "Open", id="triage.open"),
    ]
    BINDINGS = [*NAVIGATION, *LABEL_BINDINGS]

    DEFAULT_CSS = """
    TriageScreen #triage-title { padding: 0 1; background: $panel; height: auto; max-height: 3; }
    TriageScreen #triage-table { height: 1fr; }
    TriageScreen #triage-preview { height: auto; max-height: 12; border: round $primary 50%; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.queue: Queue | None = None
        self.items: list[QueueItem] = []
        self.rows: list[QueueItem | ErrorGroup] = []  # the table's rows: items, with the error lines
        self.pending: dict[str, tuple[str, str | None]] = {}  # labels sent, not yet in a queue
        self.labelled_here: set[str] = set()  # labelled while the screen is open: kept in place
        self.just_labelled: tuple[str, str | None] | None = None  # (request, row the cursor moved on to)
        self.by_key: dict[str, QueueItem | ErrorGroup] = {}
        self.progress: tuple[int, int, int] | None = None
        self.widths = WHOLE  # the columns shown and cut (triage_columns), measured on the rows at each sync

    def compose(self) -> ComposeResult:
        yield Static(Text("Triage queue · waiting for scores…"), id="triage-title")
        yield DiffTable(COLUMNS, id="triage-table")
        yield Static(Text(""), id="triage-preview")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        app = self.app
        if getattr(app, "triage_queue", None) is not None:
            self.show_queue(app.triage_queue)
        if getattr(app, "scoring_progress", None) is not None:
            self.show_progress(*app.scoring_progress)
        app.evaluation.watch_queue(True)
        self.table.focus()

    def on_unmount(self) -> None:
        self.app.evaluation.watch_queue(False)

    @property
    def table(self) -> DiffTable:
        return self.query_one("#triage-table", DiffTable)

    # -- what the evaluation thread sends (forwarded by the app) ---------------------------------

    @property
    def left(self) -> int:
        if self.queue is None:
            return 0
        labelled_here = sum(1 for item in self.items if item.label is None and item.request_id in self.pending)
        return max(self.queue.left - labelled_here, 0)

    def show_queue(self, queue: Queue) -> None:
        self.queue = queue
        in_queue = {item.request_id: item for item in queue.items}
        for rid in list(self.pending):
            item = in_queue.get(rid)
            if item is not None and item.label is not None:
                del self.pending[rid]  # the thread has it
        unlabelled = [i for i in queue.items if i.label is None and i.request_id not in self.pending]
        open_ids = {item.request_id for item in unlabelled}
        kept = [i for i in queue.items if i.request_id in self.labelled_here and i.request_id not in open_ids]
        walked = self._in_place(unlabelled, kept)
        placed = {item.request_id for item in walked}
        rest = [i for i in queue.items if i.request_id not in placed]
        self.items = walked + rest
        self.rows = [*walked, *queue.provider_errors, *rest]
        self._sync()

    def _in_place(self, unlabelled: list[QueueItem], kept: list[QueueItem]) -> list[QueueItem]:
        """The unlabelled requests in the queue's order, with each request labelled here put back
        before the row that followed it on screen (the labelled ones come after the unlabelled
        in the thread's queue): moved to the bottom, `k` right after `b 1` went to another request."""
        before = [row.request_id for row in self.rows if isinstance(row, QueueItem)]
        where = {rid: index for index, rid in enumerate(before)}
        walked = list(unlabelled)
        for item in sorted(kept, key=lambda i: where.get(i.request_id, len(before)), reverse=True):
            index = where.get(item.request_id)
            shown = [row.request_id for row in walked]
            successor = None if index is None else next((rid for rid in before[index + 1:] if rid in shown), None)
            walked.insert(len(walked) if successor is None else shown.index(successor), item)
        return walked

    def label_done(self, request_id: str, verdict: str | None, reason: str | None, undone: bool) -> None:
        """A label saved (from here or the detail screen) or undone."""
        if undone:
            self.pending.pop(request_id, None)
            if verdict is not None:
                self.pending[request_id] = (verdict, None)
        elif verdict is not None:
            self.pending[request_id] = (verdict, reason)
            self.labelled_here.add(request_id)
        if any(item.request_id == request_id for item in self.items):
            self._sync()

    def show_progress(self, done: int, total: int, failures: int) -> None:
        self.progress = (done, total, failures)
        self._title()

    def _sync(self) -> None:
        """The rows shown, in the columns that fit the screen (the table keeps the cursor on its row)."""
        table = self.table
        self.by_key = {self._key(row): row for row in self.rows}
        self.widths = WHOLE
        rows = [(self._key(row), self._cells(row)) for row in self.rows]
        widths = fit_widths(self.app.size.width, measured(rows, *self._floors()))
        if widths != WHOLE:  # cut again to what the other columns leave
            self.widths = widths
            rows = [(self._key(row), self._cells(row)) for row in self.rows]
        table.set_columns(widths.shown)
        shown = widths.shown_indexes
        table.sync([(key, [cells[index] for index in shown]) for key, cells in rows])
        self._title()
        self._preview()

    @staticmethod
    def _key(row: QueueItem | ErrorGroup) -> str:
        return row.key if isinstance(row, ErrorGroup) else row.request_id

    def _floors(self) -> tuple[int, int]:
        """How narrow prompt@version and request can be: every version, error type and count whole."""
        groups = [row for row in self.rows if isinstance(row, ErrorGroup)]
        versions = [one_line(row.record.prompt_version) for row in self.rows if isinstance(row, QueueItem)]
        prompt_floor = floor_of_prompts(versions, [one_line(group.error_type) for group in groups])
        request_floor = max((self._group_cells(group)[0].cell_len for group in groups), default=0)
        return prompt_floor, request_floor

    def on_resize(self) -> None:
        if self.rows:
            self._sync()

    def _cells(self, item: QueueItem | ErrorGroup) -> list:
        if isinstance(item, ErrorGroup):
            return self._group_cells(item)
        pending = self.pending.get(item.request_id)
        verdict, reason = pending if pending else (item.verdict, item.label.reason if item.label else None)
        label = Text("")
        if verdict:
            label = Text(cut(verdict + (f": {reason}" if reason else ""), self.widths.label),
                         style="bold red" if verdict == "bad" else "green")  # fmt: skip
        score = Text("—" if item.score is None else f"{item.score:.2f}", justify="right")
        if item.score is not None and self.queue is not None and item.score < self.queue.below:
            score.stylize("bold red" if item.score < 0.25 else "yellow")
        record = item.record
        reasons = item.reasons(self.queue.below if self.queue else 0.5)
        # brief, the scorers' names: a reason reads 'scorer: why' (QueueItem.reasons)
        brief = one_line(", ".join(reason.split(":", 1)[0] for reason in reasons))
        why = Text(why_cell(one_line("; ".join(reasons)), brief, self.widths.why))
        return [
            Text(elided(one_line(record.request_id), self.widths.request)),
            score,
            label if verdict and self.widths.label_in_why else why,  # a line judged needs no why
            label,
            Text(prompt_ref_cell(record.prompt_id, record.prompt_version, self.widths.prompt)),
            Text(elided(one_line(record.model), self.widths.model)),
        ]

    def _group_cells(self, group: ErrorGroup) -> list:
        groups = self.queue.provider_errors if self.queue else ()
        position = groups.index(group) + 1 if group in groups else 0
        why = f"provider {group.kind}, not judged here · last {short_time(rfc3339(group.last_ts))}"
        return [
            Text(f"{group.count:,} errors ({position})", style="bold"),  # (a row's first cell is unique)
            Text("—", justify="right", style="dim"),
            Text(why_cell(why, "provider", self.widths.why), style="dim"),
            Text(""),
            Text(error_type_cell(one_line(group.error_type), self.widths.prompt)),
            Text(elided(one_line(group.model), self.widths.model)),
        ]

    def _title(self) -> None:
        parts = ["Triage queue"]
        if self.queue is None:
            parts.append("waiting for scores…")
        else:
            parts.append(f"{self.left:,} left")
            parts.append(f"lowest score first, under {self.queue.below:g}")
            if self.queue.provider_errors:
                errors, lines = self.queue.provider_error_count, len(self.queue.provider_errors)
                # a line is a model's errors of one type (group_errors), not one error
                per = f" in {lines:,} lines, one per model and error type" if lines > 1 else ", all of one model and error type"
                parts.append(f"{errors:,} provider errors{errors_scope(self.queue.errors_window)} below{per}")
        if self.progress is not None:
            done, total, failures = self.progress
            if total > done:
                parts.append(f"scoring {done:,}/{total:,}")
            if failures:
                parts.append(f"{failures:,} scorer failures")
        self.query_one("#triage-title", Static).update(Text(" · ".join(parts)))

    def _preview(self) -> None:
        item = self.current_item
        preview = Text()
        row = self.current_row
        if isinstance(row, ErrorGroup):
            window = errors_scope(self.queue.errors_window if self.queue else None)
            preview.append(f"{row.count:,} requests to {one_line(row.model)} failed at the provider ({row.kind}: "
                           f"{one_line(row.error_type)}){window}, the newest {short_time(rfc3339(row.last_ts))} UTC.\n")
            preview.append("Not a verdict on an answer, so not in the queue; Enter lists them in the requests view.",
                           style="dim")  # fmt: skip
        if item is not None:
            below = self.queue.below if self.queue else 0.5
            for reason in item.reasons(below):
                preview.append("• ", style="yellow")
                preview.append(one_line(reason) + "\n")
            record = item.record
            body = record.error_message if record.is_error and record.error_message else text_of(record.output)
            preview.append(one_line(body or "(no output logged)")[:PREVIEW_CHARS], style="dim")
        self.query_one("#triage-preview", Static).update(preview)

    # -- cursor --------------------------------------------------------------------------------

    @property
    def current_row(self) -> QueueItem | ErrorGroup | None:
        """The row under the cursor, by its key (a queue item or a provider-error line): the keys
        act on the row highlighted, never on whichever row an index names."""
        if not self.rows or not self.is_mounted:
            return None
        key = self.table.current_key
        return None if key is None else self.by_key.get(key)

    @property
    def current_item(self) -> QueueItem | None:
        row = self.current_row
        return row if isinstance(row, QueueItem) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # the user moved on: n is about the row under the cursor. (A narrow screen's columns
        # change with a label, and the rows added again highlight others on the way: only a
        # cursor still off the row the label moved it to has been moved.)
        moved_to = self.just_labelled[1] if self.just_labelled is not None else None
        if moved_to is not None and event.row_key.value != moved_to and self.table.current_key != moved_to:
            self.just_labelled = None
        self._preview()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    def action_top(self) -> None:
        self.table.move_cursor(row=0)

    def action_bottom(self) -> None:
        self.table.move_cursor(row=max(len(self.rows) - 1, 0))

    def action_open(self) -> None:
        row = self.current_row
        if isinstance(row, ErrorGroup):  # the requests behind the line, in the requests view
            self.app.pop_screen()
            self.app.dashboard.filter_requests(group_filter(row, self.queue.errors_window if self.queue else None))
        elif row is not None:
            self.app.push_screen(LabelledDetailScreen(row.record, row))

    # -- labels ----------------------------------------------------------------------------------

    def label_target(self) -> RequestRecord | None:
        item = self.current_item
        return item.record if item else None

    def verdict_of(self, request_id: str) -> str | None:
        if request_id in self.pending:
            return self.pending[request_id][0]
        item = next((i for i in self.items if i.request_id == request_id), None)
        return item.verdict if item is not None else UNKNOWN

    def no_target_reason(self) -> str:
        if isinstance(self.current_row, ErrorGroup):
            return "a line of provider errors: nothing to judge (Enter lists the requests)"
        return "no request selected"

    def labelled(self, request_id: str, verdict: str, reason: str | None) -> None:
        self.pending[request_id] = (verdict, reason)
        self.labelled_here.add(request_id)
        index = next(
            (i for i, row in enumerate(self.rows) if isinstance(row, QueueItem) and row.request_id == request_id), None
        )
        if index is None:
            return
        # the columns measured again: a label, cut when the screen is narrow, no longer widens its
        # column into prompt@version's room
        self._sync()
        # on to the next request nobody has labelled
        for later in range(index + 1, len(self.rows)):
            item = self.rows[later]
            if isinstance(item, QueueItem) and item.label is None and item.request_id not in self.pending:
                self.table.move_cursor(row=later, animate=False)
                break
        self.just_labelled = (request_id, self.table.current_key)
        self._title()
        self._preview()

    def note_target(self) -> tuple[RequestRecord | None, str]:
        """`n` right after a label writes on the request just labelled, as long as the cursor is
        where the label moved it: the request it moved on to has no label, so its note would be
        refused, and following the advice (b, then n) moved the cursor on again."""
        if self.just_labelled is not None:
            request_id, moved_to = self.just_labelled
            item = self.by_key.get(request_id)
            if self.table.current_key == moved_to and isinstance(item, QueueItem):
                verdict, reason = self.pending.get(request_id) or (item.verdict, item.label.reason if item.label else None)
                if verdict is not None:
                    return item.record, f", just marked {verdict}" + (f": {reason}" if reason else "")
        return super().note_target()


def errors_scope(window: str | None) -> str:
    """Where the provider-error lines count, as the title and the preview say it: the figures'
    window (the header names its end under --at or a replay)."""
    if window is None:
        return ""
    return " in window all" if window == "all" else f" in the last {window}"


def group_filter(group: ErrorGroup, window: str | None = None) -> str:
    """The filter of the requests behind one error line: `model:` names that model alone (not
    gpt-4o-mini for gpt-4o), `error:` the type's first word and the rest as words, any that
    the filter would read as a term (a colon, a leading -) in quotes; and the window the line
    counts (since:, as a pane's Enter writes it), so the requests listed are those counted."""
    kind, *words = group.error_type.split()  # the filter's terms are words
    text = " ".join([f"model:{group.model}", "status:error", f"error:{kind}", *map(filter_word, words)])
    return window_filter(text, window)
