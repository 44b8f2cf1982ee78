"""The prompts screen's first and last seen are all-time, from the store, for every version.
Found in a user trial of the demo: summarize-thread@v1 had served 242 requests in the history
but read '-' for first and last seen (it had none in the 1h window), while v2's first seen
(12-04) lay days before the window: two meanings in one pair of columns."""

from __future__ import annotations

import time

from conftest import line_of, make_record, wait_until
from textual.widgets import DataTable

from console.config import PromptSettings, Settings
from console.formatting import rfc3339, short_time
from console.ingest import ingest_files
from console.store import Store
from console.store.version_times import version_times
from console.ui.app import ConsoleApp
from console.ui.screens.prompts import COLUMNS, PromptsScreen

HOUR = 3600.0


def stamp(ts: float) -> str:
    return short_time(rfc3339(ts))


def history(now: float) -> list[dict]:
    """v1 retired two hours ago (before the 1h window); v2 live since three hours ago."""
    rows = [make_record(ts=now - 4 * HOUR + 60 * i, prompt_id="summarize-thread", prompt_version="v1") for i in range(90)]
    rows += [make_record(ts=now - 3 * HOUR + 300 * i, prompt_id="summarize-thread", prompt_version="v2") for i in range(36)]
    rows.append(make_record(ts=now - 100, prompt_id="summarize-thread", prompt_version="v2"))
    return rows


def test_the_store_knows_each_version_s_first_and_last_request(sqlite_and_postgres_url, tmp_path):
    now = time.time()
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in history(now)), encoding="utf-8")
    with Store(sqlite_and_postgres_url) as store:
        ingest_files(store, [str(log)])
        times = version_times(store)
    assert set(times) == {("summarize-thread", "v1"), ("summarize-thread", "v2")}
    v1, v2 = times[("summarize-thread", "v1")], times[("summarize-thread", "v2")]
    assert (v1.first_ts, v1.last_ts, v1.requests) == (now - 4 * HOUR, now - 4 * HOUR + 60 * 89, 90)
    assert (v2.first_ts, v2.last_ts, v2.requests) == (now - 3 * HOUR, now - 100, 37)


async def test_a_retired_version_shows_when_it_was_live_and_the_columns_say_all_time(tmp_path):
    now = time.time()
    root = tmp_path / "prompts" / "summarize-thread"
    root.mkdir(parents=True)
    (root / "v1.txt").write_text("Summarize the thread.\n")
    (root / "v2.txt").write_text("Summarize the thread in three bullets.\n")
    log = tmp_path / "app.jsonl"
    rows = history(now)
    log.write_text("".join(line_of(r) for r in rows), encoding="utf-8")
    in_window = sum(1 for r in rows if r["prompt_version"] == "v2" and now - r["ts"] < HOUR)
    settings = Settings(prompts=PromptSettings(path=str(tmp_path / "prompts")))
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}", settings=settings)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == in_window)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptsScreen) and app.screen.registry is not None)
        table = app.screen.query_one(DataTable)
        v1, v2 = ([str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count))
        first, last = COLUMNS.index("all-time first"), COLUMNS.index("all-time last")
        assert v1[0] == "summarize-thread@v1" and v1[2] == "0"  # none in the window...
        assert (v1[first], v1[last]) == (stamp(now - 4 * HOUR), stamp(now - 4 * HOUR + 60 * 89))  # ...live before it
        assert (v2[first], v2[last]) == (stamp(now - 3 * HOUR), stamp(now - 100))
        title = app.screen._title
        assert "traffic: window 1h" in title and "could not be read" not in title
