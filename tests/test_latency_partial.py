"""The Latency pane while the history loads: a p95 within its SLO is not yet known to stay so
(the user trial saw "✓≤12s" per model beside "partial: history loading", as the summary said ✓
before the figures were in); a breach found so far is still shown."""

from __future__ import annotations

import msgspec
from textual.app import App, ComposeResult

from conftest import make_record
from console.analytics.columns import Columns
from console.analytics.report import build_report
from console.config import Settings, Slo
from console.records import parse_line
from console.ui.widgets.diff_table import DiffTable
from console.ui.widgets.latency_pane import LatencyPane

NOW = 1_800_000_000.0


def _report():
    records = [
        parse_line(msgspec.json.encode(make_record(ts=NOW - 60 + i, model=model, latency_ms=latency)))
        for i, (model, latency) in enumerate([("gpt-4o", 500.0)] * 20 + [("o3-mini", 20_000.0)] * 20)
    ]  # fmt: skip
    cols = Columns()
    cols.append(records)
    settings = Settings(slos=[Slo(model="gpt-4o", max_ms=900.0), Slo(model="o3-mini", max_ms=12_000.0)])
    return build_report(cols, NOW, "1h", settings)


class Host(App):
    def compose(self) -> ComposeResult:
        yield LatencyPane()


def _slo_cells(app: Host) -> dict[str, str]:
    table = app.query_one(DiffTable)
    return {key: str(table.get_row(key)[3]) for key in ("model:gpt-4o", "model:o3-mini")}


async def test_within_its_slo_is_not_said_while_the_history_loads():
    report = _report()
    app = Host()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(LatencyPane)
        pane.show(report, partial=True)
        await pilot.pause()
        assert _slo_cells(app) == {"model:gpt-4o": "…≤0.9s", "model:o3-mini": "✗≤12s"}
        assert "partial: history loading" in str(pane.border_subtitle)
        pane.show(report, partial=False)  # the history in: the same figures are now a verdict
        await pilot.pause()
        assert _slo_cells(app) == {"model:gpt-4o": "✓≤0.9s", "model:o3-mini": "✗≤12s"}
