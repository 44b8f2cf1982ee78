"""Rated requests (found in the demo's user trial: versions nobody rated showed "0%" bad, and
`compare` could call a rated version worse than them). A request is rated when it has a
label, or unlabelled a feedback value; a bad rate is bad / rated, None when nothing is.

Both paths, rows and rollup cells, on SQLite and PostgreSQL: the same rated and bad per
version, labels included (a label rates a row without feedback; removing it un-rates it), and
a store of schema 9 (no rated in its cells) gets them counted on open."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from conftest import make_record
from console.commands.compare import run as run_compare
from console.commands.report import make_report
from console.config import Settings
from console.records import parse_line
from console.sources.base import SourceBatch
from console.store import Store
from console.store.evaluation import EvaluationStore
from console.store.schema_facts import CURRENT_VERSION
from tests.test_postgres import postgres_schema_url

END = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
NOW = "2026-11-20T12:00:00Z"
HOURS = 60  # of history, one request of each version every 20 minutes: whole days in cells


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _records() -> list[dict]:
    """rated: all with feedback (every 5th thumbs down); sparse: feedback on every 10th;
    unrated: none (the demo's support-answer@v6)."""
    made = []
    for step in range(HOURS * 3):
        moment = END - timedelta(minutes=20 * step + 7)
        for version in ("rated", "sparse", "unrated"):
            feedback = {"rated": -1 if step % 5 == 0 else 1, "sparse": (-1 if step % 20 == 0 else 1) if step % 10 == 0 else None,
                        "unrated": None}[version]  # fmt: skip
            made.append(make_record(ts=_iso(moment), request_id=f"req_{version}_{step:04d}", prompt_version=version,
                                    feedback=feedback))  # fmt: skip
    return made


def _store(url: str) -> Store:
    store = Store(url)
    store.write(SourceBatch(records=[parse_line(msgspec.json.encode(r).decode()) for r in _records()]))
    return store


def _versions(url: str, since: str, exact: bool) -> dict[str, tuple]:
    report = make_report([], store=url, since=since, settings=Settings(), now=NOW,
                         exact_max_rows=10**9 if exact else 0)  # fmt: skip
    assert report.figures.source == ("rows" if exact else "rollups")
    return {v.prompt_version: (v.requests, v.bad, v.rated, v.bad_rate) for v in report.versions}


def _both(url: str) -> dict[str, tuple]:
    """The versions on both paths over windows whose cells are days, hours and minutes."""
    found = None
    for since in ("all", "24h", "6h"):
        rows, cells = _versions(url, since, exact=True), _versions(url, since, exact=False)
        assert rows == cells, since
        if since == "all":
            found = rows
    return found


def _check_labels(url: str) -> None:
    with _store(url) as store:
        before = _both(url)
        steps = HOURS * 3
        assert before["rated"] == (steps, len(range(0, steps, 5)), steps, pytest.approx(len(range(0, steps, 5)) / steps))
        assert before["sparse"][2] == len(range(0, steps, 10))
        assert before["unrated"] == (steps, 0, 0, None)  # not "0%"

        evaluation = EvaluationStore(store)
        # on rows of the whole days (cells) and of the exact tail: rated by the label alone
        old = [evaluation.add_label(f"req_unrated_{step:04d}", verdict, author="test")
               for step, verdict in ((150, "bad"), (151, "good"), (2, "good"))]  # fmt: skip
        evaluation.add_label("req_sparse_0020", "good", author="test")  # over thumbs down: rated still, not bad
        evaluation.add_label("req_sparse_0011", "bad", author="test")  # no feedback: now rated, bad
        labelled = _both(url)
        assert labelled["unrated"] == (steps, 1, 3, pytest.approx(1 / 3))
        sparse = before["sparse"]
        assert labelled["sparse"] == (steps, sparse[1] - 1 + 1, sparse[2] + 1, pytest.approx(sparse[1] / (sparse[2] + 1)))

        for label in old:  # the labels removed: unrated again, on both paths
            evaluation.deactivate(label.id)
        assert _both(url)["unrated"] == (steps, 0, 0, None)


def test_rated_and_bad_agree_on_rows_and_rollups_with_labels(tmp_path):
    _check_labels(f"sqlite:///{tmp_path / 'store.db'}")


def test_postgres_rated_and_bad_agree_on_rows_and_rollups_with_labels():
    with postgres_schema_url() as url:
        _check_labels(url)


@pytest.mark.parametrize("exact", [True, False], ids=["rows", "rollups"])
def test_compare_never_calls_an_unrated_arm_better_or_worse(tmp_path, exact):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _store(url).close()
    found = run_compare("version=rated", "version=unrated", store=url, as_json=True,
                        exact_max_rows=10**9 if exact else 0)  # fmt: skip
    assert found.figures == ("rows" if exact else "rollups")
    assert (found.a.rated, found.b.rated, found.b.bad_rate, found.b.bad_rate_ci) == (HOURS * 3, 0, None, None)
    assert found.differences["bad_rate"].p_value is None and not found.differences["bad_rate"].significant
    bad = [f for f in found.findings if f.metric == "bad_rate"]
    assert [(f.kind, f.text) for f in bad] == [("not_enough_data", "bad rate: not compared, no ratings in unrated")]
    assert not any("significant" == f.kind and "bad rate" in f.text for f in found.findings)
    # 18 rated in sparse (every 10th): too few to conclude, said so with the counts
    few = run_compare("version=rated", "version=sparse", store=url, as_json=True, exact_max_rows=10**9 if exact else 0)
    assert [f.text for f in few.findings if f.metric == "bad_rate"] == [
        f"bad rate: not compared, not enough rated requests (18 in sparse, {HOURS * 3} in rated)"
    ]


CELLS = ("SELECT span, bucket, model, prompt_id, prompt_version, prompt_hash, environment, is_error, requests, bad, "
             "rated, latency FROM rollups ORDER BY 1, 2, 3, 4, 5, 6, 7, 8")  # fmt: skip


def _check_migration(url: str) -> None:
    from sqlalchemy import text

    with _store(url) as store:
        EvaluationStore(store).add_label("req_unrated_0150", "bad", author="test")
        expected = _both(url)
        with store.engine.begin() as conn:
            written = [tuple(r) for r in conn.execute(text(CELLS))]
            assert sum(r[10] for r in written if r[0] == 3600) == HOURS * 3 + len(range(0, HOURS * 3, 10))
            conn.execute(text("ALTER TABLE rollups DROP COLUMN rated"))  # schema 9's shape
            conn.execute(text("UPDATE schema_version SET version = 9 WHERE version = 10"))  # a new store has one row
    with Store(url) as store, store.engine.connect() as conn:
        assert conn.execute(text("SELECT max(version) FROM schema_version")).scalar() == CURRENT_VERSION
        assert [tuple(r) for r in conn.execute(text(CELLS))] == written  # every span's cells, as written
    assert _both(url) == expected


def test_a_store_from_before_rated_gets_its_cells_counted(tmp_path):
    _check_migration(f"sqlite:///{tmp_path / 'store.db'}")


def test_postgres_store_from_before_rated_gets_its_cells_counted():
    with postgres_schema_url() as url:
        _check_migration(url)
