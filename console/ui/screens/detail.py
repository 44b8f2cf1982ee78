"""One request in full: every field, the input, the output and the metadata."""

from __future__ import annotations

import orjson
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from console.formatting import rfc3339, usd
from console.records import RequestRecord, text_of
from console.sanitize import strip_control
from console.ui.formatting import ms

SUMMARY_FIELDS = (
    "request_id", "model", "response_model", "provider", "prompt_id", "prompt_version",
    "prompt_hash", "status", "error_type", "finish_reason", "input_tokens",
    "cached_input_tokens", "reasoning_tokens", "output_tokens", "latency_ms", "ttft_ms",
    "cost_usd", "user_id", "session_id", "trace_id", "feedback", "variant", "environment",
    "tags",
)  # fmt: skip


def safe(value: object) -> Text:
    """Untrusted text as a Text object: markup is never parsed, control codes are stripped."""
    if value is None:
        return Text("—", style="dim")
    if not isinstance(value, str):
        value = orjson.dumps(value).decode()
    return Text(strip_control(value))


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
            cell = Text(usd(value))
        elif name == "status":
            cell = Text(value, style="bold red" if value == "error" else "green")
        else:
            cell = safe(value if isinstance(value, str) else orjson.dumps(value).decode())
        table.add_row(name, cell)
    if record.cost_usd is None:
        table.add_row("cost_usd", Text("not logged", style="dim"))
    return table


class RequestDetailScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="detail.back"),
        Binding("j,down", "scroll_down", "Scroll down", show=False, id="detail.scroll_down"),
        Binding("k,up", "scroll_up", "Scroll up", show=False, id="detail.scroll_up"),
    ]

    DEFAULT_CSS = """
    RequestDetailScreen VerticalScroll { padding: 0 1; }
    RequestDetailScreen .section-title { margin-top: 1; text-style: bold; color: $accent; }
    RequestDetailScreen .body { border: round $primary 50%; padding: 0 1; }
    RequestDetailScreen .error-body { border: round $error; padding: 0 1; }
    """

    def __init__(self, record: RequestRecord) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        record = self.record
        with VerticalScroll(id="detail-body"):
            yield Static(Text(f"Request {strip_control(record.request_id)}", style="bold"), id="detail-title")
            yield Static(summary_table(record), id="detail-fields")
            if record.error_message:
                yield Static("Error", classes="section-title")
                yield Static(safe(record.error_message), classes="error-body", id="detail-error")
            yield Static("Input", classes="section-title")
            yield Static(safe(text_of(record.input) or None), classes="body", id="detail-input")
            yield Static("Output", classes="section-title")
            yield Static(safe(text_of(record.output) or None), classes="body", id="detail-output")
            if record.metadata:
                yield Static("Metadata", classes="section-title")
                pretty = orjson.dumps(record.metadata, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
                yield Static(safe(pretty.decode()), classes="body", id="detail-metadata")
        yield Footer()

    def action_scroll_down(self) -> None:
        self.query_one("#detail-body", VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#detail-body", VerticalScroll).scroll_up()
