"""The triage queue's columns fit the screen once a label widens its column (found in the user
trial: in the demo at 160x48, after 'b 2' the label column read 'bad: hallucination' and pushed the
model column past the right edge, so claude-sonnet-4-5's rows read 'claude-sonnet-4', the name of
another model). The why column is cut to what the other columns, as measured, leave."""

from __future__ import annotations

import re
import time

from conftest import line_of, make_record
from console.config import EvaluationSettings, RegressionSettings, Settings
from console.ui.app import ConsoleApp
from console.ui.screens.labelling import ReasonModal
from console.ui.screens.triage import TriageScreen
from console.ui.screens.triage_columns import CELL_PADDING, LABEL_SQUEEZED, PROMPT_MIN, SCROLLBAR, fit_widths
from test_ui import wait_until


def fits(screen: TriageScreen) -> bool:
    table = screen.table
    return table.virtual_size.width <= table.scrollable_content_region.width


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
        assert str(screen.table.get_row(first)[3]) == "bad: hallucination"
        assert fits(screen), (screen.table.virtual_size.width, screen.table.scrollable_content_region.width)


PROMPTS = [("ticket-classifier", "v3"), ("ticket-classifier", "v4"), ("summarize-thread", "v2"), ("support-answer", "v8")]


async def test_at_80_columns_a_label_leaves_every_version_on_screen(tmp_path, monkeypatch):
    """Found in the user trial at 80x24: after 'b 6' the label column read 'bad: too slow' and
    every row's prompt@version 'support-ans' (the version past the right edge). Narrow, the
    label is cut (LABEL_SQUEEZED), then the prompt id, never the version."""
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
        table = screen.table
        shown = table.scrollable_content_region.height - 1
        assert table.show_vertical_scrollbar
        lines = [table.render_line(y).text for y in range(1, shown + 1)]
        for row, line in zip(screen.rows, lines):
            assert re.search(rf"@{row.record.prompt_version}( |$)", line), line  # drawn whole, inside the table
            assert len(line) <= table.size.width
        refs = [str(table.get_row(row.request_id)[4]) for row in screen.rows]
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
        assert str(screen.table.get_row(first)[3]) == "bad: too…"  # the verdict and the start of the reason
        # a wider screen: the whole label again, every column on screen
        await pilot.resize_terminal(160, 48)
        await pilot.pause(0.2)
        assert str(screen.table.get_row(first)[3]) == "bad: too slow"
        assert fits(screen), (screen.table.virtual_size.width, screen.table.scrollable_content_region.width)


def test_narrow_widths_add_up_to_the_screen_whatever_the_request_ids():
    """The cuts leave every column up to prompt@version inside 80 columns with a vertical
    scrollbar, request ids of any length up to 20 (why gives cells before the version does)."""
    for request in range(16, 21):
        natural = [request, 5, 60, len("bad: too slow"), len("ticket-classifier@v3"), len("claude-sonnet-4-5")]
        widths = fit_widths(80, natural)
        drawn = request + 5 + widths.why + widths.label + widths.prompt + CELL_PADDING * 5 + SCROLLBAR
        assert drawn <= 80, (request, widths)
        assert widths.label == LABEL_SQUEEZED and widths.prompt >= PROMPT_MIN
