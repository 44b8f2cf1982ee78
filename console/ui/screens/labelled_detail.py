"""The request detail with the label keys (b, o, n, u, e) and, from the queue, its scores."""

from __future__ import annotations

from typing import Iterator

from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from console.evaluation.triage import QueueItem
from console.formatting import rfc3339
from console.records import RequestRecord
from console.sanitize import one_line, strip_control
from console.ui.screens.detail import RequestDetailScreen
from console.store.evaluation import Label
from console.ui.screens.labelling import LABEL_BINDINGS, UNKNOWN, LabelActions


def scores_table(item: QueueItem) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(overflow="fold")
    for scorer, score, reason in item.scores:
        style = "bold red" if score < 0.5 else "green"
        table.add_row(Text(strip_control(scorer)), Text(f"{score:.2f}", style=style), Text(strip_control(reason)))
    if item.label is not None:
        label = item.label
        why = f" ({label.reason})" if label.reason else ""
        note = f" — {label.note}" if label.note else ""
        table.add_row("label", Text(label.verdict, style="bold"), Text(strip_control(f"{why.strip()} by {label.author}{note}")))
    return table


LOOKING = "looking it up…"


def label_line(label: Label | str | None, saving: str | None = None) -> Text:
    """The detail's label line: the stored label (verdict, reason, author, when, note), LOOKING,
    or None: unlabelled. saving: a verdict just given here, before the store has it."""
    line = Text("Label: ", style="bold")
    if saving is not None:
        return line.append(saving, style="bold red" if saving.startswith("bad") else "bold green").append(
            "  saving…", style="dim")
    if label is None:
        return line.append("none", style="dim")
    if isinstance(label, str):
        return line.append(label, style="dim")
    line.append(label.verdict, style="bold red" if label.verdict == "bad" else "bold green")
    if label.reason:
        line.append(f" ({one_line(label.reason)})")
    line.append(f" · by {one_line(label.author)} {rfc3339(label.created_at, timespec='seconds')}")
    if label.note:
        line.append(f" · note: {one_line(label.note)}")
    return line


class LabelledDetailScreen(LabelActions, RequestDetailScreen):
    """The label line under the title says the request's current label: the store's (asked of
    the evaluation thread when opened, LabelFound), then what b/o/u did here (LabelDone); in the
    demo only a toast said it, and the detail never showed a label."""

    BINDINGS = LABEL_BINDINGS

    def __init__(self, record: RequestRecord, item: QueueItem | None = None) -> None:
        super().__init__(record)
        self.item = item
        self.marked: str | None = None  # a verdict given on this screen
        self.label: Label | str | None = item.label if item is not None and item.label else LOOKING

    def sections(self) -> Iterator[Widget]:
        widgets = iter(super().sections())
        yield next(widgets)  # the title, then the label
        yield Static(label_line(self.label), id="detail-label")
        yield from widgets

    def on_mount(self) -> None:
        if self.item is not None and (self.item.scores or self.item.label):
            body = self.query_one("#detail-body", VerticalScroll)
            title = Static("Scores", classes="section-title")
            body.mount(title, after="#detail-fields")
            body.mount(Static(scores_table(self.item), classes="body", id="detail-scores"), after=title)
        self._look_up()

    def _look_up(self) -> None:
        feed = getattr(self.app, "evaluation", None)
        if feed is None:  # an app without the evaluation thread: the queue's label, if any
            self.show_label(None if self.label == LOOKING else self.label)
            return
        start = getattr(self.app, "start_evaluation", None)
        if start is not None:
            start()  # asked now, not after the 15 s the scoring may wait (labelling._feed)
        feed.look_up_label(self.record.request_id)

    def show_label(self, label: Label | str | None) -> None:
        """The stored label (LabelFound, LabelDone), or LOOKING while it is asked for again."""
        self.label, self.marked = label, None
        self.query_one("#detail-label", Static).update(label_line(label))

    def label_done(self, outcome) -> None:
        """A label saved or undone (from here or another screen) on this request."""
        if outcome.undone or outcome.label is None:  # the verdict before it is current again: ask
            self.show_label(LOOKING)
            self._look_up()
        else:
            self.show_label(outcome.label)

    def label_target(self) -> RequestRecord | None:
        return self.record

    def verdict_of(self, request_id: str) -> str | None:
        if self.marked is not None:
            return self.marked
        if isinstance(self.label, str):  # still looking: the evaluation thread knows
            return self.item.verdict if self.item is not None else UNKNOWN
        return self.label.verdict if self.label is not None else None

    def noted(self, request_id: str) -> None:
        self._look_up()  # answered after the note is saved (one inbox, in order): the line shows it

    def labelled(self, request_id: str, verdict: str, reason: str | None) -> None:
        self.marked = verdict
        saving = verdict + (f" ({one_line(reason)})" if reason else "")
        self.query_one("#detail-label", Static).update(label_line(None, saving=saving))
        self._look_up()  # answered after the label is saved, or was refused (a notice says why)
