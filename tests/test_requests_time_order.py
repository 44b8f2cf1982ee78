"""The requests table lists rows newest last by ts (ties by id), whatever order they were
committed in: two services' logs, a rotated log and its current file, a backfill of an older
file after a newer one, while the console runs, with a filter too, on SQLite and PostgreSQL
(found in the user trial: scrolling up from the newest, 12:38, then 09:02 yesterday, then
12:37, because rows committed while the console ran were appended in commit order)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from conftest import line_of, make_record, wait_until
from console.live.shown_order import ShownOrder
from console.records import parse_line
from console.sources.base import SourceBatch
from console.store import Store
from console.ui.app import ConsoleApp
from console.ui.widgets.row_ids import NARROW_MAX, RowIds

T0 = 1_795_000_000.0  # 2026-11-18, a fixed UTC moment


def by_time(rows: list[tuple[int, float]]) -> list[int]:
    return [i for i, _ in sorted(rows, key=lambda row: (row[1], row[0]))]


@pytest.mark.parametrize("seed", range(8))
def test_rows_committed_in_any_order_end_in_time_order(seed):
    """The pager's bookkeeping against a simulated view: a history scanned newest first in
    stretches while rows keep being committed with any ts (many ties), some older than the
    part scanned so far; each message applied as the view applies it."""
    rng = random.Random(seed)
    stored: list[tuple[int, float]] = []

    def commit(count: int) -> tuple[np.ndarray, np.ndarray]:
        start = len(stored) + 1
        rows = [(start + n, float(rng.randint(0, 300))) for n in range(count)]
        stored.extend(rows)
        return np.array([i for i, _ in rows], dtype=np.int64), np.array([t for _, t in rows])

    commit(rng.randint(0, 400))
    history = sorted(stored, key=lambda row: (row[1], row[0]))  # every row so far, oldest first
    order, view = ShownOrder(), np.empty(0, dtype=np.int64)
    scanning = bool(history)
    while True:
        ids, ts = commit(rng.randint(0, 30))
        placed, positions = order.place(ids, ts, scanning=scanning)
        view = np.concatenate([view, placed]) if positions is None else np.insert(view, positions, placed)
        if not scanning:
            if len(stored) > 1200:
                break
            continue
        stretch = history[-rng.randint(1, 60):] if history else []
        del history[len(history) - len(stretch):]
        done = not history
        older, _ = order.prepend(np.array([i for i, _ in stretch], dtype=np.int64),
                                 np.array([t for _, t in stretch]), done)
        view = np.concatenate([older, view])
        scanning = not done
    assert view.tolist() == by_time(stored)
    assert len(order) == len(stored) and order.held == 0


def test_a_new_row_older_than_the_scanned_history_waits_for_its_stretch():
    order = ShownOrder()
    ids, positions = order.place(np.array([5]), np.array([T0 + 10]), scanning=True)
    assert ids.tolist() == [] and order.held == 1, "nothing shown yet: held"
    older, _ = order.prepend(np.array([3, 4]), np.array([T0 + 20, T0 + 30]), done=False)
    assert older.tolist() == [3, 4] and order.held == 1, "older than this stretch: still held"
    ids, positions = order.place(np.array([6, 7]), np.array([T0 + 40, T0 + 25]), scanning=True)
    assert ids.tolist() == [7, 6] and positions.tolist() == [1, 2]
    older, _ = order.prepend(np.array([1, 2]), np.array([T0 + 10, T0 + 15]), done=True)
    assert older.tolist() == [1, 5, 2], "a tie goes after the older id"


def test_row_ids_insert_as_numpy_does_after_a_prepend_and_past_int32():
    ids = RowIds()
    ids.append(np.arange(1000, 3000, dtype=np.int64))
    ids.prepend(np.arange(0, 1000, dtype=np.int64))
    expected = np.arange(0, 3000, dtype=np.int64)
    positions = np.array([0, 5, 5, 2999, 3000])
    new = np.array([-1, -2, -3, NARROW_MAX + 1, -5], dtype=np.int64)
    ids.insert(positions, new)
    assert ids.slice(0, len(ids)).tolist() == np.insert(expected, positions, new).tolist()
    ids.append(np.array([7]))
    assert ids.last == 7 and len(ids) == 3006



def records(rows: list[tuple[str, float, str]]):
    return [parse_line(line_of(make_record(request_id=rid, ts=ts, status=status,
                                           output=None if status == "error" else "ok")))
            for rid, ts, status in rows]


def shown(app) -> list[str]:
    return [r.request_id for r in app.requests_view.rows]


async def test_a_backfill_of_older_rows_while_the_console_runs_lands_by_time(sqlite_and_postgres_url):
    """Service B's log (newer) is in the store when the console opens; service A's, whose
    minutes interleave with B's and begin a day earlier, is written while it runs (a
    backfill); then a row a few seconds late. Newest last by ts, filtered or not."""
    b = [(f"b{n}", T0 + 60 * n + 30, "error" if n % 2 else "ok") for n in range(6)]
    a = [(f"a{n}", T0 + 60 * n, "error" if n % 3 == 0 else "ok") for n in range(6)]
    a.append(("a-yesterday", T0 - 86400 + 5, "error"))
    everything = b + a
    with Store(sqlite_and_postgres_url, host="service-b") as writer:
        writer.write(SourceBatch(records=records(b)))
        app = ConsoleApp(sources=[], store_url=sqlite_and_postgres_url)
        async with app.run_test(size=(160, 40)) as pilot:
            view = app.requests_view
            await wait_until(pilot, lambda: shown(app) == [rid for rid, _, _ in b])
            writer.write(SourceBatch(records=records(a)))
            expected = [rid for rid, _, _ in sorted(everything, key=lambda row: row[1])]
            await wait_until(pilot, lambda: len(shown(app)) == len(expected))
            assert shown(app) == expected
            assert view.current.request_id == "b5", "the cursor stays on the newest row"

            app.dashboard.apply_filter("status:error")
            errors = [rid for rid, _, status in sorted(everything, key=lambda row: row[1]) if status == "error"]
            await wait_until(pilot, lambda: view.history_left == 0 and shown(app) == errors)
            late = [("late-error", T0 + 60 * 2 + 45, "error"), ("late-ok", T0 + 60 * 2 + 50, "ok")]
            writer.write(SourceBatch(records=records(late)))
            errors.insert(errors.index("a3"), "late-error")
            await wait_until(pilot, lambda: shown(app) == errors)
            assert view.row_count == len(errors)


async def test_two_logs_tailed_together_are_shown_by_time_and_the_cursor_keeps_its_row(tmp_path):
    """Two services' logs (or a rotated log and its current file), tailed from the start:
    their rows are committed file by file, and shown by ts. A row committed late above the
    cursor (the user reading older rows) does not move the cursor off the row it is on."""
    newer = tmp_path / "svc-b.jsonl"
    older = tmp_path / "svc-a.jsonl"
    newer.write_text("".join(line_of(make_record(request_id=f"b{n}", ts=T0 + 2 * n + 1)) for n in range(40)))
    older.write_text("".join(line_of(make_record(request_id=f"a{n}", ts=T0 + 2 * n)) for n in range(40)))
    app = ConsoleApp(sources=[str(newer), str(older)], store_url=f"sqlite:///{tmp_path / 'store.db'}")
    async with app.run_test(size=(160, 40)) as pilot:
        view = app.requests_view
        expected = [x for n in range(40) for x in (f"a{n}", f"b{n}")]
        await wait_until(pilot, lambda: len(shown(app)) == 80)
        assert shown(app) == expected
        view.focus()
        await pilot.press("g")
        for _ in range(9):
            await pilot.press("down")
        await wait_until(pilot, lambda: view.current is not None and view.current.request_id == "b4")
        with older.open("a", encoding="utf-8") as handle:
            handle.write(line_of(make_record(request_id="a-late", ts=T0 + 3.5)))
        await wait_until(pilot, lambda: len(shown(app)) == 81)
        assert shown(app).index("a-late") == shown(app).index("b1") + 1
        assert view.current.request_id == "b4" and view.cursor == 10
