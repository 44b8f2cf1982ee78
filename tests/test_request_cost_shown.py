"""One request's cost reads the same in the requests table and in its detail. Found in a user
trial of the demo: the table said `$0.0117` and Enter on that row said `cost_usd $0.012`."""

from __future__ import annotations

import io

from conftest import line_of, make_record, wait_until
from rich.console import Console
from test_ui import screen_text

from console.formatting import request_usd
from console.ui.app import ConsoleApp
from console.ui.screens.detail import RequestDetailScreen, summary_table


def detail_cost(record) -> str:
    console = Console(width=120, record=True, file=io.StringIO(), color_system=None)
    console.print(summary_table(record))
    line = next(line for line in console.export_text().splitlines() if line.startswith("cost_usd"))
    return line.split()[1]


def test_the_formatter_keeps_four_decimals_and_never_reads_zero_for_a_cost():
    assert request_usd(0.011715) == "$0.0117"
    assert request_usd(0.00002) == "<$.0001"  # an embedding call: not $0.0000
    assert len(request_usd(0.00002)) == len(request_usd(0.0117))  # the 80-column cost column is 7 wide
    assert request_usd(0.0) == "$0.0000" and request_usd(None) == "—"
    assert request_usd(0.99996) == "$1.00" and request_usd(1234.5) == "$1,234.50"


async def test_the_table_and_the_detail_say_one_cost(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text(line_of(make_record(cost_usd=0.011715)) + line_of(make_record(cost_usd=0.00002)))
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(app.requests_view.rows) == 2)
        await wait_until(pilot, lambda: "$0.0117" in screen_text(app))
        assert "<$.0001" in screen_text(app)
        for record in app.requests_view.rows:
            assert detail_cost(record) == request_usd(record.cost_usd)  # the detail said $0.012, $0.00002
        app.requests_view.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        assert request_usd(app.screen.record.cost_usd) in screen_text(app)  # the detail, over the table
