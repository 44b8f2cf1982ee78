"""`x` on the compare screen exchanges the two arms exactly, whatever the screen compares.

Found in a user trial (demo, 80x24 and 160x48, Versions, v8, `C`, `x`): before the swap
`A: 1,107 requests · B: 12,479 requests · ... both from all the history loaded`, after it
`A: 9,958 requests · B: 0 requests · window 1h (...)`: x asked the arms' texts again over the
panes' window, so the before/after split lost every request older than the window, and the
empty arm's narrow table kept a bare "p, two-sided:" caption. x now asks the same split,
over the same rows, with the arms exchanged; x twice gives the first figures back."""

from __future__ import annotations

import time

from conftest import line_of, make_record
from console.analytics.arm_spec import ArmSpec
from console.analytics.compare import compare
from console.commands.compare import comparison_table
from console.ui.app import ConsoleApp
from console.ui.screens.compare import CompareScreen
from test_compare import columns_of, records_for
from test_panes import select_version
from test_ui import screen_text, wait_until


def figures(screen: CompareScreen) -> tuple:
    comparison = screen.comparison
    return tuple((arm.label, arm.spec, arm.requests, arm.errors, arm.bad, arm.rated)
                 for arm in (comparison.a, comparison.b))


async def test_x_on_a_before_after_comparison_swaps_its_arms_over_the_same_history(tmp_path):
    now = int(time.time())
    # v7 from 5h to 2h ago, v8 for the last 2h: the panes' 1h window holds none of v7
    lines = [make_record(ts=now - 18000 + 120 * i, prompt_version="v7") for i in range(90)]
    lines += [make_record(ts=now - 7200 + 120 * i, prompt_version="v8") for i in range(60)]
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in lines))
    app = ConsoleApp(sources=[str(log)], store_url=str(tmp_path / "s.db"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app._history_loaded and app.dashboard.report is not None
                         and any(v.prompt_version == "v8" for v in app.dashboard.report.versions))
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("C")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        first = app.screen
        before = figures(first)
        assert (before[0][2], before[1][2]) == (90, 60)

        await pilot.press("x")
        await wait_until(pilot, lambda: app.screen is not first and app.screen.comparison is not None)
        swapped = app.screen
        assert figures(swapped) == (before[1], before[0]), "x exchanges the arms, nothing else"
        scope = str(swapped.query_one("#compare-scope").render())
        assert scope.startswith("A: 60 requests · B: 90 requests")
        assert "split where support-answer@v8 first appeared" in scope and "window 1h (" not in scope
        assert "not enough data" not in screen_text(app)

        await pilot.press("x")
        await wait_until(pilot, lambda: app.screen is not swapped and app.screen.comparison is not None)
        assert figures(app.screen) == before, "x twice gives the first comparison back"
        assert len([s for s in app.screen_stack if isinstance(s, CompareScreen)]) == 1, "each x replaces the screen"


def test_the_narrow_table_of_an_empty_arm_has_no_bare_caption():
    cols = columns_of(records_for("v1", 40, bad=0), records_for("v2", 40, bad=2))
    comparison = compare(cols, ArmSpec(prompt_version="v1"), ArmSpec(prompt_version="v9"))
    assert comparison.b.requests == 0
    assert comparison_table(comparison, narrow=True).caption is None
    both = compare(cols, ArmSpec(prompt_version="v1"), ArmSpec(prompt_version="v2"))
    assert str(comparison_table(both, narrow=True).caption).startswith("p, two-sided: errors")
