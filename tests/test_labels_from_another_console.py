"""A label given in another console on the same store reaches this one: its figures' bad rate
(the analytics feed) and its triage queue.

Found in the team-store trial: two consoles on one PostgreSQL store; a request marked bad in
one showed 20.0% bad on its version in that console's Versions pane and 0% in the other's,
however long it was left, and the other's triage queue did not list the label."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from conftest import make_record
from console.cases.file import CaseFile
from console.config import EvaluationSettings, Settings
from console.evaluation.labels import Labeller
from console.ingest import ingest_files
from console.live.evaluation_feed import EvaluationFeed
from console.live.events import QueueReady
from console.store import Store
from console.store.evaluation import EvaluationStore


class Analytics:
    """What the evaluation feed tells the analytics feed, and what it reads of it (the figures'
    window and clock, for the provider-error lines: 9b77c26)."""

    window = "all"
    clock = SimpleNamespace(now=time.time)

    def __init__(self) -> None:
        self.applied: list[dict[str, str | None]] = []

    def apply_labels(self, verdicts: dict[str, str | None]) -> None:
        self.applied.append(dict(verdicts))

    def verdict_of(self, request_id: str) -> str | None | bool:
        found: str | None | bool = False  # False: never told
        for verdicts in self.applied:
            found = verdicts.get(request_id, found)
        return found


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_label_made_in_another_console_reaches_this_ones_figures_and_queue(tmp_path, write_log):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    ingest_files(store, [str(write_log("a.jsonl", [make_record(request_id=f"r{i}") for i in range(20)]))])
    settings = Settings(evaluation=EvaluationSettings(sample_rate=1.0))
    posted: list = []
    analytics = Analytics()
    feed = EvaluationFeed(posted.append, settings, store.url, analytics=analytics)  # this console
    stop = threading.Event()
    thread = threading.Thread(target=feed.run, args=(stop.is_set,), daemon=True)
    thread.start()
    other = Labeller(EvaluationStore(store), CaseFile(tmp_path / "cases.jsonl"), author="other")  # the other console
    try:
        feed.watch_queue(True)
        assert _wait_for(lambda: any(isinstance(m, QueueReady) for m in posted))
        other.mark("r3", "bad", "wrong answer")
        assert _wait_for(lambda: analytics.verdict_of("r3") == "bad"), analytics.applied

        def queue_shows(verdict):
            queues = [m.queue for m in posted if isinstance(m, QueueReady)]
            return bool(queues) and any(
                item.record.request_id == "r3" and item.verdict == verdict for item in queues[-1].items
            )

        assert _wait_for(lambda: queue_shows("bad"))
        other.undo()
        assert _wait_for(lambda: analytics.verdict_of("r3") is None), analytics.applied
    finally:
        stop.set()
        feed.stop()
        thread.join(10)
        store.close()
