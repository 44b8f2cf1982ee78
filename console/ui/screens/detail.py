"""One request in full: every field, the input, the output and the metadata."""

from __future__ import annotations

from typing import Iterator

import orjson
from rich.table import Table
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from console.formatting import request_usd, rfc3339
from console.records import RequestRecord, text_of
from console.sanitize import strip_control
from console.ui.formatting import ms
from console.ui.screens.sections import SectionsScreen, safe, scroll_bindings, section

SUMMARY_FIELDS = (
    "request_id", "model", "response_model", "provider", "prompt_id", "prompt_version",
    "prompt_hash", "status", "error_type", "finish_reason", "input_tokens",
    "cached_input_tokens", "reasoning_tokens", "output_tokens", "latency_ms", "ttft_ms",
    "cost_usd", "user_id", "session_id", "trace_id", "feedback", "variant", "environment",
    "tags",
)  # fmt: skip


def summary_table(record: RequestRecord) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("time (UTC)", Text(rfc3339(record.started_at, timespec="milliseconds")))
    for name in SUMMARY_FIELDS:
        value = getattr(record, name)
        if value is None:
            continue
        if name == "latency_ms" or name == "ttft_ms":
            cell = Text(f"{ms(value)}  ({value:,.1f} ms)")
        elif name == "cost_usd":
            cell = Text(request_usd(value))  # as the requests table writes it
        elif name == "status":
            cell = Text(value, style="bold red" if value == "error" else "green")
        else:
            cell = safe(value)
        table.add_row(name, cell)
    if record.cost_usd is None:
        table.add_row("cost_usd", Text("not logged", style="dim"))
    return table


class RequestDetailScreen(SectionsScreen):
    BINDINGS = scroll_bindings("detail")
    BODY_ID = "detail-body"

    def __init__(self, record: RequestRecord) -> None:
        super().__init__()
        self.record = record

    def sections(self) -> Iterator[Widget]:
        record = self.record
        yield Static(Text(f"Request {strip_control(record.request_id)}", style="bold"), id="detail-title")
        yield Static(summary_table(record), id="detail-fields")
        if record.error_message:
            yield from section("Error", safe(record.error_message), classes="error-body", id="detail-error")
        yield from section("Input", safe(text_of(record.input) or None), id="detail-input")
        yield from section("Output", safe(text_of(record.output) or None), id="detail-output")
        if record.metadata:
            pretty = orjson.dumps(record.metadata, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
            yield from section("Metadata", safe(pretty.decode()), id="detail-metadata")
