"""A rejected line keeps what its reason complains about, and the rejected-lines list fits its
reasons by cells. Found in a user trial of the demo: `malformed.jsonl 27` said
`Expected 'float | null', got 'str' - at 'cost_usd'` over the line's first 120 characters, which
never reach cost_usd; the list cut its reasons mid-word at the 80th column."""

from __future__ import annotations

import json
import re

from rich.text import Text
from textual.app import App
from textual.widgets import DataTable, Static

from console.sources.base import RejectedLine
from console.sources.excerpt import CUT_MARK, EXCERPT_CHARS, excerpt
from console.sources.jsonl import JsonlTail
from console.ui.screens.rejected import (
    RejectedLineScreen,
    RejectedLinesScreen,
    fitted,
    kept_label,
)

# the demo's malformed.jsonl line 27: 542 characters, cost_usd a string at the end
DEMO_LINE = json.dumps({
    "ts": "2026-12-07T18:18:15.012Z", "request_id": "req_bd331e0a8bc3", "model": "claude-sonnet-4-5",
    "prompt_id": "support-answer", "prompt_version": "v8", "prompt_hash": "e54ab7f1e865",
    "input_tokens": 2831, "output_tokens": 116, "latency_ms": 2384.4, "status": "ok", "ttft_ms": 827,
    "user_id": "u_ba1dfb", "session_id": "s_de788327", "input": "Lost my phone and can't get past 2FA. thx",
    "output": "Thanks for reaching out! Sign in with a backup code. Without one, a workspace admin can "
              "reset your 2FA under **Admin → Members**.",
    "region": "us-east-1", "cost_usd": "0.0042",
}, separators=(",", ":"), ensure_ascii=False)  # fmt: skip
REASON = "Expected 'float | null', got 'str' - at 'cost_usd'"


def long_line(output_chars: int = 20_000, extra: dict | None = None, after: str = "") -> str:
    """A line with a long output before the bad field (a model's long answer); `after`, a
    field after it."""
    record = json.loads(DEMO_LINE)
    cost = record.pop("cost_usd")
    record["output"] = "é" * output_chars  # two bytes each: byte and character offsets differ
    record.update(extra or {})
    record["cost_usd"] = cost
    if after:
        record["notes"] = after
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def cuts_add_up(kept: str, line: str) -> int:
    """The marks' counts are true: the pieces kept and the characters cut make the line. How
    many cuts."""
    cuts = [int(n.replace(",", "")) for n in re.findall(r"«… ([\d,]+) characters cut …»", kept)]
    pieces = re.split(r" «… [\d,]+ characters cut …»(?: |$)", kept)
    assert sum(map(len, pieces)) + sum(cuts) == len(line) and all(piece in line for piece in pieces)
    return len(cuts)


def test_the_demo_line_is_kept_whole_with_the_field_its_reason_names():
    kept = excerpt(DEMO_LINE.encode(), REASON)
    assert kept == DEMO_LINE and '"cost_usd":"0.0042"' in kept  # the old 120-character head cut it off
    assert kept_label(kept) == "The line, whole"


def test_a_long_line_keeps_its_start_and_the_field_the_reason_names_with_each_cut_said():
    line = long_line()
    kept = excerpt(line.encode(), REASON)
    assert kept.startswith('{"ts":"2026-12-07T18:18:15.012Z","request_id":"req_bd331e0a8bc3"')  # which request
    assert '"cost_usd":"0.0042"}' in kept  # what the reason complains about
    assert f"{CUT_MARK} " in kept and "characters cut …»" in kept
    assert len(kept) <= EXCERPT_CHARS + 2 * len(f" {CUT_MARK} 20,000 characters cut …»")
    assert cuts_add_up(kept, line) == 1  # the field ends the line: one cut, after the start
    assert kept_label(kept).startswith("The line, cut")


def test_a_field_mid_line_is_kept_between_two_cuts():
    line = long_line(after="x" * 5000)
    kept = excerpt(line.encode(), REASON)
    assert '"cost_usd":"0.0042"' in kept and cuts_add_up(kept, line) == 2


def test_a_nested_path_and_a_byte_offset_are_found_too():
    line = long_line(extra={"metadata": {"name": "first", "tool": {"name": 7}}}, after="x" * 5000)
    kept = excerpt(line.encode(), "Expected 'str', got 'int' - at 'metadata.tool.name'")
    assert '"name":7' in kept and cuts_add_up(kept, line) == 2
    broken = long_line() + " trailing"
    byte = len(long_line().encode())
    kept = excerpt(broken.encode(), f"invalid JSON: JSON is malformed: trailing characters (byte {byte})")
    assert kept.endswith('"cost_usd":"0.0042"} trailing')


def test_a_reason_naming_no_field_keeps_the_start():
    line = long_line()
    kept = excerpt(line.encode(), "missing core field 'model'")
    assert kept.startswith(line[:EXCERPT_CHARS]) and kept.endswith(f"{len(line) - EXCERPT_CHARS:,} characters cut …»")


def test_the_tail_stores_the_excerpt_around_the_field(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text(DEMO_LINE + "\n" + long_line() + "\n", encoding="utf-8")
    with JsonlTail([str(log)]) as tail:
        batch = tail.read_available()
    whole, cut = batch.rejected
    assert whole.reason == REASON and whole.excerpt == DEMO_LINE
    assert cut.reason == REASON and '"cost_usd":"0.0042"}' in cut.excerpt


async def test_the_line_view_shows_the_field_and_the_list_fits_reasons_by_cells():
    folder = "/tmp/llmops-demo-z7f3sowj/history"
    hostile = DEMO_LINE.replace("Lost my phone", "[bold red]Lost[/] my \x1b[31mphone")
    long_reason = "invalid JSON: JSON is malformed: expected ',' or '}' (byte 68) in the 日本語 part of the line"
    lines = [
        RejectedLine(f"{folder}/malformed.jsonl", 27, REASON, hostile),
        RejectedLine(f"{folder}/malformed.jsonl", 3, long_reason, "{}"),
    ]

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(RejectedLinesScreen(lines, 2))

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        table = app.screen.query_one(DataTable)
        reason = table.get_row_at(1)[2]
        assert isinstance(reason, Text) and reason.plain.endswith("…")
        start = sum(column.get_render_width(table) for column in table.ordered_columns[:2])
        assert start + table.ordered_columns[2].get_render_width(table) <= 80  # on screen, not cut by its edge
        assert reason.cell_len == table.ordered_columns[2].width  # fitted by cells (日本語 is 6)
        assert long_reason.startswith(reason.plain[:-1])
        assert str(table.get_row_at(0)[2]) == REASON  # a reason that fits is whole
        await pilot.resize_terminal(200, 24)
        await pilot.pause(0.2)
        table = app.screen.query_one(DataTable)
        assert str(table.get_row_at(1)[2]) == long_reason and len(table.ordered_columns) == 4

        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, RejectedLineScreen)
        shown = [widget.render() for widget in app.screen.query(Static)]
        texts = [item.plain if isinstance(item, Text) else str(item) for item in shown]
        body = next(text for text in texts if "req_bd331e0a8bc3" in text)
        assert '"cost_usd":"0.0042"' in body and "[bold red]Lost[/]" in body and "\x1b" not in body
        assert "The line, whole" in texts and not any("long lines are cut" in text for text in texts)


def test_fitted_keeps_a_path_s_end():
    path = "a/very/long/folder/name/malformed.jsonl"
    assert fitted(path, 20, keep_end=True).plain == "…" + path[-19:]
    assert fitted("short.jsonl", 20, keep_end=True).plain == "short.jsonl"
