"""The summary line's `c: compare` works from the dashboard, whichever pane is focused.

Found in a user trial (demo, 80x24): the line read '! bad support-answer@v8 31.2% bad … ·
c: compare' (at 120 columns 'c on it: compare, diff'), and `c` with the Requests view or the
Budget pane focused did nothing, without a word: only the Versions pane's `c`, its cursor on
v8, compared. The dashboard's `c` now compares the version the line flags with the one before
it (the Versions and Latency panes' own `c` still answer first), and says what to do when no
version is flagged."""

from __future__ import annotations

import time

import pytest

from conftest import line_of, make_record
from console.ui.app import ConsoleApp
from console.ui.screens.compare import CompareScreen
from test_panes import app, fixture_log, ready  # noqa: F401 (fixtures)
from test_ui import screen_text, wait_until


@pytest.mark.parametrize("size, pane", [((80, 24), "2"), ((80, 24), "1"), ((160, 48), "1"), ((160, 48), "2")])
async def test_c_on_the_dashboard_compares_the_version_the_summary_flags(app, size, pane):  # noqa: F811
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        summary = next(line for line in screen_text(app).splitlines() if "! bad" in line)
        assert "support-answer@v8" in summary and "c: compare" in summary and "c on it" not in summary, summary
        await pilot.press(pane)  # Requests or Budget: panes with no compare of their own
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert app.screen.asked == "A: support-answer@v7  vs  B: support-answer@v8"
        await wait_until(pilot, lambda: app.screen.comparison is not None)
        assert (app.screen.comparison.a.label, app.screen.comparison.b.label) == (
            "support-answer@v7", "support-answer@v8")


async def test_c_with_no_version_flagged_says_how_to_compare_one(tmp_path):
    log = tmp_path / "app.jsonl"
    now = time.time()
    log.write_text("".join(line_of(make_record(ts=now - 60 * i, prompt_version="v7")) for i in range(40)))
    app = ConsoleApp(sources=[str(log)], store_url=str(tmp_path / "s.db"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 40)
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, CompareScreen)
        assert any("no prompt version is flagged" in str(n.message) and "4 (Versions)" in str(n.message)
                   for n in app._notifications)
