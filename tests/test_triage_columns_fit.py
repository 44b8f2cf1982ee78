"""The triage queue's columns fit the screen once a label widens its column (found in the user
trial: in the demo at 160x48, after 'b 2' the label column read 'bad: hallucination' and pushed the
model column past the right edge, so claude-sonnet-4-5's rows read 'claude-sonnet-4', the name of
another model). The why column is cut to what the other columns, as measured, leave."""

from __future__ import annotations

import time

from conftest import line_of, make_record
from console.config import EvaluationSettings, RegressionSettings, Settings
from console.ui.app import ConsoleApp
from console.ui.screens.labelling import ReasonModal
from console.ui.screens.triage import TriageScreen
from test_ui import wait_until


def fits(screen: TriageScreen) -> bool:
    table = screen.table
    return table.virtual_size.width <= table.scrollable_content_region.width


async def test_a_long_label_leaves_the_model_column_on_screen(tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "oncall-ana")
    now = time.time()
    records = [
        make_record(ts=now - 300 + i * 10, model="claude-sonnet-4-5", prompt_id="ticket-classifier", prompt_version="v4",
                    status="error", error_type="BadRequestError", output=None,
                    error_message="Error code: 400 - the request was rejected by the content filter " * 3)
        for i in range(6)
    ]  # fmt: skip
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in records))
    settings = Settings(
        evaluation=EvaluationSettings(sample_rate=1.0),
        regression=RegressionSettings(suite=str(tmp_path / "regression" / "cases.jsonl")),
    )
    digit = str(settings.evaluation.reasons.index("hallucination") + 1)
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 's.db'}", settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.queue is not None and len(screen.items) == 6)
        await pilot.pause(0.1)
        assert fits(screen)
        first = screen.current_item.request_id
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonModal))
        await pilot.press(digit)
        await wait_until(pilot, lambda: any(i.request_id == first and i.label is not None for i in screen.items))
        await pilot.pause(0.1)
        assert str(screen.table.get_row(first)[3]) == "bad: hallucination"
        assert fits(screen), (screen.table.virtual_size.width, screen.table.scrollable_content_region.width)
