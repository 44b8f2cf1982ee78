"""What the live tail hands on after a commit: the figures, not the bodies (the store has them)."""

from __future__ import annotations

from conftest import make_record
from console.store import Store
from console.store.evaluation import EvaluationStore
from console.live.ingest_thread import run_ingest
from console.live.events import RecordsArrived


def test_committed_records_go_on_without_their_bodies_which_the_store_keeps(tmp_path, write_log):
    records = [
        make_record(request_id="a", input="the question", output="the answer", latency_ms=812.5, cost_usd=0.25),
        make_record(request_id="b", status="error", error_message="boom", metadata={"k": "v"}, tags=["t"]),
    ]
    log = write_log("app.jsonl", records)
    arrived: list = []

    def post(message):
        if isinstance(message, RecordsArrived):
            arrived.extend(message.records)

    url = f"sqlite:///{tmp_path / 'store.db'}"
    run_ingest(post, lambda: len(arrived) >= 2, [str(log)], url)
    a, b = arrived
    assert (a.request_id, a.latency_ms, a.cost_usd, b.status) == ("a", 812.5, 0.25, "error")
    assert [(r.input, r.output, r.error_message, r.metadata, r.tags) for r in arrived] == [(None,) * 5] * 2
    with Store(url) as store:
        stored = EvaluationStore(store).records(["a", "b"])
    assert (stored["a"].input, stored["a"].output) == ("the question", "the answer")
    assert (stored["b"].error_message, stored["b"].metadata, stored["b"].tags) == ("boom", {"k": "v"}, ["t"])
