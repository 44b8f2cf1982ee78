"""The compare screen at 80 columns: both arms and every p-value on screen, no figure cut."""

from __future__ import annotations

import io

from rich.console import Console
from rich.measure import Measurement
from textual.widgets import Static

from conftest import wait_until
from console.analytics.arm_spec import ArmSpec
from console.analytics.compare import compare, format_p
from console.ui.screens.compare import CompareScreen
from test_compare import columns_of, records_for
from test_snapshots import Host


def comparison():
    v7 = records_for("v7", 1400, bad=10, errors=1346, prompt_id="support-answer")
    v8 = records_for("v8", 200, bad=60, errors=5, prompt_id="support-answer")
    return compare(columns_of(v7, v8), ArmSpec(prompt_id="support-answer", prompt_version="v7"),
                   ArmSpec(prompt_id="support-answer", prompt_version="v8"))


async def test_at_80_columns_the_table_fits_with_both_arms_and_every_p_value():
    # the table is the one `compare` prints, 116 columns wide here: at 80x24 B's cells were cut
    # at the edge mid-figure ('1,3' for 1,346 errors in the demo's before/after) and the
    # p-values were off-screen, a sideways scroll away that nothing pointed to
    result = comparison()
    app = Host(lambda: CompareScreen(result, scope="window 1h: 1,600 requests"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        table = app.screen.query_one("#compare-table", Static).content
        console = Console(width=1000, file=io.StringIO(), record=True)
        assert Measurement.get(console, console.options, table).maximum <= 80 - 4  # the body's padding, its scrollbar
        console.print(table)
        drawn = console.export_text()
        assert "1,346" in drawn and "200" in drawn
        for metric in ("error_rate", "bad_rate", "latency"):
            assert format_p(result.differences[metric].p_value) in drawn
        assert "two-proportion z-test" in drawn  # the tests named once, under the table
    wide = Host(lambda: CompareScreen(result, scope="window 1h: 1,600 requests"))
    async with wide.run_test(size=(160, 48)) as pilot:  # room enough: the table `compare` prints
        await wait_until(pilot, lambda: isinstance(wide.screen, CompareScreen))
        console = Console(width=1000, file=io.StringIO(), record=True)
        console.print(wide.screen.query_one("#compare-table", Static).content)
        assert "A: support-answer@v7" in console.export_text()
