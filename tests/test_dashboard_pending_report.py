"""A report that reached the dashboard before its panes were mounted is drawn on mount only
if nothing newer was drawn meanwhile (test_snapshots' dashboard once timed out ~1 run in 12:
the seeded figures were drawn, then on_mount drew the empty pre-seed report over them, and a
stopped clock never recomputed)."""

from __future__ import annotations

import msgspec

from conftest import wait_until
from test_alerts_screen import END
from test_snapshots import SETTINGS, fixed_store


async def test_a_stale_pending_report_is_not_drawn_over_a_newer_one(tmp_path, monkeypatch):
    from console.live.figures_clock import FiguresClock
    from console.ui.app import ConsoleApp

    monkeypatch.chdir(tmp_path)
    app = ConsoleApp(sources=[], store_url=fixed_store(tmp_path), settings=SETTINGS)
    app.feed.clock = FiguresClock(wall=lambda: END)
    async with app.run_test(size=(160, 48)) as pilot:
        dashboard = app.dashboard
        await wait_until(pilot, lambda: dashboard.report is not None and len(dashboard.report.alerts) > 0)
        fresh = dashboard.report
        from console.live.events import ReportReady

        stale = ReportReady(msgspec.structs.replace(fresh, alerts=[], requests=0), "1h", 0, partial=True)
        newer = ReportReady(fresh, "1h", fresh.requests)
        dashboard._pending_report = stale  # came before the panes were mounted
        dashboard.show_report(newer)  # drawn once they were
        dashboard.on_mount()  # the screen's mount handler runs after both
        await pilot.pause()
        assert dashboard.report is fresh and len(dashboard.report.alerts) > 0
        assert not dashboard.report_partial
