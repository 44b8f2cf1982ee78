"""Two consoles on one PostgreSQL team store both score in the background: neither may crash
or double a score.

Seen in the team-store trial: two consoles opened on one store a few seconds apart; one died
with IntegrityError (UniqueViolation on scoring_backlog_pkey, Key (low)=(0)) from
EvaluationStore.write_scores -> _save_backlog: DELETE then INSERT under READ COMMITTED
does not see the other transaction's committed insert."""

from __future__ import annotations

import threading

from console.store import Store
from console.store.evaluation import EvaluationStore
from test_postgres import needs_postgres, postgres_schema_url


@needs_postgres
def test_two_stores_saving_the_backlog_at_once_do_not_fail():
    with postgres_schema_url() as url:
        Store(url).close()
        stores = [Store(url), Store(url)]
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def score(evaluation: EvaluationStore) -> None:
            start.wait()
            try:
                for round_ in range(200):
                    scores = [("req-shared", "heuristic", round_ / 200, "scored by both consoles")]
                    evaluation.write_scores(scores, backlog=[(0, 1000 + round_)])
            except BaseException as exc:  # noqa: BLE001 - the failure is what the test reports
                errors.append(exc)

        threads = [threading.Thread(target=score, args=(EvaluationStore(s),)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors[0]
        kept = EvaluationStore(stores[0]).scores_of(["req-shared"])["req-shared"]
        backlog = EvaluationStore(stores[0]).scoring_backlog()
        for s in stores:
            s.close()
        assert len(kept) == 1, kept  # replaced, never doubled by two deletes before two inserts
        assert len(backlog) == 1, backlog
