"""The request detail with the label keys (b, o, n, u, e) and, from the queue, its scores."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.evaluation.triage import QueueItem
from console.records import RequestRecord
from console.sanitize import strip_control
from console.ui.screens.detail import RequestDetailScreen
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


class LabelledDetailScreen(LabelActions, RequestDetailScreen):
    BINDINGS = LABEL_BINDINGS

    def __init__(self, record: RequestRecord, item: QueueItem | None = None) -> None:
        super().__init__(record)
        self.item = item
        self.marked: str | None = None  # a verdict given on this screen

    def on_mount(self) -> None:
        if self.item is not None and (self.item.scores or self.item.label):
            body = self.query_one("#detail-body", VerticalScroll)
            title = Static("Scores", classes="section-title")
            body.mount(title, after="#detail-fields")
            body.mount(Static(scores_table(self.item), classes="body", id="detail-scores"), after=title)

    def label_target(self) -> RequestRecord | None:
        return self.record

    def verdict_of(self, request_id: str) -> str | None:
        if self.marked is not None:
            return self.marked
        return self.item.verdict if self.item is not None else UNKNOWN

    def labelled(self, request_id: str, verdict: str, reason: str | None) -> None:
        self.marked = verdict
        self.sub_title = f"marked {verdict}" + (f" ({reason})" if reason else "")
