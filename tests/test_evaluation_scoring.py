"""The scoring loop over a store (backlog, arrivals, resume, failures) and the triage queue."""

from __future__ import annotations

import pytest

from conftest import make_record
from console.cases.file import CaseFile
from console.config import EvaluationSettings, Settings, Slo
from console.evaluation.labels import Labeller
from console.evaluation.sampling import in_sample
from console.evaluation.scorers import Scorer, builtin_scorers
from console.evaluation.triage import FIRST_CHUNK, ScoringLoop, build_queue
from console.ingest import ingest_files
from console.store import Store
from console.store.evaluation import EvaluationStore

SETTINGS = Settings(slos=[Slo(max_ms=5000)], evaluation=EvaluationSettings(sample_rate=1.0))


@pytest.fixture
def store(tmp_path):
    opened = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


def ingest(store, write_log, name, records):
    ingest_files(store, [str(write_log(name, records))])


def test_the_backlog_is_scored_in_chunks_with_progress(store, write_log):
    ingest(store, write_log, "a.jsonl", [make_record() for _ in range(1200)])
    evaluation = EvaluationStore(store)
    loop = ScoringLoop(evaluation, SETTINGS)
    assert (loop.done, loop.total) == (0, 1200)
    seen = []
    scored = loop.run_backlog(lambda done, total, step: seen.append((done, total)))
    assert scored == 1200
    assert seen[:4] == [(FIRST_CHUNK, 1200), (FIRST_CHUNK + 500, 1200), (FIRST_CHUNK + 1000, 1200), (1200, 1200)]
    assert evaluation.count_scored() == 1200


def test_the_newest_are_scored_first_and_the_first_batch_is_small(store, write_log):
    """The triage queue's first entries are what happens now, not the log's first lines."""
    records = [make_record() for _ in range(1200)]
    ingest(store, write_log, "a.jsonl", records)
    evaluation = EvaluationStore(store)
    loop = ScoringLoop(evaluation, SETTINGS)
    assert loop.step().seen == FIRST_CHUNK < 500
    newest = {r["request_id"] for r in records[-FIRST_CHUNK:]}
    assert set(evaluation.scores_of(r["request_id"] for r in records)) == newest
    ingest(store, write_log, "b.jsonl", later := [make_record() for _ in range(7)])
    assert loop.step(limit=7).seen == 7  # arrivals go before the rest of the backlog
    assert set(evaluation.scores_of(r["request_id"] for r in later)) == {r["request_id"] for r in later}
    assert not evaluation.scores_of(r["request_id"] for r in records[: -FIRST_CHUNK])


def test_a_console_closed_mid_backlog_leaves_the_rest_to_the_next(store, write_log):
    records = [make_record() for _ in range(1200)]
    ingest(store, write_log, "a.jsonl", records)
    evaluation = EvaluationStore(store)
    loop = ScoringLoop(evaluation, SETTINGS)
    loop.step(), loop.step()  # the newest 600 scored, then the console closes
    ingest(store, write_log, "b.jsonl", later := [make_record() for _ in range(30)])
    again = ScoringLoop(evaluation, SETTINGS)
    assert again.total == 600 + 30
    first = again.step(limit=30)
    assert first.seen == 30
    assert set(evaluation.scores_of(r["request_id"] for r in later)) == {r["request_id"] for r in later}
    again.run_backlog()
    assert evaluation.count_scored() == 1230 and evaluation.scoring_backlog() == []
    assert ScoringLoop(evaluation, SETTINGS).total == 0


def test_only_the_sample_and_the_always_included_are_scored(store, write_log):
    records = [make_record() for _ in range(400)]
    records[0]["status"], records[1]["feedback"] = "error", -1
    ingest(store, write_log, "a.jsonl", records)
    settings = Settings(evaluation=EvaluationSettings(sample_rate=0.1))
    evaluation = EvaluationStore(store)
    ScoringLoop(evaluation, settings).run_backlog()
    expected = {r["request_id"] for r in records if in_sample(r["request_id"], 0.1)} | {
        records[0]["request_id"], records[1]["request_id"]
    }
    assert set(evaluation.scores_of(r["request_id"] for r in records)) == expected


def test_arrivals_are_scored_and_a_restart_resumes(store, write_log):
    evaluation = EvaluationStore(store)
    ingest(store, write_log, "a.jsonl", [make_record() for _ in range(30)])
    loop = ScoringLoop(evaluation, SETTINGS)
    loop.run_backlog()
    ingest(store, write_log, "b.jsonl", [make_record() for _ in range(5)])
    assert loop.step().scored == 5
    assert loop.step().seen == 0
    again = ScoringLoop(evaluation, SETTINGS)  # a new console on the same store
    assert again.total == 0 and again.step().seen == 0


def test_a_failing_scorer_is_reported_per_request_and_the_rest_are_stored(store, write_log):
    records = [make_record(), make_record(status="error", output=None)]
    ingest(store, write_log, "a.jsonl", records)

    def flaky(record):
        if record.status == "error":
            raise RuntimeError("cannot read the output")
        return 1.0, "fine"

    evaluation = EvaluationStore(store)
    loop = ScoringLoop(evaluation, SETTINGS, [*builtin_scorers(SETTINGS), Scorer("flaky", flaky)])
    step = loop.step()
    assert [(f.scorer, f.request_id) for f in step.failures] == [("flaky", records[1]["request_id"])]
    assert "cannot read the output" in str(step.failures[0]) and loop.failure_count == 1
    scores = evaluation.scores_of([records[1]["request_id"]])[records[1]["request_id"]]
    assert scores[0][:2] == ("error", 0.0)


def test_the_queue_puts_the_lowest_unlabelled_first_with_reasons(store, write_log, tmp_path):
    records = [
        make_record(),  # fine: not in the queue
        make_record(finish_reason="length"),  # 0.3
        make_record(status="error", error_type="BadRequestError", output=None),  # 0 (a provider error would not be: see below)
        make_record(output="I'm sorry, but I can't help with that."),  # 0.2
        make_record(latency_ms=9000.0),  # 0.4
    ]
    ingest(store, write_log, "a.jsonl", records)
    evaluation = EvaluationStore(store)
    ScoringLoop(evaluation, SETTINGS).run_backlog()
    queue = build_queue(evaluation, 0.5)
    assert [item.request_id for item in queue.items] == [records[i]["request_id"] for i in (2, 3, 1, 4)]
    assert queue.left == 4
    assert queue.items[0].reasons(0.5) == ["error: BadRequestError"]
    assert queue.items[3].reasons(0.5) == ["latency: 9.00s, over the 5.00s SLO"]

    labeller = Labeller(evaluation, CaseFile(tmp_path / "cases.jsonl"), author="ana")
    labeller.mark(records[3]["request_id"], "bad", "unsafe")
    labeller.mark(records[0]["request_id"], "bad", "tone")  # labelled from the detail: high score
    queue = build_queue(evaluation, 0.5)
    assert queue.left == 3
    assert [item.request_id for item in queue.items] == [records[i]["request_id"] for i in (2, 1, 4, 0, 3)]
    assert [item.verdict for item in queue.items] == [None, None, None, "bad", "bad"]
    assert queue.items[3].score == 1.0


def test_the_queue_counts_what_it_does_not_show(store, write_log):
    ingest(store, write_log, "a.jsonl", [make_record(status="error", output=None) for _ in range(30)])
    evaluation = EvaluationStore(store)
    ScoringLoop(evaluation, SETTINGS).run_backlog()
    queue = build_queue(evaluation, 0.5, limit=10)
    assert len(queue.items) == 10 and queue.left == 30


def test_a_step_yields_between_requests_when_asked(store, write_log):
    ingest(store, write_log, "a.jsonl", [make_record() for _ in range(10)])
    evaluation = EvaluationStore(store)
    loop = ScoringLoop(evaluation, SETTINGS)
    step = loop.step(interrupt=lambda: True)
    assert (step.seen, step.scored, loop.done) == (1, 1, 1)
    assert loop.run_backlog() == 9
    assert evaluation.count_scored() == 10


def test_the_scoring_thread_steps_aside_while_the_user_works(store, write_log, tmp_path, monkeypatch):
    """After a key or a click, a backlog waits QUIET_AFTER_INPUT (all but its first, small batch:
    the triage queue's first entries); a label is still saved at once."""
    import threading
    import time

    from console.live import evaluation_feed
    from console.live.events import LabelDone
    from console.live.evaluation_feed import EvaluationFeed

    monkeypatch.setattr(evaluation_feed, "QUIET_AFTER_INPUT", 0.6)
    ingest(store, write_log, "a.jsonl", [make_record(request_id=f"r{i}") for i in range(3000)])
    settings = with_suite_in(SETTINGS, tmp_path)
    posted: list = []
    feed = EvaluationFeed(posted.append, settings, store.url)
    stop = threading.Event()
    feed.user_active()  # the user is at the keys when scoring would start
    thread = threading.Thread(target=feed.run, args=(stop.is_set,), daemon=True)
    thread.start()
    try:
        feed.mark("r7", "bad")
        deadline = time.monotonic() + 10
        while not any(isinstance(m, LabelDone) for m in posted) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert any(isinstance(m, LabelDone) for m in posted), "the label waited for nothing"
        time.sleep(0.3)
        assert EvaluationStore(store).count_scored() <= FIRST_CHUNK  # the first small batch only, then quiet
        deadline = time.monotonic() + 20
        while EvaluationStore(store).count_scored() < 3000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert EvaluationStore(store).count_scored() == 3000  # then the backlog goes on
    finally:
        stop.set()
        feed.stop()
        thread.join(10)


def with_suite_in(settings, tmp_path):
    """SETTINGS with the regression set in tmp_path (marking bad writes a case there)."""
    import msgspec

    return msgspec.structs.replace(
        settings, regression=msgspec.structs.replace(settings.regression, suite=str(tmp_path / "cases.jsonl"))
    )
