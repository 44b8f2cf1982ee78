"""`C` (before/after a version appeared) says what each arm covers.

Found in the demo's user trial: with the panes at 1h, `c`'s screen said its window, but `C`'s
said nothing, and its "before" arm covered 3 days (every row held before the version's first
request). The screen's scope line now gives each arm's from–to and length, and says the arms
are not the panes' window."""

from __future__ import annotations

import time

from conftest import line_of, make_record
from console.formatting import rfc3339
from console.ui.app import ConsoleApp
from console.ui.screens.compare import CompareScreen
from test_panes import select_version
from test_ui import screen_text, wait_until


async def test_shift_c_says_the_span_of_each_arm_and_that_it_is_not_the_window(tmp_path):
    now = int(time.time())
    lines = [make_record(ts=now - 7200 + 60 * i, prompt_version="v7") for i in range(90)]  # 2h ago to 30m ago
    lines += [make_record(ts=now - 1800 + 60 * i, prompt_version="v8") for i in range(30)]  # the last 30 minutes
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in lines))
    app = ConsoleApp(sources=[str(log)], store_url=str(tmp_path / "s.db"))
    async with app.run_test(size=(200, 60)) as pilot:
        # the panes' 1h window holds half of v7; the history before it is loaded too
        await wait_until(pilot, lambda: app._history_loaded and app.dashboard.report is not None
                         and {v.prompt_version for v in app.dashboard.report.versions} == {"v7", "v8"})
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("C")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        scope = str(app.screen.query_one("#compare-scope").render())
        assert "split where support-answer@v8 first appeared" in scope
        seconds = lambda ts: rfc3339(ts, timespec="seconds")  # noqa: E731
        assert f"A covers {seconds(now - 7200)} – {seconds(now - 1800)} (1h 30m)" in scope, scope
        assert f"B covers {seconds(now - 1800)} – {seconds(now - 60)} (29m 00s)" in scope, scope
        assert "not the panes' 1h window" in scope
        assert "A covers" in screen_text(app)  # drawn, not only held
