"""Every query that finds requests by request_id seeks (EXPLAIN QUERY PLAN), on a new SQLite
store (the (day, request_id) index by skip-scan: console/store/day_dedup.py; a query over a
time window seeks its days only), on a tiny one after a hand-run ANALYZE, and on a store of the
old layout (UNIQUE (request_id)). The window's days change no result: the same answers with and
without them on a store of many days holding a request_id on two of them.

The statements are the ones the code runs (caught as SQLAlchemy sends them); SQLite plans from
sqlite_stat1 and its defaults, not from the rows, so a small store is planned as a big one."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from sqlalchemy import event

from conftest import make_record
from console.analytics.arm_spec import ArmSpec
from console.live.replay_scoring import MomentBoundEvaluation
from console.records import parse_line
from console.sources.base import SourceBatch
from console.store import Store, compare_reads, rollup_reads
from console.store.day_dedup import DAY_INDEX
from console.store.evaluation import EvaluationStore
from test_day_dedup import old_layout_store

START = 1_795_000_000.0  # 2026-11-19
# the calls whose join names its days (a time window's, or the stored days one by one, newest
# first: low_scored, console/store/low_scores.py) on a store with a day column
WINDOWED = {"compare label delta", "rollup label delta", "replay low_scored", "replay count_low_unlabelled",
            "low_scored", "low_scored, labelled too"}  # fmt: skip
SKIP_SCAN = f"{DAY_INDEX} (ANY(day) AND request_id=?)"
WINDOW_DAYS = f"{DAY_INDEX} (day=? AND request_id=?)"


def fill(store: Store, rows: int = 300) -> list[str]:
    records = [
        parse_line(json.dumps(make_record(ts=START + i * 900.0, request_id=f"req_plan_{i:05d}"))) for i in range(rows)
    ]  # over three UTC days
    store.write(SourceBatch(records=records))
    ids = [r.request_id for r in records]
    evaluation = EvaluationStore(store)
    evaluation.write_scores([(rid, "judge", (i % 10) / 10, "why") for i, rid in enumerate(ids[::3])])
    for rid in ids[::7]:
        evaluation.add_label(rid, "bad", author="test")
    return ids


def plans(store: Store, ids: list[str]) -> dict[str, list[tuple[str, list[str]]]]:
    """name -> [(statement, plan lines)] of the statements naming requests and request_id."""
    evaluation = EvaluationStore(store)
    replay = MomentBoundEvaluation(evaluation, lambda: START + 86400 * 2)
    calls = {
        "Store.get": lambda: store.get(ids[-1]),
        "records": lambda: evaluation.records(ids[:40]),
        "scored_through": evaluation.scored_through,
        "low_scored": lambda: evaluation.low_scored(0.5, 20),
        "low_scored, labelled too": lambda: evaluation.low_scored(0.5, 20, unlabelled=False),
        "export_rows": lambda: list(evaluation.export_rows()),
        "export_rows, history": lambda: list(evaluation.export_rows(history=True)),
        "replay scored_through": replay.scored_through,
        "replay low_scored": lambda: replay.low_scored(0.5, 20),
        "replay count_low_unlabelled": lambda: replay.count_low_unlabelled(0.5),
        "replay ts of ids": lambda: replay._ts_of(ids[:30]),
    }
    caught: list[tuple[str, object]] = []

    def catch(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if "request_id" in statement and re.search(r"\brequests\b", statement):
            caught.append((statement, parameters))

    class Reader(sqlite3.Connection):
        """report's sqlite3 connection (console/store/sqlite_reader.py), its statements caught."""

        def execute(self, sql, parameters=()):
            catch(None, None, sql, parameters, None, False)
            return super().execute(sql, parameters)

    reader = sqlite3.connect(store.sqlite_path, factory=Reader)
    event.listen(store.engine, "before_cursor_execute", catch)
    found: dict[str, list[tuple[str, list[str]]]] = {}
    try:
        with store.engine.connect() as conn:
            calls["compare label delta"] = lambda: compare_reads._label_delta(conn, ArmSpec(), START, START + 86400 * 2)
            calls["rollup label delta"] = lambda: rollup_reads._label_delta(reader, START, START + 86400 * 2)
            for name, call in calls.items():
                before = len(caught)
                call()
                found[name] = [(statement, []) for statement, _ in caught[before:]]
                raw = conn.connection.dbapi_connection
                for i, (statement, parameters) in enumerate(caught[before:]):
                    found[name][i][1].extend(row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters))
    finally:
        event.remove(store.engine, "before_cursor_execute", catch)
        reader.close()
    idle = [name for name, statements in found.items() if not statements]
    if idle == ["low_scored"]:  # it asks requests only for the scores it orders: none unlabelled here
        assert evaluation.low_scored(0.5, 20) == []
    else:
        assert not idle, f"a call ran no query by request_id: {idle}"
    return found


def assert_seeks(found: dict[str, list[tuple[str, list[str]]]], index: str, windowed: str | None = None) -> None:
    """Every statement seeks requests through `index` (`windowed` for the WINDOWED calls'
    statements that name the days of their window: an old-layout store's have no day term)."""
    assert WINDOWED <= set(found)
    for name, statements in found.items():
        for statement, plan in statements:
            shown = f"{name}: {statement}\n  " + "\n  ".join(plan)
            bounded = "r.day IN (" in statement or "r.day = ?" in statement  # its days, or one of them
            assert bounded == (windowed is not None and name in WINDOWED), shown
            if bounded:  # the day term reaches the index's search: one seek per day of the window
                assert any(re.match(r"SEARCH r USING", line) and windowed in line for line in plan), shown
                assert not any(SKIP_SCAN in line for line in plan), shown
            assert not any("AUTOMATIC" in line for line in plan), shown
            assert not any(re.match(r"SCAN (r|requests)\b", line) for line in plan), shown
            assert any(line.startswith("SEARCH") and "request_id=?" in line for line in plan), shown
            for line in plan:  # a request found by its id: through the store's unique index
                if re.match(r"SEARCH (r|requests) USING", line) and "request_id=?" in line:
                    assert (windowed if bounded else index) in line, shown


def test_lookups_by_request_id_skip_scan_the_day_index(tmp_path):
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        ids = fill(store)
        found = plans(store, ids)
    assert_seeks(found, SKIP_SCAN, WINDOW_DAYS)


@pytest.mark.parametrize("rows", [1, 5])
def test_a_tiny_store_after_a_hand_run_analyze_still_seeks(tmp_path, rows):
    path = tmp_path / "store.db"
    with Store(f"sqlite:///{path}") as store:
        ids = fill(store, rows)
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    with Store(f"sqlite:///{path}") as store:  # an ordinary open plants the statistic again
        found = plans(store, ids)
    assert_seeks(found, SKIP_SCAN, WINDOW_DAYS)


def test_lookups_by_request_id_on_an_old_layout_store_use_its_unique_index(tmp_path):
    with Store(old_layout_store(tmp_path / "old.db")) as store:
        ids = fill(store)
        found = plans(store, ids)
    assert_seeks(found, "sqlite_autoindex_requests_1 (request_id=?)")


DAY = 86400.0
FIRST_DAY = 1_794_960_000.0  # 2026-11-19T00:00Z, a midnight


def many_days_store(path) -> Store:
    """60 UTC days of requests (every 5 hours, a row at a midnight and one just before it), a
    request_id on days 5 and 50, labels and scores on some rows and on it."""
    times = [FIRST_DAY + i * 5 * 3600.0 for i in range(int(60 * DAY / (5 * 3600)))]
    times += [FIRST_DAY + 20 * DAY, FIRST_DAY + 20 * DAY - 0.001]
    records = [make_record(ts=ts, request_id=f"req_many_{i:04d}", feedback=-1 if i % 3 == 0 else None)
               for i, ts in enumerate(times)]  # fmt: skip
    records += [make_record(ts=FIRST_DAY + day * DAY + 3600, request_id="req_twice", prompt_version=f"v{day}")
                for day in (5, 50)]  # fmt: skip
    store = Store(f"sqlite:///{path}")
    store.write(SourceBatch(records=[parse_line(json.dumps(record)) for record in records]))
    evaluation = EvaluationStore(store)
    labelled = [r["request_id"] for r in records[::4]] + ["req_twice"]
    for i, rid in enumerate(labelled):
        evaluation.add_label(rid, "bad" if i % 2 else "good", author="test")
    evaluation.write_scores([(r["request_id"], "judge", (i % 10) / 10, "why") for i, r in enumerate(records[::3])])
    evaluation.write_scores([("req_twice", "judge", 0.05, "why")])
    return store


def test_the_window_days_change_no_result(tmp_path, monkeypatch):
    from console.store import day_dedup

    windows = [
        (None, FIRST_DAY + 10 * DAY), (FIRST_DAY + 3 * DAY, FIRST_DAY + 7 * DAY),  # req_twice's first day
        (FIRST_DAY + 20 * DAY, FIRST_DAY + 21 * DAY), (FIRST_DAY + 19 * DAY + 7200, FIRST_DAY + 20 * DAY),  # midnights
        (FIRST_DAY + 45 * DAY + 3600, None), (FIRST_DAY - 30 * DAY, FIRST_DAY + 90 * DAY), (None, None),
        (FIRST_DAY + 70 * DAY, FIRST_DAY + 80 * DAY),  # after the newest row
    ]  # fmt: skip
    moments = [FIRST_DAY + 5 * DAY + 3600, FIRST_DAY + 20 * DAY - 0.001, FIRST_DAY + 49 * DAY, FIRST_DAY + 61 * DAY]

    def answers(store: Store) -> list:
        evaluation = EvaluationStore(store)
        found = []
        with store.engine.connect() as conn:
            reader = sqlite3.connect(store.sqlite_path)
            for since, before in windows:
                found.append(compare_reads._label_delta(conn, ArmSpec(), since, before))
                if before is not None:
                    found.append(rollup_reads._label_delta(reader, since, before))
                    found.append(rollup_reads._label_delta(conn, since, before))
            reader.close()
        found += [evaluation.low_scored(0.5, 500), evaluation.low_scored(0.5, 500, unlabelled=False)]
        for moment in moments:
            replay = MomentBoundEvaluation(evaluation, lambda moment=moment: moment)
            found += [replay.low_scored(0.5, 500), replay.low_scored(0.5, 500, unlabelled=False),
                      replay.count_low_unlabelled(0.5)]  # fmt: skip
        return found

    bounded: list[tuple] = []
    real_window_days = day_dedup.window_days

    def seen(conn, since, before):
        days = real_window_days(conn, since, before)
        bounded.append(days)
        return days

    with many_days_store(tmp_path / "store.db") as store:
        for module in (day_dedup, rollup_reads):  # days_bound (compare, replay, triage) and the report's own
            monkeypatch.setattr(module, "window_days", seen)
        with_days = answers(store)
        assert len(bounded) > len(windows) and all(days is not None for days in bounded)
        assert (day_dedup.day_of(FIRST_DAY + 3 * DAY), day_dedup.day_of(FIRST_DAY + 7 * DAY)) in bounded
        for module in (day_dedup, rollup_reads):
            monkeypatch.setattr(module, "window_days", lambda *_: None)  # the statements as before
        without = answers(store)
    assert with_days == without
    assert with_days[4].get("support-answer@v5") == (1, 1), with_days[3:6]  # the rollup's, req_twice's first day: bad and rated
    assert "support-answer@v50" not in with_days[4]
    assert any(isinstance(found, list) and ("req_twice", 0.05) in found for found in with_days)
    assert sum(1 for found in with_days if found) > len(with_days) // 2  # most answers say something
