"""Every query that finds requests by request_id seeks (EXPLAIN QUERY PLAN), on a new SQLite
store (the (day, request_id) index by skip-scan: console/store/day_dedup.py), on a tiny one
after a hand-run ANALYZE, and on a store of the old layout (UNIQUE (request_id)).

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
            calls["compare bad delta"] = lambda: compare_reads._bad_delta(conn, ArmSpec(), START, START + 86400 * 2)
            calls["rollup bad delta"] = lambda: rollup_reads._bad_delta(reader, START, START + 86400 * 2)
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
    assert all(found.values()), f"a call ran no query by request_id: {[n for n, v in found.items() if not v]}"
    return found


def assert_seeks(found: dict[str, list[tuple[str, list[str]]]], index: str) -> None:
    for name, statements in found.items():
        for statement, plan in statements:
            shown = f"{name}: {statement}\n  " + "\n  ".join(plan)
            assert not any("AUTOMATIC" in line for line in plan), shown
            assert not any(re.match(r"SCAN (r|requests)\b", line) for line in plan), shown
            assert any(line.startswith("SEARCH") and "request_id=?" in line for line in plan), shown
            for line in plan:  # a request found by its id: through the store's unique index
                if re.match(r"SEARCH (r|requests) USING", line) and "request_id=?" in line:
                    assert index in line, shown


def test_lookups_by_request_id_skip_scan_the_day_index(tmp_path):
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        ids = fill(store)
        found = plans(store, ids)
    assert_seeks(found, f"{DAY_INDEX} (ANY(day) AND request_id=?)")


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
    assert_seeks(found, f"{DAY_INDEX} (ANY(day) AND request_id=?)")


def test_lookups_by_request_id_on_an_old_layout_store_use_its_unique_index(tmp_path):
    with Store(old_layout_store(tmp_path / "old.db")) as store:
        ids = fill(store)
        found = plans(store, ids)
    assert_seeks(found, "sqlite_autoindex_requests_1 (request_id=?)")
