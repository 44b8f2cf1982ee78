"""The triage queue's reads cost what changed, not what the store holds
(console/store/low_scores.py, console/store/error_groups.ErrorCounts), and the open triage
screen leaves the scoring thread room to score (evaluation_feed.QUEUE_BUILD_SHARE).

The answers are checked against the one SQL statement the queue ran before (each request's
lowest score under the threshold joined to its rows, newest first on ties), on stores of many
UTC days with ties, labels, a request_id on two days and scores of requests not stored; the
cost by the statements sent (days asked, rows counted again), never by timing."""

from __future__ import annotations

import json
import random
import threading
import time

import pytest
from sqlalchemy import event, text

from conftest import make_record
from console.records import parse_line
from console.sources.base import SourceBatch
from console.store import Store
from console.store.error_groups import error_counts
from console.store.evaluation import EvaluationStore
from test_postgres import postgres_schema_url

DAY = 86400.0
FIRST_DAY = 1_794_960_000.0  # 2026-11-19T00:00Z
DAYS = 40

# the triage queue's statement before console/store/low_scores.py (with its day list left out:
# the same answers, tests/test_request_id_plans.py)
REFERENCE = (
    "SELECT w.request_id, w.score, max(r.ts) FROM "
    "(SELECT request_id, min(score) AS score FROM scores WHERE score < :below GROUP BY request_id) w "
    "JOIN requests r ON r.request_id = w.request_id WHERE 1 = 1 {where} "
    "GROUP BY w.request_id, w.score ORDER BY w.score, max(r.ts) DESC LIMIT :limit"
)
UNLABELLED = "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.request_id = w.request_id AND l.active)"


def reference(store: Store, below: float, limit: int, unlabelled: bool = True) -> list[tuple[str, float]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(REFERENCE.format(where=UNLABELLED if unlabelled else "")), {"below": below, "limit": limit}
        )
        return [(rid, float(score)) for rid, score, _ts in rows]


def records_over_days(rng: random.Random, count: int, first: int = 0) -> list:
    """Requests at distinct random moments over DAYS days (no two share a ts: the order is
    total), every ninth a provider error."""
    moments = rng.sample(range(int(DAYS * DAY)), count)
    found = []
    for i, moment in enumerate(moments):
        fields = {"ts": FIRST_DAY + moment + 0.5, "request_id": f"req_{first + i:05d}", "model": ("gpt-4o", "o3-mini")[i % 2]}
        if i % 9 == 0:
            fields.update(status="error", error_type=("RateLimitError", "APITimeoutError")[i % 2], output=None)
        found.append(parse_line(json.dumps(make_record(**fields))))
    return found


def fill(store: Store, rng: random.Random, count: int = 600) -> EvaluationStore:
    records = records_over_days(rng, count)
    twice = parse_line(json.dumps(make_record(ts=FIRST_DAY + 3 * DAY, request_id="req_twice")))
    again = parse_line(json.dumps(make_record(ts=FIRST_DAY + 30 * DAY, request_id="req_twice")))
    store.write(SourceBatch(records=[*records, twice]))
    store.write(SourceBatch(records=[again]))  # a second day's row on SQLite; a duplicate on PostgreSQL
    evaluation = EvaluationStore(store)
    ids = [r.request_id for r in records]
    scored = rng.sample(ids, count // 2) + ["req_twice", "req_not_stored"]
    # few distinct scores: big groups of ties at each, the queue's order then rests on the ts
    evaluation.write_scores([(rid, "judge", rng.choice((0.0, 0.0, 0.1, 0.3, 0.6, 0.9)), "why") for rid in scored])
    evaluation.write_scores([(rid, "refusal", rng.choice((0.0, 1.0)), "why") for rid in scored[::3]])
    for i, rid in enumerate(rng.sample(scored, 40)):
        evaluation.add_label(rid, "bad" if i % 2 else "good", author="test")
    return evaluation


def check_against_reference(store: Store, evaluation: EvaluationStore) -> None:
    for below in (0.05, 0.5, 1.0):
        for limit in (1, 7, 50, 1000):
            for unlabelled in (True, False):
                assert evaluation.low_scored(below, limit, unlabelled=unlabelled) == reference(
                    store, below, limit, unlabelled
                ), (below, limit, unlabelled)
        with store.engine.connect() as conn:
            count = conn.execute(
                text("SELECT count(*) FROM (SELECT DISTINCT request_id FROM scores WHERE score < :below) w "
                     f"WHERE 1 = 1 {UNLABELLED}"), {"below": below}
            ).scalar_one()  # fmt: skip
        assert evaluation.count_low_unlabelled(below) == count
        low, counted = evaluation.low_scored_and_count(below, 50)
        assert (low, counted) == (reference(store, below, 50), count)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_queue_order_is_the_old_statements_on_a_store_of_many_days(tmp_path, seed):
    rng = random.Random(seed)
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        evaluation = fill(store, rng)
        check_against_reference(store, evaluation)
        # what it learned stays right as the store grows: new rows, new scores, a label undone
        more = records_over_days(rng, 200, first=1000)
        store.write(SourceBatch(records=more))
        evaluation.write_scores([(r.request_id, "judge", rng.choice((0.0, 0.1, 0.3)), "why") for r in more[::2]])
        evaluation.add_label(more[0].request_id, "bad", author="test")
        check_against_reference(store, evaluation)
        check_against_reference(store, EvaluationStore(store))  # and a console that starts now


def test_the_queue_order_on_postgresql():
    with postgres_schema_url() as url, Store(url) as store:
        evaluation = fill(store, random.Random(7))
        check_against_reference(store, evaluation)


def statements_to(store: Store, call) -> list[tuple[str, dict]]:
    """The statements `call` sends that read requests by request_id, with their parameters."""
    caught: list[tuple[str, dict]] = []

    def catch(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if "FROM requests" in statement and "request_id IN" in statement:
            caught.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", catch)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", catch)
    return caught


def test_only_the_newest_days_are_asked_and_only_once(tmp_path):
    """300 requests scored 0.0 on each of 40 days: the newest 20 are on the newest day, so the
    first build asks that day alone (the old statement sought every id on all 40 days, each
    build), and the next build asks nothing: what it learned is kept."""
    records = [
        parse_line(json.dumps(make_record(ts=FIRST_DAY + day * DAY + i * 60.0, request_id=f"req_{day:02d}_{i:03d}")))
        for day in range(DAYS)
        for i in range(300)
    ]
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.write(SourceBatch(records=records))
        evaluation = EvaluationStore(store)
        evaluation.write_scores([(r.request_id, "judge", 0.0, "why") for r in records])
        first = statements_to(store, lambda: evaluation.low_scored(0.5, 20))
        assert first and all("r.day = ?" in statement for statement, _ in first)
        assert {params[0] for _statement, params in first} == {int((FIRST_DAY + (DAYS - 1) * DAY) / DAY)}
        assert statements_to(store, lambda: evaluation.low_scored(0.5, 20)) == []
        assert evaluation.low_scored(0.5, 20) == reference(store, 0.5, 20)
        # a newer request scored low: only it is looked up, on the days it could be on
        newest = parse_line(json.dumps(make_record(ts=FIRST_DAY + DAYS * DAY - 1.0, request_id="req_newest")))
        store.write(SourceBatch(records=[newest]))
        evaluation.write_scores([("req_newest", "judge", 0.0, "why")])
        again = statements_to(store, lambda: evaluation.low_scored(0.5, 20))
        assert again and all(params[1:] == ("req_newest",) for _statement, params in again)
        assert evaluation.low_scored(0.5, 20)[0] == ("req_newest", 0.0)


def test_error_counts_read_on_from_the_last_row_counted(tmp_path):
    rng = random.Random(5)
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.write(SourceBatch(records=records_over_days(rng, 300)))
        evaluation = EvaluationStore(store)
        assert sorted(evaluation.provider_error_counts()) == sorted(error_counts(store.engine))
        store.write(SourceBatch(records=records_over_days(rng, 90, first=500)))
        caught: list = []
        event.listen(store.engine, "before_cursor_execute", lambda *args: caught.append(args[3]))
        assert sorted(evaluation.provider_error_counts()) == sorted(error_counts(store.engine))
        counting = [params for params in caught if isinstance(params, tuple) and len(params) == 2]
        assert counting == [(300, 390)]  # the rows stored since (ids 301-390), not the store again
        assert sorted(evaluation.provider_error_counts()) == sorted(error_counts(store.engine))


def test_the_open_queue_leaves_the_scoring_thread_room_to_score(tmp_path, write_log, monkeypatch):
    """A queue that takes 0.3 s to build (a big store's) is rebuilt at most every
    QUEUE_BUILD_SHARE times that while scores arrive, and the backlog is scored meanwhile;
    with every rebuild at QUEUE_INTERVAL, as before, the thread did little else."""
    from console.config import EvaluationSettings, Settings
    from console.evaluation import triage
    from console.ingest import ingest_files
    from console.live import evaluation_feed
    from console.live.evaluation_feed import EvaluationFeed
    from console.live.events import QueueReady
    from test_evaluation_scoring import with_suite_in

    builds: list[float] = []
    original = triage.build_queue

    def slow_build(evaluation, below, *args, **kwargs):  # as on a big store
        time.sleep(0.3)
        builds.append(time.monotonic())
        return original(evaluation, below, *args, **kwargs)

    monkeypatch.setattr(triage, "build_queue", slow_build)  # the feed imports it when it runs
    monkeypatch.setattr(evaluation_feed, "STEP_PAUSE", 0.05)
    path = write_log("a.jsonl", [make_record(request_id=f"r{i}", feedback=-1 if i % 4 == 0 else None) for i in range(20000)])
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        ingest_files(store, [str(path)])
    settings = with_suite_in(Settings(evaluation=EvaluationSettings(sample_rate=1.0)), tmp_path)
    posted: list = []
    feed = EvaluationFeed(posted.append, settings, f"sqlite:///{tmp_path / 'store.db'}")
    stop = threading.Event()
    thread = threading.Thread(target=feed.run, args=(stop.is_set,), daemon=True)
    feed.watch_queue(True)
    thread.start()
    try:
        time.sleep(4.0)
    finally:
        stop.set()
        feed.stop()
        thread.join(10)
    assert any(isinstance(m, QueueReady) and m.queue.items for m in posted)
    gaps = [later - earlier for earlier, later in zip(builds[1:], builds[2:])]
    assert gaps and min(gaps) >= 0.3 * evaluation_feed.QUEUE_BUILD_SHARE * 0.9, gaps
