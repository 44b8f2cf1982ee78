"""The triage queue's columns fit the screen once a label widens its column (found in the user
trial: in the demo at 160x48, after 'b 2' the label column read 'bad: hallucination' and pushed the
model column past the right edge, so claude-sonnet-4-5's rows read 'claude-sonnet-4', the name of
another model). The why column is cut to what the other columns, as measured, leave. At 80
columns the model and a provider error's type stay on screen whole (the user trial at 80x24 found
the model past the right edge and 'InternalServerErr…'): triage_columns says what gives way."""

from __future__ import annotations

import re
import time

from conftest import line_of, make_record
from console.config import EvaluationSettings, RegressionSettings, Settings
from console.ui.app import ConsoleApp
from console.ui.screens.labelling import ReasonModal
from console.ui.screens.triage import TriageScreen
from console.ui.screens.triage_columns import (
    CELL_PADDING,
    COLUMNS,
    LABEL,
    SCROLLBAR,
    WHY_LABEL,
    Measure,
    elided,
    error_type_cell,
    fit_widths,
)
from test_ui import wait_until


def fits(screen: TriageScreen) -> bool:
    table = screen.table
    return table.virtual_size.width <= table.scrollable_content_region.width


def cell(screen: TriageScreen, row_key: str, column: str) -> str:
    return str(screen.table.get_cell(row_key, column))


def drawn_lines(screen: TriageScreen) -> list[str]:
    """The table's rows as drawn on screen (scrolled to the top), inside its width."""
    table = screen.table
    lines = [table.render_line(y).text for y in range(1, table.scrollable_content_region.height)]
    assert all(len(line) <= table.size.width for line in lines)
    return lines


def _triage_app(tmp_path, records: list[dict], reason: str) -> tuple[ConsoleApp, str]:
    """A console tailing these records with every request sampled, and the key of a reason."""
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in records))
    settings = Settings(
        evaluation=EvaluationSettings(sample_rate=1.0),
        regression=RegressionSettings(suite=str(tmp_path / "regression" / "cases.jsonl")),
    )
    digit = str(settings.evaluation.reasons.index(reason) + 1)
    return ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 's.db'}", settings=settings), digit


async def _label_current_bad(pilot, app, screen: TriageScreen, digit: str) -> str:
    """b and a reason on the selected item; its request id once the label is shown."""
    # the cursor's row is read by key (1637a31): once the table holds the queue's rows
    await wait_until(pilot, lambda: screen.current_item is not None)
    first = screen.current_item.request_id
    await pilot.press("b")
    await wait_until(pilot, lambda: isinstance(app.screen, ReasonModal))
    await pilot.press(digit)
    await wait_until(pilot, lambda: any(i.request_id == first and i.label is not None for i in screen.items))
    await pilot.pause(0.1)
    return first


async def test_a_long_label_leaves_the_model_column_on_screen(tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "oncall-ana")
    now = time.time()
    records = [
        make_record(ts=now - 300 + i * 10, model="claude-sonnet-4-5", prompt_id="ticket-classifier", prompt_version="v4",
                    status="error", error_type="BadRequestError", output=None,
                    error_message="Error code: 400 - the request was rejected by the content filter " * 3)
        for i in range(6)
    ]  # fmt: skip
    app, digit = _triage_app(tmp_path, records, "hallucination")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.queue is not None and len(screen.items) == 6)
        await pilot.pause(0.1)
        assert fits(screen)
        first = await _label_current_bad(pilot, app, screen, digit)
        assert cell(screen, first, "label") == "bad: hallucination"
        assert fits(screen), (screen.table.virtual_size.width, screen.table.scrollable_content_region.width)


PROMPTS = [("ticket-classifier", "v3"), ("ticket-classifier", "v4"), ("summarize-thread", "v2"), ("support-answer", "v8")]


async def test_at_80_columns_a_label_leaves_every_version_on_screen(tmp_path, monkeypatch):
    """Found in the user trial at 80x24: after 'b 6' the label column read 'bad: too slow' and
    every row's prompt@version 'support-ans' (the version past the right edge). Narrow, the
    label shares why's column (a labelled line shows its label there), never the version."""
    monkeypatch.setenv("USER", "oncall-ana")
    now = time.time()
    records = [
        make_record(ts=now - 300 + i * 10, model="gpt-4o-mini", prompt_id=prompt, prompt_version=version,
                    status="error", error_type="BadRequestError", output=None,
                    error_message="Error code: 400 - the request was rejected by the content filter")
        for i, (prompt, version) in enumerate(PROMPTS * 6)  # more rows than the screen: a vertical scrollbar
    ]  # fmt: skip
    app, digit = _triage_app(tmp_path, records, "too slow")

    def versions_on_screen(screen: TriageScreen) -> None:
        assert screen.table.show_vertical_scrollbar
        for row, line in zip(screen.rows, drawn_lines(screen)):
            assert re.search(rf"@{row.record.prompt_version}( |$)", line), line  # drawn whole, inside the table
            assert re.search(r" gpt-4o-mini *$", line), line
        refs = [cell(screen, row.request_id, "prompt@version") for row in screen.rows]
        assert {ref.split("@")[-1] for ref in refs} == {"v2", "v3", "v4", "v8"}, refs

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.queue is not None and len(screen.items) == len(records))
        await pilot.pause(0.1)
        versions_on_screen(screen)
        first = await _label_current_bad(pilot, app, screen, digit)
        versions_on_screen(screen)
        assert cell(screen, first, WHY_LABEL) == "bad: too slow"  # in why's place: the line is judged
        # a wider screen: the label in its own column again, every column on screen
        await pilot.resize_terminal(160, 48)
        await pilot.pause(0.2)
        assert cell(screen, first, "label") == "bad: too slow"
        assert fits(screen), (screen.table.virtual_size.width, screen.table.scrollable_content_region.width)


async def test_at_80_columns_the_model_and_whole_error_types_are_on_screen(tmp_path, monkeypatch):
    """The demo's user trial at 80x24: the model column past the right edge (not on screen at
    all) and 'InternalServerErr…' on the provider error lines. Each line, drawn, must show what
    it is, why it is there (its score, an error line's type whole) and its model whole, before
    and after a label."""
    monkeypatch.setenv("USER", "oncall-ana")
    now = time.time()
    models = ["claude-sonnet-4-5", "gpt-4o-mini", "claude-haiku-4-5"]
    records = [
        make_record(ts=now - 300 + i * 10, model=models[i % 3], prompt_id="ticket-classifier", prompt_version=f"v{3 + i % 2}",
                    status="error", error_type="BadRequestError", output=None,
                    error_message="Error code: 400 - the request was rejected by the content filter")
        for i in range(6)
    ]  # fmt: skip
    provider_errors = [("claude-sonnet-4-5", "InternalServerError"), ("gpt-4o-mini", "APIConnectionError"),
                       ("claude-haiku-4-5", "RateLimitError")]  # fmt: skip
    records += [
        make_record(ts=now - 200 + i, model=model, status="error", error_type=error_type, output=None,
                    error_message="provider failure")
        for model, error_type in provider_errors for i in range(2)
    ]  # fmt: skip
    app, digit = _triage_app(tmp_path, records, "too slow")

    def every_line_whole(screen: TriageScreen) -> None:
        lines = drawn_lines(screen)
        assert len(lines) >= len(screen.rows)
        for row, line in zip(screen.rows, lines):
            model = row.model if hasattr(row, "error_type") else row.record.model
            assert re.search(rf" {model} *$", line), line  # the model whole, the line's last column
            if hasattr(row, "error_type"):
                assert f" {row.error_type} " in line, line
            else:
                assert row.request_id in line and f"@{row.record.prompt_version} " in line, line
        assert fits(screen), (screen.table.virtual_size.width, screen.table.scrollable_content_region.width)

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.queue is not None and len(screen.items) == 6
                         and len(screen.queue.provider_errors) == 3)  # fmt: skip
        await pilot.pause(0.1)
        every_line_whole(screen)
        assert "label" not in screen.table.columns  # empty: the first column to go
        first = await _label_current_bad(pilot, app, screen, digit)
        every_line_whole(screen)
        assert cell(screen, first, WHY_LABEL) in ("bad: too slow", "bad: too…")  # the verdict, the reason's start


def natural_widths(request: int, label: int = len("bad: too slow"), model: int = len("claude-sonnet-4-5")) -> tuple:
    return (request, 4, 60, label, len("ticket-classifier@v3"), model)


def drawn_width(natural: tuple, widths) -> int:
    """The table's width as drawn: each shown column's cells cut to its width, or its header."""
    cut_to = {"request": widths.request, "why": widths.why, "label": widths.label,
              "prompt@version": widths.prompt, "model": widths.model}  # fmt: skip
    total = SCROLLBAR
    for name in widths.shown:
        base = "why" if name == WHY_LABEL else name
        column = COLUMNS.index(base)
        width = natural[column] if cut_to.get(base) is None else min(natural[column], cut_to[base])
        total += max(len(name), width) + CELL_PADDING
    return total


def test_at_80_columns_the_model_stays_whole_whatever_the_request_ids():
    """Request ids of any length up to 36 (a UUID), labelled or not: the model whole, every
    version and error type whole (the column's floor), inside 80 columns with a scrollbar."""
    for request in (16, 17, 20, 24, 36):
        for label in (0, len("bad: too slow")):
            natural = natural_widths(request, label)
            widths = fit_widths(80, Measure(natural, prompt_floor=len("InternalServerError"), request_floor=17))
            assert drawn_width(natural, widths) <= 80, (request, label, widths)
            assert "model" in widths.shown and widths.model is None, (request, widths)
            assert widths.prompt is None or widths.prompt >= len("InternalServerError"), (request, widths)
            # why in brief, or the label in its place (long ids elided in the middle)
            assert ("why" in widths.shown) == (not label) and (WHY_LABEL in widths.shown) == bool(label)


def test_the_columns_give_way_in_order_as_the_screen_narrows():
    """Wide: every column whole. Then the empty label column goes, why goes brief, then hides;
    only a screen too narrow for the rest elides the model (never past the edge)."""
    natural = natural_widths(16, label=0)
    measure = Measure(natural, prompt_floor=len("InternalServerError"), request_floor=17)
    assert fit_widths(160, measure).shown == COLUMNS
    assert fit_widths(100, measure).shown == ("request", "score", "why", "prompt@version", "model")
    assert fit_widths(100, measure).why >= 24
    assert fit_widths(80, measure).why < 24  # the scorers' names only
    assert "why" not in fit_widths(72, measure).shown and fit_widths(72, measure).model is None
    narrow = fit_widths(60, measure)
    assert narrow.model is not None and drawn_width(natural, narrow) <= 60
    assert natural[LABEL] == 0


def test_names_cut_only_when_they_cannot_fit_keep_what_tells_them_apart():
    assert error_type_cell("InternalServerError", 19) == "InternalServerError"
    assert error_type_cell("openai.RateLimitError", 16) == "…RateLimitError"
    assert error_type_cell("InternalServerError", 15) == "InternalServer…"
    assert elided("claude-sonnet-4-5", 17) == "claude-sonnet-4-5"
    assert elided("claude-sonnet-4-5", 12) == "claud…et-4-5"  # its family, its version
    ids = [f"3f2a9c1e-1234-4e5f-9abc-6a7b8c9d0e{n:02d}" for n in range(20)]
    assert len({elided(i, 20) for i in ids}) == len(ids)  # the ends kept: still one row each
