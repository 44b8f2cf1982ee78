"""Screenshots where people look rather than read: the dashboard, the alerts screen and compare at 80x24
and 160x48 (pytest-textual-snapshot; the accepted SVGs are in
tests/__snapshots__/test_snapshots/; `pytest tests/test_snapshots.py --snapshot-update`
rewrites them after a change is looked at). Each screen is fed fixed data, so a changed
picture is a changed layout: truncation, wrapping, a word lost beside a colour."""

from __future__ import annotations

import msgspec
import pytest
from textual.app import App
from textual.widgets import DataTable

from conftest import line_of
from console.analytics.arm_spec import ArmSpec
from console.analytics.compare import compare
from console.analytics.columns import Columns
from console.analytics.report import build_report
from console.config import Budget, Settings, Slo
from console.prompts.diff import version_diff
from console.prompts.registry import load_registry
from console.records import parse_line
from console.ui.screens.alerts import AlertsScreen
from console.ui.screens.compare import CompareScreen
from test_alerts_screen import END, incident
from test_compare import columns_of, records_for
from test_compare_pair import write_demo_registry

SIZES = [(80, 24), (160, 48)]
SETTINGS = Settings(
    budgets=[Budget(name="monthly", period="month", amount_usd=30.0)],
    slos=[Slo(model="gpt-4o", percentile=95, max_ms=1000)],
)


def incident_report():
    cols = Columns()
    cols.append([parse_line(line_of(r).strip()) for r in incident(END)])
    return build_report(cols, END, "1h", SETTINGS)


class Host(App):
    def __init__(self, screen_factory) -> None:
        super().__init__()
        self.screen_factory = screen_factory

    def on_mount(self) -> None:
        self.push_screen(self.screen_factory())


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_alerts_screen(snap_compare, size):
    report = incident_report()
    assert snap_compare(Host(lambda: AlertsScreen(report.alerts, END)), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_compare_screen(snap_compare, size, tmp_path):
    latencies = [700.0 + 3 * i for i in range(200)]
    v7 = records_for("v7", 200, bad=10, errors=4, latencies=latencies, prompt_id="support-answer")
    v8 = records_for("v8", 200, bad=60, errors=5, latencies=latencies[::-1], prompt_id="support-answer")
    # both arms over the same minutes, as a canary's are (one after the other, the screen would
    # warn that they cover different times, with moments that depend on the tests run before)
    v7, v8 = ([msgspec.structs.replace(r, ts=END - 3600 + 9 * i + shift) for i, r in enumerate(rows)]
              for rows, shift in ((v7, 0), (v8, 4)))  # fmt: skip
    comparison = compare(columns_of(v7, v8), ArmSpec(prompt_id="support-answer", prompt_version="v7"),
                         ArmSpec(prompt_id="support-answer", prompt_version="v8"))
    registry = load_registry(write_demo_registry(tmp_path / "prompts"))
    diff = version_diff(registry.get("support-answer", "v7"), registry.get("support-answer", "v8"))
    scope = "window 1h (2026-11-20T11:00:00Z – 2026-11-20T12:00:00Z): 400 requests"
    assert snap_compare(Host(lambda: CompareScreen(comparison, diff, scope=scope)), terminal_size=size)


def fixed_store(tmp_path) -> str:
    """The incident hour (gpt-4o slow, then failing) beside a calm gpt-4o-mini on v8, with
    request ids of their own (conftest's counter depends on the tests run before)."""
    from conftest import make_record
    from console.sources.base import SourceBatch
    from console.store import Store

    rows = incident(END)
    rows += [make_record(ts=END - 3600 + 15 * i + 5, model="gpt-4o-mini", prompt_version="v8", cost_usd=0.002,
                         latency_ms=300.0 + i % 7 * 40) for i in range(240)]  # fmt: skip
    for i, row in enumerate(sorted(rows, key=lambda r: r["ts"])):
        row["request_id"] = f"req_{i:05d}"
    path = tmp_path / "dash.db"
    with Store(f"sqlite:///{path}") as store:
        store.write(SourceBatch(records=[parse_line(line_of(r).strip()) for r in rows]))
    return "sqlite:///dash.db"


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_dashboard(snap_compare, size, tmp_path, monkeypatch):
    """The first screen on a fixed store, no files tailed, the clock stopped at END: every
    pane drawn from the same rows each run."""
    from console.live.figures_clock import FiguresClock
    from console.ui.app import ConsoleApp
    from console.ui.widgets.requests_view import RequestsView
    from test_ui import wait_until

    monkeypatch.chdir(tmp_path)
    store_url = fixed_store(tmp_path)
    app = ConsoleApp(sources=[], store_url=store_url, settings=SETTINGS)
    app.feed.clock = FiguresClock(wall=lambda: END)  # the figures' wall clock stopped at END

    async def loaded(pilot):
        await wait_until(pilot, lambda: app.dashboard.report is not None and not app.dashboard.status_header.history
                         and len(app.dashboard.report.alerts) > 0)  # fmt: skip
        view = app.dashboard.query_one(RequestsView)
        # every row paged in, the cursor on the newest and the view scrolled there by itself
        # (test_requests_view_scroll: a page read before the first layout once left it at the top)
        await wait_until(pilot, lambda: view.history_left == 0 and view.cursor == 599)
        await wait_until(pilot, lambda: view.scroll_y == view.max_scroll_y > 0)
        view.focus()
        await pilot.pause(0.5)
        # every DataTable's new cells measured (it does so when idle); what was drawn before
        # is redrawn by NavTable (Versions once showed every cell cut to its header's width)
        tables = list(app.dashboard.query(DataTable))
        await wait_until(pilot, lambda: not any(t._require_update_dimensions or t._updated_cells for t in tables))
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=size, run_before=loaded)
